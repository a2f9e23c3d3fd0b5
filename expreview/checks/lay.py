"""LAY: the bundle holds exactly the files the stage requires."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterator, Optional

from expreview.bundle import Bundle
from expreview.checks.dep.rules import declared
from expreview.facts.project_imports import project_module
from expreview.findings import CRASH, CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Import

_BASE_FILES = {
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
    return list(bundle.option("files", []))


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
    invalid=[Example(files={k: v for k, v in _BASE_FILES.items() if k != "src/model.py"})],
    valid=[Example(files=_BASE_FILES)],
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
    invalid=[Example(files={**_BASE_FILES, "src/utils.py": """
        def helper():
            return 1
        """})],
    valid=[Example(files={**_BASE_FILES, "README.md": "# notes\n"})],
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
    invalid=[Example(files={**_BASE_FILES, "src/model.py": "\n"})],
    valid=[Example(files=_BASE_FILES)],
)
def empty_file(bundle: Bundle) -> Iterator[Hit]:
    for path in required_files(bundle):
        text = bundle.files.get(path)
        if text is not None and not text.strip() and path not in bundle.unreadable:
            yield Hit(path, f"{path} is empty; implement it")


_SIBLINGS = ("train", "evaluate", "preprocess", "model", "main")


@rule(
    code="LAY004", name="unresolvable-project-import", severity=ERROR,
    consequence=CRASH,
    criterion="Import statements are compatible with `uv run python -m src.main` execution.",
    rationale="Under `python -m src.main` only the repository root is on sys.path: `import train` "
              "fails, and `from src.utils import x` fails when src/utils.py is not in the bundle.",
    invalid=[
        Example(files={**_BASE_FILES, "src/train.py": "from src.utils import set_seed\n"}, line=1, message='which is not in the bundle'),
        Example(files={**_BASE_FILES, "src/train.py": "from model import Net\n"}, line=1),
        Example(files={**_BASE_FILES, "src/train.py": "from .helpers import x\n"}, line=1),
    ],
    valid=[Example(files={**_BASE_FILES, "src/train.py": """
        from src.model import Net
        from . import preprocess
        """,
                          "src/model.py": """
                              class Net:
                                  pass
                              """})],
)
def unresolvable_import(bundle: Bundle) -> Iterator[Hit]:
    # `import evaluate` is Hugging Face's library when the project declares it.
    distributions = {d.name.lower() for d in declared(bundle) or []}
    for source in bundle.python_files():
        if not source.path.startswith("src/"):
            continue
        for imp in source.index.imports:
            problem = _unresolved(bundle, imp)
            if problem is None:
                continue
            shown = problem.shown
            if problem.kind is ImportProblem.SIBLING:
                name = problem.target
                if name in distributions:
                    continue
                yield Hit(source.path, f"`{shown}` is a bare import of the sibling module {name}; it fails under "
                                       f"`python -m src.main`. Write `from src import {name}` or "
                                       f"`from src.{name} import …`", imp.node)
            else:
                yield Hit(source.path, f"`{shown}` imports {problem.target}, which is not in the bundle; "
                                       "move the code into one of the required files", imp.node)


class ImportProblem(Enum):
    MISSING = "missing"  # names a project module the bundle lacks
    SIBLING = "sibling"  # a bare `import train`, which only works with src/ on sys.path


@dataclass
class Unresolved:
    kind: ImportProblem
    target: str  # the missing module's path (src/utils.py), or the sibling's name (train)
    shown: str  # how the import reads


def _unresolved(bundle: Bundle, imp: Import) -> Optional[Unresolved]:
    """Why an import fails under `python -m src.main`, or None when it does not."""
    if imp.level > 1:
        return None
    module = project_module(imp)
    if module is None:  # an absolute import outside src: a bare sibling name, or not the project's
        module = imp.module
        top = module.split(".")[0]
        if imp.name is None and top in _SIBLINGS or imp.name is not None and module in _SIBLINGS:
            if f"src/{top}.py" in bundle.files or top in _SIBLINGS:
                shown = f"import {module}" if imp.name is None else f"from {module} import {imp.name}"
                return Unresolved(ImportProblem.SIBLING, top, shown)
        return None
    shown = f"from {'.' * imp.level}{imp.module} import {imp.name}" if imp.name else f"import {imp.module}"
    parts = module.split(".")
    if len(parts) == 1:  # `from src import x` / `from . import x`: x must be a module or a name in src/__init__
        if imp.name in (None, "*"):
            return None
        if f"src/{imp.name}.py" in bundle.files or "src/__init__.py" in bundle.files:
            return None
        return Unresolved(ImportProblem.MISSING, f"src/{imp.name}.py", shown)
    path = "/".join(parts) + ".py"
    package = "/".join(parts) + "/__init__.py"
    if path in bundle.files or package in bundle.files:
        return None
    return Unresolved(ImportProblem.MISSING, path, shown)


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
