"""LAY: the bundle holds exactly the files the stage requires (LAY001-LAY003), each one readable
(LAY005)."""
from __future__ import annotations

import fnmatch
import re
from typing import Iterator

from expreview.bundle import Bundle
from expreview.facts.task import required_for_task
from expreview.findings import CRASH, CRITERION, ERROR
from expreview.rule import Example, Hit, rule

BASE_FILES = {
    "src/train.py": "import json\n",
    "src/evaluate.py": "import json\n",
    "src/preprocess.py": "import os\n",
    "src/model.py": "import os\n",
    "src/main.py": "import sys\n",
    "pyproject.toml": '[project]\nname = "x"\nversion = "0.1.0"\n',
    "config/smoke_test.yaml": "runs: []\n",
    "config/full_experiment.yaml": "runs: []\n",
}


def required_files(bundle: Bundle) -> list[str]:
    """The stage's files, and the task's module where the stage asks for one (template: src/train.py
    for a training task, src/inference.py for an inference one)."""
    listed = list(bundle.option("files", []))
    return listed + [p for p in required_for_task(bundle) if p not in listed]


def _allowed_extra(bundle: Bundle, path: str) -> bool:
    patterns = list(bundle.option("extra_files_allowed", []) or [])
    runs_dir = bundle.option("runs_dir")  # one run config per run, where the stage keeps them
    if runs_dir:
        patterns += [f"{runs_dir}/*.yaml", f"{runs_dir}/*.yml"]
    for pattern in patterns:
        if fnmatch.fnmatch(path, pattern):
            return True
    return False


def counts_as_code(path: str) -> bool:
    """Files that make up the experiment (docs, licences, lock files and dotfiles do not)."""
    name = path.rsplit("/", 1)[-1]
    return (
        path.endswith(".py")
        or path.startswith(("src/", "config/"))
        or name in ("setup.py", "setup.cfg", "pyproject.toml")
        or re.fullmatch(r"requirements.*\.txt", name) is not None
    )


@rule(
    code="LAY001", name="required-file-missing", severity=ERROR,
    consequence=CRASH,
    criterion="The bundle contains every required file of the stage's layout.",
    rationale="The pipeline runs `python -m src.main` with fixed paths; a missing file fails the "
              "run at its first import or config read.",
    invalid=[Example(files={k: v for k, v in BASE_FILES.items() if k != "src/model.py"})],
    valid=[Example(files=BASE_FILES)],
)
def missing_file(bundle: Bundle) -> Iterator[Hit]:
    for path in required_files(bundle):
        if path not in bundle.files:
            yield Hit(path, f"required file {path} is missing; add it (the {bundle.stage} layout is: "
                            f"{', '.join(required_files(bundle))})")


@rule(
    code="LAY002", name="extra-file", severity=ERROR,
    consequence=CRITERION,
    criterion="No additional utility files, helper modules, or separate components: all "
              "functionality lives in the required files.",
    rationale="The pipeline copies only the required files; a helper module or `src/__init__.py` "
              "is lost and any import of it fails.",
    invalid=[Example(files={**BASE_FILES, "src/utils.py": """
        def helper():
            return 1
        """})],
    valid=[Example(files={**BASE_FILES, "README.md": "# notes\n"})],
)
def extra_file(bundle: Bundle) -> Iterator[Hit]:
    required = set(required_files(bundle))
    for path in bundle.paths():
        if path in required or not counts_as_code(path) or _allowed_extra(bundle, path):
            continue
        yield Hit(path, f"{path} is not one of the required files; move its code into the required "
                        "files and delete it")


@rule(
    code="LAY003", name="required-file-empty", severity=ERROR,
    consequence=CRASH,
    criterion="Every required file is implemented (no empty files).",
    rationale="An empty module imports fine and then fails at the first attribute it should define.",
    invalid=[Example(files={**BASE_FILES, "src/model.py": "\n"})],
    valid=[Example(files=BASE_FILES)],
)
def empty_file(bundle: Bundle) -> Iterator[Hit]:
    for path in required_files(bundle):
        text = bundle.files.get(path)
        if text is not None and not text.strip() and path not in bundle.unreadable:
            yield Hit(path, f"{path} is empty; implement it")



@rule(
    code="LAY005", name="unreadable-file", severity=ERROR,
    consequence=CRASH,
    criterion="Every file of the bundle is source text that can be reviewed: UTF-8, no NUL bytes, "
              "of a reasonable size.",
    rationale="A binary, non-UTF-8 or huge file cannot be what the pipeline meant to generate, and "
              "Python refuses to import it; expreview reports it instead of guessing at its content.",
    invalid=[Example(files={}, raw={"src/model.py": b"\x89PNG\r\n\x1a\n\x00\x00"}),
             Example(files={}, raw={"src/model.py": "x = 'caf\u00e9'\n".encode("latin-1")})],
    valid=[Example(files={}, raw={"src/model.py": "x = 'caf\u00e9'\n".encode("utf-8")})],
)
def unreadable_file(bundle: Bundle) -> Iterator[Hit]:
    for path, reason in sorted(bundle.unreadable.items()):
        yield Hit(path, f"{path} {reason}; it was not reviewed")
