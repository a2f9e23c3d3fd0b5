"""LAY004: every project import works the way each file is started: under `python -m src.main`
only the repository root is on sys.path; a file started as a script (`python src/train.py`) has its
own directory there instead, and no parent package."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.dep.common import declared
from expreview.checks.lay.files import BASE_FILES
from expreview.facts.child_env import child_finds_src
from expreview.facts.launches import launches
from expreview.facts.literals import literal
from expreview.facts.project_imports import project_module
from expreview.facts.script_launches import ScriptLaunch, script_launches
from expreview.facts.values import resolve
from expreview.edits import SAFE, Edit, Fix
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, Import, Index, dotted_name, encloses, iter_subtree
from expreview.sources.pyfile import PythonSource
from expreview.sources.python_edits import replace_node

_SCRIPT_MAIN = """
import subprocess
import sys
from pathlib import Path

def main():
    subprocess.run([sys.executable, str(Path(__file__).parent / "train.py")], check=True)
"""
_SIBLINGS = ("train", "evaluate", "preprocess", "model", "main")


def _package_import(source: PythonSource, imp: Import) -> Optional[Edit]:
    """`from train import x` -> `from src.train import x`; `import train [as t]` -> `from src import
    train [as t]`: the same names bound, from the package `python -m src.main` can import."""
    if imp.level or not imp.module or imp.stmt >= len(source.index.statements):
        return None
    line = source.index.statements[imp.stmt]
    small = line.body if isinstance(line, cst.SimpleStatementLine) else [line]
    for statement in small:
        if isinstance(statement, cst.ImportFrom) and not isinstance(statement.names, cst.ImportStar) \
                and any(alias is imp.node for alias in statement.names):
            module = cst.parse_expression(f"src.{imp.module}")
            assert isinstance(module, cst.Attribute)
            return replace_node(source, statement, statement.with_changes(module=module))
        if isinstance(statement, cst.Import) and len(statement.names) == 1 and statement.names[0] is imp.node \
                and "." not in imp.module:
            alias = statement.names[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return replace_node(source, statement, cst.ImportFrom(module=cst.Name("src"), names=[alias]))
    return None


_NET = "class Net:\n    pass\n"


@rule(
    code="LAY004", name="unresolvable-project-import", severity=ERROR,
    consequence=CRASH, fixable=True,
    criterion="Import statements are compatible with `uv run python -m src.main` execution.",
    rationale="Under `python -m src.main` only the repository root is on sys.path: `import train` "
              "fails (unless the file first puts its own directory on sys.path), and `from src.utils "
              "import x` fails when src/utils.py is not in the bundle. A try/except ImportError pair "
              "passes when one branch imports a module the bundle has.",
    invalid=[
        Example(files={**BASE_FILES, "src/train.py": "from src.utils import set_seed\n"}, line=1, message='which is not in the bundle'),
        Example(files={**BASE_FILES, "src/train.py": "from model import Net\n", "src/model.py": _NET}, line=1),
        Example(files={**BASE_FILES, "src/train.py": "from .helpers import x\n"}, line=1),
        Example(files={**BASE_FILES, "src/train.py": """
            import sys
            from pathlib import Path
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from model import Net
            """, "src/model.py": _NET}, line=4, message="bare import of the sibling module model"),  # the repository root, not src/
        Example(files={**BASE_FILES, "src/train.py": """
            import os
            import sys
            from model import Net
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            """, "src/model.py": _NET}, line=3),  # src/ goes on sys.path after the import
        Example(files={**BASE_FILES, "src/train.py": """
            try:
                from .helpers import x
            except ImportError:
                from helpers import x
            """}, line=2, message="src/helpers.py"),  # neither branch finds a module
        # started as a script by main: src/, not the repository root, is on sys.path, and no package
        Example(files={**BASE_FILES, "src/main.py": _SCRIPT_MAIN, "src/train.py": "from src.model import Net\n",
                       "src/model.py": "class Net:\n    pass\n"}, path="src/train.py", line=1,
                message="is started as a script (src/main.py:6)"),
        Example(files={**BASE_FILES, "src/main.py": _SCRIPT_MAIN, "src/train.py": "from .model import Net\n",
                       "src/model.py": "class Net:\n    pass\n"}, path="src/train.py", line=1,
                message="no parent package"),
    ],
    valid=[Example(files={**BASE_FILES, "src/train.py": """
        from src.model import Net
        from . import preprocess
        """,
                          "src/model.py": """
                              class Net:
                                  pass
                              """}),
           Example(files={**BASE_FILES, "src/train.py": """
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
           Example(files={**BASE_FILES, "src/train.py": """
               try:
                   from .model import Net
               except ImportError:
                   from model import Net
               try:
                   import preprocess
               except ModuleNotFoundError:
                   from src import preprocess
               """}),  # one branch works under `python -m src.main`
           # a script child: the repository root put on sys.path first, bare sibling imports (src/ is on
           # sys.path), a relative import with a bare fallback
           Example(files={**BASE_FILES, "src/main.py": _SCRIPT_MAIN, "src/model.py": "class Net:\n    pass\n",
                          "src/train.py": """
                              import sys
                              from pathlib import Path
                              sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
                              from src.model import Net
                              from model import Net as Same
                              try:
                                  from .model import Net as Again
                              except ImportError:
                                  from model import Net as Again
                              """})],
)
def unresolvable_import(bundle: Bundle) -> Iterator[Hit]:
    # `import evaluate` is Hugging Face's library when the project declares it.
    distributions = {d.name.lower() for d in declared(bundle) or []}
    scripts: dict[str, ScriptLaunch] = {}
    for launch in script_launches(bundle):
        scripts.setdefault(launch.target, launch)
    modules = _started_as_module(bundle)
    for source in bundle.python_files():
        if not source.path.startswith("src/"):
            continue
        script = scripts.get(source.path)
        failed: set[int] = set()  # one finding per import statement
        for imp in source.index.imports:
            if script is not None:
                failure = _fails_in_script(bundle, source, imp, script)
                if failure is not None:
                    if imp.stmt not in failed:
                        failed.add(imp.stmt)
                        yield Hit(source.path, failure, imp.node)
                    continue
            problem = _unresolved(bundle, imp)
            if problem is None or _has_working_alternative(bundle, source, imp):
                continue
            shown = problem.shown
            if problem.kind is ImportProblem.SIBLING:
                name = problem.target
                if name in distributions or _directory_on_path(source, imp, 0):
                    continue
                if script is not None and source.path not in modules:
                    continue  # only ever a script: its own directory (src/) is on sys.path
                # safe: nothing starts this file as a script (then `src` would not be importable)
                edit = _package_import(source, imp) if script is None else None
                yield Hit(source.path, f"`{shown}` is a bare import of the sibling module {name}; it fails under "
                                       f"`python -m src.main`. Write `from src import {name}` or "
                                       f"`from src.{name} import …`", imp.node,
                          fix=Fix(f"Import {name} from the src package", SAFE, (edit,)) if edit else None)
            else:
                yield Hit(source.path, f"`{shown}` imports {problem.target}, which is not in the bundle; "
                                       "move the code into one of the required files", imp.node)


def _started_as_module(bundle: Bundle) -> set[str]:
    """Files that run as modules of the package: src/main.py, what `python -m src.x` starts, and
    what another project file imports."""
    out = {"src/main.py"}
    for source in bundle.python_files():
        if not source.ok:
            continue
        out.update(launch.target for launch in launches(source))
        for imp in source.index.imports:
            module = project_module(imp)
            if module is None:
                continue
            out.add("/".join(module.split(".")) + ".py")
            if imp.name is not None:
                out.add("/".join(module.split(".") + [imp.name]) + ".py")
    return out


def _fails_in_script(bundle: Bundle, source: PythonSource, imp: Import, script: ScriptLaunch) -> Optional[str]:
    """Why `imp` fails when `source` runs as the script `script` starts, or None."""
    if imp.guarded and _script_alternative(bundle, source, imp):
        return None
    parent = bundle.python(script.parent)
    line = parent.span(script.call.node).line if parent is not None and parent.ok else 1
    started = f"{source.path} is started as a script ({script.parent}:{line})"
    shown = f"from {'.' * imp.level}{imp.module} import {imp.name}" if imp.name else f"import {imp.module}"
    if imp.level >= 1:
        return (f"`{shown}`: {started}, so it has no parent package and the relative import raises \"ImportError: "
                "attempted relative import with no known parent package\"; start it with `python -m "
                f"src.{source.path[4:-3]}` from the repository root, or import `from src.… import …` with the "
                "repository root on sys.path")
    if project_module(imp) is None:
        return None
    if _directory_on_path(source, imp, 1) or (parent is not None and parent.ok
                                           and child_finds_src(parent.index, script.call)):
        return None
    return (f"`{shown}`: {started}, so its own directory src/, not the repository root, is on sys.path and "
            "the import raises \"ModuleNotFoundError: No module named 'src'\"; start it with `python -m "
            f"src.{source.path[4:-3]}` (cwd= the repository root), or insert the repository root into "
            "sys.path before this import")


def _script_alternative(bundle: Bundle, source: PythonSource, imp: Import) -> bool:
    """The other branch of the import's try/except ImportError is a bare import of a sibling the
    bundle has, which a script (src/ on sys.path) finds."""
    index = source.index
    for alt in index.imports:
        if alt is imp or alt.alias != imp.alias or alt.level or project_module(alt) is not None:
            continue
        top = (alt.module or "").split(".")[0]
        if f"src/{top}.py" in bundle.files and _same_try(index, imp, alt):
            return True
    return False


def _same_try(index: Index, one: Import, other: Import) -> bool:
    for ordinal, stmt in enumerate(index.statements):
        if isinstance(stmt, cst.Try):
            last = index.last_inside.get(ordinal, ordinal)
            if ordinal < one.stmt <= last and ordinal < other.stmt <= last:
                return True
    return False


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


def _names_directory_above(index: Index, expr: cst.CSTNode, scope: Optional[Function], levels: int) -> bool:
    """`expr` is the directory `levels` above this file (0: its own directory, src/; 1: the
    repository root): `Path(__file__).resolve().parent` (.parent.parent), `Path(__file__).parents[n]`,
    `os.path.dirname(os.path.abspath(__file__))` (nested), through str(), a name assigned once..."""
    expr = _unwrapped(index, expr, scope)
    if isinstance(expr, cst.Attribute) and expr.attr.value == "parent":
        return _names_this_file(index, expr.value, scope) if levels == 0 else \
            _names_directory_above(index, expr.value, scope, levels - 1)
    if (isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Attribute)
            and expr.value.attr.value == "parents" and len(expr.slice) == 1
            and isinstance(expr.slice[0].slice, cst.Index) and literal(expr.slice[0].slice.value) == levels):
        return _names_this_file(index, expr.value.value, scope)
    if isinstance(expr, cst.Call) and _callee(index, expr, scope) == "os.path.dirname" and len(expr.args) == 1:
        return _names_this_file(index, expr.args[0].value, scope) if levels == 0 else \
            _names_directory_above(index, expr.args[0].value, scope, levels - 1)
    return False


def _directory_on_path(source: PythonSource, imp: Import, levels: int) -> bool:
    """Before the import, in its scope or at module level, the file puts the directory `levels`
    above it on sys.path (`sys.path.insert(0, str(Path(__file__).parent))`: src/ itself, so a bare
    sibling import works; `.parent.parent`: the repository root, so `from src.x import …` works)."""
    index = source.index
    for call in index.calls_to("sys.path.insert", "sys.path.append"):
        if call.stmt >= imp.stmt:
            continue
        if call.scope is not None and (imp.scope is None or not encloses(call.scope, imp.scope)):
            continue
        arg = call.positional(1 if call.method == "insert" else 0)
        if arg is not None and _names_directory_above(index, arg, call.scope, levels):
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
