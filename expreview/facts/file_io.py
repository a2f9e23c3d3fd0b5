"""Which files the bundle's code reads and writes, by the name of the file (the last path
component, `*` where an f-string or a name fills it in: `f"{run_id}_metrics.json"` is
`*_metrics.json`), followed through names assigned once, `Path(...)`, `/` joins, os.path.join and
f-strings. A write whose name cannot be followed is opaque: it may write any file."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.facts.values import resolve
from expreview.sources.index import Call, Function, Index, dotted_name, string_value
from expreview.sources.pyfile import PythonSource

_READ_CALLS = {"pd.read_csv", "pandas.read_csv", "pd.read_json", "pandas.read_json", "np.load", "numpy.load",
               "torch.load", "pickle.load", "joblib.load", "pd.read_pickle", "pandas.read_pickle"}
_WRITE_CALLS = {"np.save", "numpy.save", "np.savez", "numpy.savez", "np.savetxt", "numpy.savetxt", "torch.save",
                "joblib.dump", "shutil.copy", "shutil.copyfile", "shutil.copy2", "shutil.move", "os.rename",
                "os.replace", "urllib.request.urlretrieve"}
_NAMED_BY_FIRST = {"savefig", "to_csv", "to_json", "to_parquet", "to_pickle", "save"}  # `df.to_csv(path)`
_NAMED_BY_RECEIVER = {"write_text", "write_bytes", "touch"}  # `path.write_text(...)`
# Writers of files whose names the call does not show (a model directory, a download, an archive).
_OPAQUE = {"save_pretrained", "save_model", "save_state", "download", "extractall", "save_to_disk",
           "download_file", "hf_hub_download", "snapshot_download", "export", "copytree"}
_WRAPPERS = ("str", "os.fspath", "Path", "pathlib.Path", "os.path.abspath", "os.path.realpath", "os.path.expanduser")
_FIGURES = (".pdf", ".png", ".svg", ".jpg", ".jpeg", ".eps")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class FileUse:
    source: PythonSource
    name: Optional[str]  # the file name pattern; None for an opaque write
    write: bool
    call: Call

    @property
    def kinds(self) -> Optional[tuple[str, ...]]:
        """The extensions an opaque write can produce (None: any)."""
        if self.call.method == "savefig":
            return _FIGURES
        if self.call.name.endswith("OmegaConf.save"):
            return (".yaml", ".yml")
        return None


def file_name(index: Index, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> Optional[str]:
    """The name pattern of the file `expr` names, or None when it cannot be followed."""
    if depth > 8:
        return None
    expr = resolve(index, expr, scope)
    text = string_value(expr)
    if text is not None:
        last = _PLACEHOLDER.sub("*", text.replace("\\", "/")).rstrip("/").rsplit("/", 1)[-1]
        return last if last and last.strip("*") else None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        return file_name(index, expr.right, scope, depth + 1)
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func)
        if name in _WRAPPERS and len(expr.args) == 1:
            return file_name(index, expr.args[0].value, scope, depth + 1)
        if name == "os.path.join" and expr.args:
            return file_name(index, expr.args[-1].value, scope, depth + 1)
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value in ("resolve", "absolute", "expanduser"):
            return file_name(index, expr.func.value, scope, depth + 1)
    return None


def _writes(mode: Optional[str]) -> bool:
    """An open mode that writes; an unknown mode (None, a variable) counts as one."""
    return mode is None or any(ch in mode for ch in "wax+")


def _mode(call: Call) -> str:
    given = call.keyword("mode") or call.positional(1)
    text = string_value(given) if given is not None else None
    return text if text is not None else ("r" if given is None else "?")


def _uses(source: PythonSource) -> list[FileUse]:
    index = source.index
    out = []
    for call in index.calls:
        func = call.node.func
        receiver = func.value if isinstance(func, cst.Attribute) else None
        if call.qualname in ("open", "builtins.open", "io.open", "codecs.open") or call.name == "open":
            target = call.positional(0) or call.keyword("file")
            if target is None:
                continue
            mode = _mode(call)
            write = _writes(None if mode == "?" else mode)
            out.append(FileUse(source, file_name(index, target, call.scope), write, call))
        elif receiver is not None and call.method == "open":
            given = call.positional(0) or call.keyword("mode")
            mode = (string_value(given) or "?") if given is not None else "r"
            write = _writes(None if mode == "?" else mode)
            out.append(FileUse(source, file_name(index, receiver, call.scope), write, call))
        elif receiver is not None and call.method in ("read_text", "read_bytes"):
            out.append(FileUse(source, file_name(index, receiver, call.scope), False, call))
        elif call.qualname in _READ_CALLS and call.node.args:
            out.append(FileUse(source, file_name(index, call.node.args[0].value, call.scope), False, call))
        elif call.qualname in _WRITE_CALLS:
            target = call.positional(1)
            out.append(FileUse(source, file_name(index, target, call.scope) if target is not None else None, True, call))
        elif call.method in _NAMED_BY_FIRST and call.node.args and call.qualname not in ("json.dump", "yaml.dump"):
            out.append(FileUse(source, file_name(index, call.node.args[0].value, call.scope), True, call))
        elif receiver is not None and call.method in _NAMED_BY_RECEIVER:
            out.append(FileUse(source, file_name(index, receiver, call.scope), True, call))
        elif call.method in _OPAQUE:
            out.append(FileUse(source, None, True, call))
    return out


@bundle_fact
def file_uses(bundle: Bundle) -> list[FileUse]:
    return [use for source in bundle.python_files() if source.ok for use in _uses(source)]


# -- the keys of the JSON files the modules hand each other ----------------------------------------

@dataclass(frozen=True)
class KeyRead:
    source: PythonSource
    file: str  # the file name pattern the data came from
    key: str
    node: cst.CSTNode  # the subscript `data["key"]`
    stmt: int
    scope: Optional[Function]


def _opened_name(index: Index, expr: cst.CSTNode, scope: Optional[Function], write: bool) -> Optional[str]:
    """The file name of the handle or text `expr` holds: `open(path, mode)` (write or read as asked),
    `path.open(...)`, `path.read_text()`."""
    value = resolve(index, expr, scope)
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    name = dotted_name(func)
    if name in ("open", "io.open") and value.args:
        mode_arg = next((a.value for a in value.args if a.keyword is not None and a.keyword.value == "mode"),
                        value.args[1].value if len(value.args) > 1 and value.args[1].keyword is None else None)
        mode = string_value(mode_arg) if mode_arg is not None else "r"
        if mode is None or _writes(mode) != write:
            return None
        return file_name(index, value.args[0].value, scope)
    if isinstance(func, cst.Attribute) and func.attr.value == "open":
        mode = string_value(value.args[0].value) if value.args else "r"
        if mode is None or _writes(mode) != write:
            return None
        return file_name(index, func.value, scope)
    if isinstance(func, cst.Attribute) and func.attr.value == "read_text" and not write:
        return file_name(index, func.value, scope)
    return None


def _dict_keys(source: PythonSource, expr: cst.CSTNode, scope: Optional[Function]) -> Optional[set[str]]:
    """The keys of the dict `expr` holds: a dict literal (through a name assigned once), plus the
    string keys later stored into that name; None when any key is not known."""
    index = source.index
    value = resolve(index, expr, scope)
    if isinstance(value, cst.Call) and dotted_name(value.func) == "dict" and not value.args:
        keys: set[str] = set()
    elif isinstance(value, cst.Dict):
        keys = set()
        for element in value.elements:
            key = string_value(element.key) if isinstance(element, cst.DictElement) else None
            if key is None:
                return None
            keys.add(key)
    else:
        return None
    if isinstance(expr, cst.Name):
        for sub in index.subscripts:
            if sub.base == expr.value and sub.store and sub.scope is scope:
                if not sub.key:
                    return None
                keys.add(sub.key)
        for call in index.calls:
            if call.name in (f"{expr.value}.update", f"{expr.value}.setdefault") and call.scope is scope:
                return None
        # a key stored with a computed name (`d[name] = v`) is unknown
        for ordinal, statement in enumerate(index.statements):
            if isinstance(statement, cst.Assign) and index.scope_of(ordinal) is scope:
                for target in statement.targets:
                    t = target.target
                    if isinstance(t, cst.Subscript) and dotted_name(t.value) == expr.value and \
                            not (len(t.slice) == 1 and isinstance(t.slice[0].slice, cst.Index)
                                 and string_value(t.slice[0].slice.value) is not None):
                        return None
    return keys


@bundle_fact
def json_written_keys(bundle: Bundle) -> dict[str, Optional[set[str]]]:
    """Per JSON file name pattern, the keys its writers put (None: some writer's keys are unknown)."""
    out: dict[str, Optional[set[str]]] = {}
    for source in bundle.python_files():
        if not source.ok:
            continue
        index = source.index
        for call in index.calls:
            name = None
            data = None
            if call.qualname == "json.dump" and len(call.node.args) >= 2:
                name = _opened_name(index, call.node.args[1].value, call.scope, True)
                data = call.node.args[0].value
            elif call.method == "write_text" and isinstance(call.node.func, cst.Attribute) and call.node.args:
                text = resolve(index, call.node.args[0].value, call.scope)
                if isinstance(text, cst.Call) and dotted_name(text.func) == "json.dumps" and text.args:
                    name = file_name(index, call.node.func.value, call.scope)
                    data = text.args[0].value
            if name is None or data is None:
                continue
            keys = _dict_keys(source, data, call.scope)
            if name in out and out[name] is None:
                continue
            out[name] = None if keys is None else (out.get(name) or set()) | keys
    return out


def json_key_reads(source: PythonSource) -> list[KeyRead]:
    """`data["key"]` where `data = json.load(<file>)` or `json.loads(<path>.read_text())` in the same scope."""
    index = source.index
    loaded: dict[tuple[int, str], str] = {}  # (id(scope), name) -> file name
    for ordinal, statement in enumerate(index.statements):
        if type(statement) is not cst.Assign or len(statement.targets) != 1:
            continue
        target = statement.targets[0].target
        value = statement.value
        if not isinstance(target, cst.Name) or not isinstance(value, cst.Call) or not value.args:
            continue
        scope = index.scope_of(ordinal)
        func = dotted_name(value.func)
        name = None
        if func == "json.load":
            name = _opened_name(index, value.args[0].value, scope, False)
        elif func == "json.loads":
            name = _opened_name(index, value.args[0].value, scope, False)
        if name is not None and len((scope.assigns if scope else index.module_assigns).get(target.value, [])) == 1:
            loaded[(id(scope), target.value)] = name
    out = []
    for sub in index.subscripts:
        file = loaded.get((id(sub.scope), sub.base))
        if file is not None and not sub.store and sub.key:
            out.append(KeyRead(source, file, sub.key, sub.node, sub.stmt, sub.scope))
    return out
