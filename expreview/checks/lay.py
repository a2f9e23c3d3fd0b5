"""LAY: the bundle holds exactly the files the stage requires."""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.dep.common import declared
from expreview.facts.literals import literal
from expreview.facts.project_imports import project_module
from expreview.facts.values import resolve
from expreview.findings import CRASH, CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, Import, Index, dotted_name, encloses, iter_subtree
from expreview.sources.pyfile import PythonSource

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
              "fails (unless the file first puts its own directory on sys.path), and `from src.utils "
              "import x` fails when src/utils.py is not in the bundle. A try/except ImportError pair "
              "passes when one branch imports a module the bundle has.",
    invalid=[
        Example(files={**_BASE_FILES, "src/train.py": "from src.utils import set_seed\n"}, line=1, message='which is not in the bundle'),
        Example(files={**_BASE_FILES, "src/train.py": "from model import Net\n"}, line=1),
        Example(files={**_BASE_FILES, "src/train.py": "from .helpers import x\n"}, line=1),
        Example(files={**_BASE_FILES, "src/train.py": """
            import sys
            from pathlib import Path
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from model import Net
            """}, line=4, message="bare import of the sibling module model"),  # the repository root, not src/
        Example(files={**_BASE_FILES, "src/train.py": """
            import os
            import sys
            from model import Net
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            """}, line=3),  # src/ goes on sys.path after the import
        Example(files={**_BASE_FILES, "src/train.py": """
            try:
                from .helpers import x
            except ImportError:
                from helpers import x
            """}, line=2, message="src/helpers.py"),  # neither branch finds a module
    ],
    valid=[Example(files={**_BASE_FILES, "src/train.py": """
        from src.model import Net
        from . import preprocess
        """,
                          "src/model.py": """
                              class Net:
                                  pass
                              """}),
           Example(files={**_BASE_FILES, "src/train.py": """
               import os
               import sys
               from pathlib import Path
               sys.path.append(str(Path(__file__).resolve().parent))
               from preprocess import load
               HERE = os.path.dirname(os.path.abspath(__file__))
               if HERE not in sys.path:
                   sys.path.insert(0, HERE)
               from model import Net
               """}),  # src/ itself goes on sys.path first
           Example(files={**_BASE_FILES, "src/train.py": """
               try:
                   from .model import Net
               except ImportError:
                   from model import Net
               try:
                   import preprocess
               except ModuleNotFoundError:
                   from src import preprocess
               """})],  # one branch works under `python -m src.main`
)
def unresolvable_import(bundle: Bundle) -> Iterator[Hit]:
    # `import evaluate` is Hugging Face's library when the project declares it.
    distributions = {d.name.lower() for d in declared(bundle) or []}
    for source in bundle.python_files():
        if not source.path.startswith("src/"):
            continue
        for imp in source.index.imports:
            problem = _unresolved(bundle, imp)
            if problem is None or _has_working_alternative(bundle, source, imp):
                continue
            shown = problem.shown
            if problem.kind is ImportProblem.SIBLING:
                name = problem.target
                if name in distributions or _own_directory_on_path(source, imp):
                    continue
                yield Hit(source.path, f"`{shown}` is a bare import of the sibling module {name}; it fails under "
                                       f"`python -m src.main`. Write `from src import {name}` or "
                                       f"`from src.{name} import …`", imp.node)
            else:
                yield Hit(source.path, f"`{shown}` imports {problem.target}, which is not in the bundle; "
                                       "move the code into one of the required files", imp.node)


_PATH_WRAPPERS = ("str", "os.fspath", "os.path.abspath", "os.path.realpath", "os.path.normpath",
                  "pathlib.Path", "pathlib.PurePath")
_PATH_METHODS = ("resolve", "absolute")


def _callee(index: Index, call: cst.Call, scope: Optional[Function]) -> str:
    """The callee of `call` with its import alias resolved (`Path` -> `pathlib.Path`)."""
    name = dotted_name(call.func)
    head, _, rest = name.partition(".")
    aliases = index.aliases(scope)
    return aliases[head] + ("." + rest if rest else "") if head in aliases else name


def _unwrapped(index: Index, expr: cst.CSTNode, scope: Optional[Function]) -> cst.CSTNode:
    """`expr` without the calls that keep the path it names: str(), Path(), abspath(), .resolve()..."""
    for _ in range(8):
        expr = resolve(index, expr, scope)
        if not isinstance(expr, cst.Call):
            return expr
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _PATH_METHODS and not expr.args:
            expr = func.value
        elif _callee(index, expr, scope) in _PATH_WRAPPERS and len(expr.args) == 1:
            expr = expr.args[0].value
        else:
            return expr
    return expr


def _names_this_file(index: Index, expr: cst.CSTNode, scope: Optional[Function]) -> bool:
    expr = _unwrapped(index, expr, scope)
    return isinstance(expr, cst.Name) and expr.value == "__file__"


def _names_own_directory(index: Index, expr: cst.CSTNode, scope: Optional[Function]) -> bool:
    """`expr` is the directory of this file: `Path(__file__).resolve().parent`,
    `os.path.dirname(os.path.abspath(__file__))` (through str(), a name assigned once...)."""
    expr = _unwrapped(index, expr, scope)
    if isinstance(expr, cst.Attribute) and expr.attr.value == "parent":
        return _names_this_file(index, expr.value, scope)
    if (isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Attribute)
            and expr.value.attr.value == "parents" and len(expr.slice) == 1
            and isinstance(expr.slice[0].slice, cst.Index) and literal(expr.slice[0].slice.value) == 0):
        return _names_this_file(index, expr.value.value, scope)
    if isinstance(expr, cst.Call) and _callee(index, expr, scope) == "os.path.dirname" and len(expr.args) == 1:
        return _names_this_file(index, expr.args[0].value, scope)
    return False


def _own_directory_on_path(source: PythonSource, imp: Import) -> bool:
    """Before the import, in its scope or at module level, the file puts its own directory on
    sys.path (`sys.path.insert(0, str(Path(__file__).parent))`): then a bare sibling import works."""
    index = source.index
    for call in index.calls_to("sys.path.insert", "sys.path.append"):
        if call.stmt >= imp.stmt:
            continue
        if call.scope is not None and (imp.scope is None or not encloses(call.scope, imp.scope)):
            continue
        arg = call.positional(1 if call.method == "insert" else 0)
        if arg is not None and _names_own_directory(index, arg, call.scope):
            return True
    return False


def _catches_import_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
    names = [dotted_name(t.value if isinstance(t, cst.Element) else t) for t in types]
    return any(n in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException") for n in names)


def _has_working_alternative(bundle: Bundle, source: PythonSource, imp: Import) -> bool:
    """The import is one branch of `try: from .x import y` / `except ImportError: from x import y`,
    and the other branch binds the same name from a project module the bundle has: under
    `python -m src.main` either the try succeeds, or its failure falls back to a working import."""
    index = source.index
    for ordinal, stmt in enumerate(index.statements):
        if not isinstance(stmt, cst.Try) or not ordinal < imp.stmt <= index.last_inside.get(ordinal, ordinal):
            continue
        handlers = [h for h in stmt.handlers if _catches_import_error(h)]
        body = {id(n) for n in iter_subtree(stmt.body)}
        caught = {id(n) for h in handlers for n in iter_subtree(h.body)}
        if id(imp.node) in body:
            other = caught
        elif id(imp.node) in caught:
            other = body
        else:
            continue
        for alt in index.imports:
            if (id(alt.node) in other and alt.alias == imp.alias and project_module(alt) is not None
                    and _unresolved(bundle, alt) is None):
                return True
    return False


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
