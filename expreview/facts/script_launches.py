"""Which of the bundle's files a process starts as a script (`python src/train.py`,
`[sys.executable, str(Path(__file__).parent / "train.py")]`) rather than as a module
(`python -m src.train`). A script runs with its own directory, not the repository root, first on
sys.path, and with no parent package: `from src.x import …` and `from .x import …` fail in it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.facts.values import resolve
from expreview.sources.index import Call, Function, Index, dotted_name, string_value
from expreview.sources.pyfile import PythonSource

SUBPROCESS_CALLS = frozenset({
    "subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
    "subprocess.check_output", "os.system", "os.execv", "os.execvp", "os.spawnv",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
})
_WRAPPERS = ("str", "os.fspath", "os.path.abspath", "os.path.realpath", "Path", "pathlib.Path")


@dataclass(frozen=True)
class ScriptLaunch:
    target: str  # the bundle file started: src/train.py
    parent: str  # the file that starts it
    call: Call  # the subprocess call
    element: cst.CSTNode  # the command element naming the script
    relative: bool  # a path relative to the working directory (`"src/train.py"`)


def _script(index: Index, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> Optional[tuple[str, bool]]:
    """(file name, relative) when `expr` names a `.py` file: a string, `dir / "train.py"`,
    `os.path.join(dir, "train.py")`, through str(), Path(), .resolve() and names bound once."""
    if depth > 6:
        return None
    expr = resolve(index, expr, scope)
    text = string_value(expr)
    if text is not None:
        text = text.strip()
        if not text.endswith(".py") or " " in text:
            return None
        relative = not text.startswith(("/", "{", "~"))
        return text.rsplit("/", 1)[-1], relative
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        found = _script(index, expr.right, scope, depth + 1)
        return (found[0], False) if found else None
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func)
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("resolve", "absolute") and not expr.args:
            return _script(index, expr.func.value, scope, depth + 1)
        if name in _WRAPPERS and len(expr.args) == 1:
            found = _script(index, expr.args[0].value, scope, depth + 1)
            if found and name.endswith(("abspath", "realpath")):
                return found[0], False
            return found
        if name == "os.path.join" and len(expr.args) >= 2:
            found = _script(index, expr.args[-1].value, scope, depth + 1)
            return (found[0], False) if found else None
    return None


def _command_elements(index: Index, call: Call) -> list[cst.CSTNode]:
    command = call.positional(0) or call.keyword("args")
    if command is None:
        return []
    value = resolve(index, command, call.scope)
    while isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
        value = resolve(index, value.left, call.scope)  # `[python, script] + overrides`
    if isinstance(value, (cst.List, cst.Tuple)):
        return [el.value for el in value.elements if isinstance(el, cst.Element)]
    if call.qualname in ("os.execv", "os.execvp", "os.spawnv", "asyncio.create_subprocess_exec"):
        return [a.value for a in call.node.args if a.keyword is None and not a.star]
    return []


def launched_scripts(source: PythonSource, files: frozenset[str]) -> list[ScriptLaunch]:
    index = source.index
    out = []
    for call in index.calls:
        if call.qualname not in SUBPROCESS_CALLS:
            continue
        for element in _command_elements(index, call)[:3]:  # the interpreter, maybe `-u`, the script
            found = _script(index, element, call.scope)
            if found is None:
                continue
            name, relative = found
            target = f"src/{name}"
            if target in files:
                out.append(ScriptLaunch(target, source.path, call, element, relative))
            break
    return out


@bundle_fact
def script_launches(bundle: Bundle) -> list[ScriptLaunch]:
    files = frozenset(bundle.paths())
    return [launch for source in bundle.python_files() if source.ok
            for launch in launched_scripts(source, files)]
