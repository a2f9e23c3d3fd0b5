"""How code dispatches on a configured name, and which names reach its unknown-name error.

Followed: `name == "A"` / `name in ("A", "B")` comparisons, registry dicts (`name in REGISTRY`,
`REGISTRY[name]`, `REGISTRY.get(name)`), `.upper()`/`.lower()` normalisation, and where the name
comes from in the config (`cfg["dataset"]["name"]`, `cfg.get("model", {}).get("name")`,
`cfg.model.name`, or a parameter that every caller fills from the config). A function that hands
the name to a generic loader (`load_dataset(name)`) handles any name and is not a dispatch.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from expreview.facts.values import agreed_argument, resolve
from expreview.sources.index import Function, Index, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource

_UNKNOWN = re.compile(r"unknown|not (?:yet )?implemented|not supported|unsupported|not registered|"
                      r"not recogni[sz]ed|invalid|no such|must be provided|not available", re.I)
_ERRORS = ("NotImplementedError", "ValueError", "KeyError", "RuntimeError")
_NORMALISERS = ("upper", "lower", "casefold", "strip")


@dataclass
class Dispatch:
    source: PythonSource
    function: Function
    var: str
    keys: tuple[str, ...]  # where the name comes from in the config: ("dataset", "name")
    normalise: list[str]
    handled: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)  # (literal, inline normalisers)
    fallback: Optional[cst.Raise] = None

    def accepts(self, value: str) -> bool:
        for op in self.normalise:
            value = getattr(value, op)()
        for literal, ops in self.handled:
            candidate = value
            for op in ops:
                candidate = getattr(candidate, op)()
            if candidate == literal:
                return True
        return False

    @property
    def handled_names(self) -> list[str]:
        return sorted({literal for literal, _ in self.handled})

    @property
    def error_name(self) -> str:
        exc = self.fallback.exc if self.fallback is not None else None
        return dotted_name(exc.func if isinstance(exc, cst.Call) else exc) if exc is not None else "an error"


def _raises_unknown(node: cst.Raise) -> bool:
    exc = node.exc
    if exc is None:
        return False
    name = dotted_name(exc.func if isinstance(exc, cst.Call) else exc)
    if name not in _ERRORS:
        return False
    if name == "NotImplementedError":
        return True
    text = " ".join(string_value(n) or "" for n in iter_subtree(exc) if isinstance(n, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)))
    return bool(_UNKNOWN.search(text))


def _body(node: cst.CSTNode) -> list[cst.CSTNode]:
    body = getattr(node, "body", None)
    if isinstance(body, cst.IndentedBlock):
        return list(body.body)
    if isinstance(body, cst.SimpleStatementSuite):
        return [body]
    return []


def _small(statements: list[cst.CSTNode]) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for s in statements:
        out.extend(s.body if isinstance(s, (cst.SimpleStatementLine, cst.SimpleStatementSuite)) else [s])
    return out


def _fallback_raises(fn: cst.FunctionDef) -> list[cst.Raise]:
    """Raises that names no branch handled reach: at function level, or in an if-chain's final else."""
    found = []

    def scan(statements):
        for s in _small(statements):
            if isinstance(s, cst.Raise) and _raises_unknown(s):
                found.append(s)
            elif isinstance(s, cst.If):
                if _is_membership_guard(s.test):  # if name not in REGISTRY: raise …
                    scan(_body(s))
                branch = s.orelse
                while isinstance(branch, cst.If):
                    branch = branch.orelse
                if isinstance(branch, cst.Else):
                    scan(_body(branch))

    scan(_body(fn))
    return found


def _is_membership_guard(test: cst.CSTNode) -> bool:
    return isinstance(test, cst.Comparison) and any(isinstance(t.operator, cst.NotIn) for t in test.comparisons)


def _names_in(node: cst.CSTNode, index: Index, scope: Function) -> set[str]:
    """String keys of a literal collection or of a module-level registry dict."""
    node = resolve(index, node, scope)
    out = set()
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        for el in node.elements:
            value = string_value(el.value)
            if value is not None:
                out.add(value)
    elif isinstance(node, cst.Dict):
        for item in node.elements:
            if isinstance(item, cst.DictElement):
                value = string_value(item.key)
                if value is not None:
                    out.add(value)
    else:
        value = string_value(node)
        if value is not None:
            out.add(value)
    return out


def _normalised_var(node: cst.CSTNode, var: str) -> Optional[tuple[str, ...]]:
    """`name` → (); `name.lower()` → ("lower",); anything else → None."""
    ops: list[str] = []
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _NORMALISERS:
        ops.insert(0, node.func.attr.value)
        node = node.func.value
    return tuple(ops) if isinstance(node, cst.Name) and node.value == var else None


def _handled(source: PythonSource, fn: Function, var: str, nodes: list) -> tuple[set, bool]:
    """(literal, inline normalisers) pairs `fn` handles for `var`, and whether it compares `var`.
    `nodes` is fn's body, walked once by the caller for all candidate names."""
    index = source.index
    handled: set = set()
    compared = False
    for comparison in (n for n in nodes if isinstance(n, cst.Comparison)):
        operands = [comparison.left] + [t.comparator for t in comparison.comparisons]
        forms = [_normalised_var(o, var) for o in operands]
        if all(f is None for f in forms):
            continue
        compared = True
        ops = next(f for f in forms if f is not None)
        for o, form in zip(operands, forms):
            if form is None:
                handled |= {(name, ops) for name in _names_in(o, index, fn)}
    for node in nodes:
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = node.slice[0].slice.value
            key_ops = _normalised_var(key, var)
            if key_ops is not None:
                handled |= {(name, key_ops) for name in _names_in(node.value, index, fn)}
                compared = True
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get" \
                and node.args and _normalised_var(node.args[0].value, var) is not None:
            get_ops = _normalised_var(node.args[0].value, var)
            handled |= {(name, get_ops) for name in _names_in(node.func.value, index, fn)}
            compared = True
    return handled, compared


def _generic_use(source: PythonSource, fn: Function, var: str) -> bool:
    """`var` handed to an outside loader (`load_dataset(name)`), which accepts any name."""
    local = {f.name for f in source.index.functions}
    for call in source.index.calls:
        if call.scope is not fn or call.name in local or call.name in ("print", "str", "repr", "len", "isinstance"):
            continue
        if call.name.endswith((".format", ".info", ".warning", ".debug", ".error", ".get", ".upper", ".lower")):
            continue
        if any(isinstance(a.value, cst.Name) and a.value.value == var for a in call.node.args):
            if call.name.endswith((".from_pretrained", "load_dataset", "getattr", "create_model", "import_module")) \
                    or call.name == "getattr":
                return True
    return False


def config_keys(source: PythonSource, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0,
                sources: tuple = ()):
    """(config keys, normalisers) for a value read from the config, or None. `sources` are the
    bundle's files, searched for the callers that fill a parameter."""
    if depth > 8:
        return None
    normalise: list[str] = []
    keys: list[str] = []
    index = source.index
    node = expr
    while True:
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            func = node.func  # narrowed once: mypy forgets `node.func` is an Attribute past the branch below
            method = func.attr.value
            if method in _NORMALISERS:
                normalise.insert(0, method)
                node = func.value
                continue
            if method == "get" and node.args:
                key = string_value(node.args[0].value)
                if key is None:
                    return None
                keys.insert(0, key)
                node = func.value
                continue
            return None
        if isinstance(node, cst.Call) and dotted_name(node.func) == "str" and node.args:
            node = node.args[0].value
            continue
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = string_value(node.slice[0].slice.value)
            if key is None:
                return None
            keys.insert(0, key)
            node = node.value
            continue
        if isinstance(node, cst.Attribute):
            keys.insert(0, node.attr.value)
            node = node.value
            continue
        if isinstance(node, cst.Name):
            resolved = resolve(index, node, scope)
            if resolved is not node:
                inner = config_keys(source, resolved, scope, depth + 1, sources)
                if inner is None:
                    return (tuple(keys), normalise) if keys else None
                return inner[0] + tuple(keys), inner[1] + normalise
            if scope is not None and node.value in scope.params:
                inner = _from_callers(source, scope, node.value, depth, sources)
                if inner is not None:
                    return inner[0] + tuple(keys), inner[1] + normalise
            return (tuple(keys), normalise) if keys else None
        return None


def _from_callers(source: PythonSource, fn: Function, param: str, depth: int, sources: tuple = ()):
    """The config keys a parameter receives, when every caller in the bundle agrees."""
    return agreed_argument(source, fn, param, sources,
                           lambda caller, call, arg: config_keys(caller, arg, call.scope, depth + 1, sources))


_GENERIC_KEYS = {"name", "type", "id", "arch", "kind"}
# CFG004 is about datasets and models (and tasks or environments standing for them).
_DOMAIN = re.compile(r"data|model|arch|backbone|network|net$|task|env", re.I)
_OTHER_DOMAIN = re.compile(r"loss|optim|sched|metric|criterion|activation|norm|layer|head|init|(?<![a-z])mode(?![a-z])", re.I)


def _with_context(source: PythonSource, fn: Function, keys: tuple) -> Optional[tuple]:
    """The key path of a dataset/model name, or None for any other dispatch. A bare
    `name`/`type` key is ambiguous: the function's (else the file's) name says whose it is."""
    if len(keys) == 1 and keys[-1] in _GENERIC_KEYS:
        if _OTHER_DOMAIN.search(fn.name):
            return None
        for where in (fn.name.lower(), source.path.lower()):
            for hint, parent in (("data", "dataset"), ("preprocess", "dataset"), ("model", "model")):
                if hint in where:
                    return (parent,) + keys
        return None
    if not any(_DOMAIN.search(k) for k in keys) or any(_OTHER_DOMAIN.search(k) for k in keys):
        return None
    return keys


def dispatches(source: PythonSource, sources: tuple = ()) -> list[Dispatch]:
    out = []
    for fn in source.index.functions:
        raises = _fallback_raises(fn.node)
        if not raises:
            continue
        candidates = {p for p in fn.params} | set(fn.assigns)
        nodes = list(iter_subtree(fn.node.body))
        names = {n.value for n in nodes if isinstance(n, cst.Name)}
        for var in sorted(candidates & names):
            handled, compared = _handled(source, fn, var, nodes)
            if not compared or not handled or _generic_use(source, fn, var):
                continue
            values = [v for v in fn.assigns.get(var, []) if v is not None]
            if values:
                origin = config_keys(source, values[0], fn, 0, sources) if len(values) == 1 else None
            else:
                origin = _from_callers(source, fn, var, 0, sources) if var in fn.params else None
            if origin is None or not origin[0]:
                continue
            keys = _with_context(source, fn, origin[0])
            if keys is None:
                continue
            out.append(Dispatch(source, fn, var, keys, origin[1], handled, raises[0]))
    return out
