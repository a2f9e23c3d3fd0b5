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

from expreview.facts.values import agreed_argument, call_sites, resolve
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
    # (test, literal, inline normalisers): `name.startswith("resnet")`, `name.endswith(...)`, `"vit" in name`
    patterns: set[tuple[str, str, tuple[str, ...]]] = field(default_factory=set)
    # (literal, normalisers from the raw value): names an earlier `if … return` takes before the
    # dispatch, in this function on another variable or in a caller before it calls this function
    before: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)

    def accepts(self, value: str) -> bool:
        for literal, ops in self.before:
            if _apply(value, ops) == literal:
                return True
        value = _apply(value, tuple(self.normalise))
        for literal, ops in self.handled:
            if _apply(value, ops) == literal:
                return True
        for test, literal, ops in self.patterns:
            candidate = _apply(value, ops)
            if test == "startswith" and candidate.startswith(literal) or test == "endswith" \
                    and candidate.endswith(literal) or test == "in" and literal in candidate:
                return True
        return False

    @property
    def handled_names(self) -> list[str]:
        shapes = {"startswith": "{}*", "endswith": "*{}", "in": "*{}*"}
        return sorted({literal for literal, _ in self.handled}) + sorted(
            {shapes[test].format(literal) for test, literal, _ in self.patterns})

    @property
    def error_name(self) -> str:
        exc = self.fallback.exc if self.fallback is not None else None
        return dotted_name(exc.func if isinstance(exc, cst.Call) else exc) if exc is not None else "an error"


def _apply(value: str, ops: tuple[str, ...]) -> str:
    for op in ops:
        value = getattr(value, op)()
    return value


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


def _mentions(node: cst.CSTNode, var: Optional[str]) -> bool:
    return var is None or any(isinstance(n, cst.Name) and n.value == var for n in iter_subtree(node))


def _fallback_raises(fn: cst.FunctionDef, var: Optional[str] = None) -> list[cst.Raise]:
    """Raises that names no branch handled reach: at function level, or in an if-chain's final else.
    With `var`, only those of a dispatch on it: after an `if` that tests it, in the final else of a
    chain that tests it, or under `if var not in …`; another variable's chain (`optimizer`'s
    `else: raise`) is not where an unhandled `var` goes."""
    found = []

    def scan(statements, tested: bool):
        for s in _small(statements):
            if isinstance(s, cst.Raise) and _raises_unknown(s):
                if tested:
                    found.append(s)
            elif isinstance(s, cst.If):
                tests = [s.test]
                if _is_membership_guard(s.test):  # if name not in REGISTRY: raise …
                    scan(_body(s), _mentions(s.test, var))
                branch = s.orelse
                while isinstance(branch, cst.If):
                    tests.append(branch.test)
                    branch = branch.orelse
                chain = any(_mentions(t, var) for t in tests)
                if isinstance(branch, cst.Else):
                    scan(_body(branch), chain)
                tested = tested or chain  # a raise after this chain is where its unhandled names go

    scan(_body(fn), var is None)
    return found


def _is_membership_guard(test: cst.CSTNode) -> bool:
    return isinstance(test, cst.Comparison) and any(isinstance(t.operator, cst.NotIn) for t in test.comparisons)


_CONSTANTS = ("None", "True", "False")


def _names_in(node: cst.CSTNode, index: Index, scope: Function) -> set[str]:
    """String keys of a literal collection or of a module-level registry dict."""
    return _known_names(node, index, scope) or set()


def _known_names(node: cst.CSTNode, index: Index, scope: Function, depth: int = 0) -> Optional[set[str]]:
    """The names a literal, a literal collection or a module-level registry holds, or None when
    what the name is compared with cannot be read (an imported registry, another variable)."""
    node = resolve(index, node, scope)
    out: set[str] = set()
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        for el in node.elements:
            value = string_value(el.value)
            if value is not None:
                out.add(value)
        return out
    if isinstance(node, cst.Dict):
        for item in node.elements:
            if isinstance(item, cst.DictElement):
                value = string_value(item.key)
                if value is not None:
                    out.add(value)
            else:
                return None  # `{**OTHER, ...}`
        return out
    if isinstance(node, cst.Call) and depth < 4:
        func = dotted_name(node.func)
        if func in ("set", "frozenset", "tuple", "list", "sorted") and len(node.args) == 1:
            return _known_names(node.args[0].value, index, scope, depth + 1)
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "keys" and not node.args:
            return _known_names(node.func.value, index, scope, depth + 1)
        return None
    value = string_value(node)
    if value is not None:
        return {value}
    if isinstance(node, (cst.Integer, cst.Float)) or isinstance(node, cst.Name) and node.value in _CONSTANTS:
        return out
    return None


def _normalised_var(node: cst.CSTNode, var: str) -> Optional[tuple[str, ...]]:
    """`name` → (); `name.lower()` → ("lower",); anything else → None."""
    ops: list[str] = []
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in _NORMALISERS:
        ops.insert(0, node.func.attr.value)
        node = node.func.value
    return tuple(ops) if isinstance(node, cst.Name) and node.value == var else None


@dataclass
class _Tests:
    """What a function's code tests a variable against."""
    handled: set = field(default_factory=set)  # (literal, inline normalisers)
    patterns: set = field(default_factory=set)  # (startswith | endswith | in, literal, inline normalisers)
    compared: bool = False
    open: bool = False  # compared with something unreadable: the handled names are not all known


def _handled(source: PythonSource, fn: Function, var: str, nodes: list) -> _Tests:
    """What `fn` handles for `var`: (literal, inline normalisers) pairs, prefix and substring tests,
    whether it compares `var` at all and whether it compares it with something unreadable.
    `nodes` is fn's body, walked once by the caller for all candidate names."""
    index = source.index
    out = _Tests()
    for comparison in (n for n in nodes if isinstance(n, cst.Comparison)):
        operands = [comparison.left] + [t.comparator for t in comparison.comparisons]
        forms = [_normalised_var(o, var) for o in operands]
        if all(f is None for f in forms):
            continue
        out.compared = True
        ops = next(f for f in forms if f is not None)
        for position, (o, form) in enumerate(zip(operands, forms)):
            if form is not None:
                continue
            operator = comparison.comparisons[position - 1 if position else 0].operator
            if position == 0 and isinstance(operator, (cst.In, cst.NotIn)):  # "vit" in name
                text = string_value(o)
                if text is None:
                    out.open = True
                else:
                    out.patterns.add(("in", text, ops))
                continue
            names = _known_names(o, index, fn)
            if names is None:
                out.open = True
            else:
                out.handled |= {(name, ops) for name in names}
    for node in nodes:
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = node.slice[0].slice.value
            key_ops = _normalised_var(key, var)
            if key_ops is not None:
                out.handled |= {(name, key_ops) for name in _names_in(node.value, index, fn)}
                out.compared = True
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute) or not node.args:
            continue
        method = node.func.attr.value
        if method == "get" and _normalised_var(node.args[0].value, var) is not None:
            get_ops = _normalised_var(node.args[0].value, var)
            out.handled |= {(name, get_ops) for name in _names_in(node.func.value, index, fn)}
            out.compared = True
        elif method in ("startswith", "endswith"):  # name.startswith("resnet"), name.endswith(("_c", "-c"))
            test_ops = _normalised_var(node.func.value, var)
            if test_ops is None:
                continue
            out.compared = True
            literals = _known_names(node.args[0].value, index, fn)
            out.patterns |= {(method, literal, test_ops) for literal in literals or ()}
            out.open |= literals is None
    return out


def _exits(statements: list[cst.CSTNode]) -> bool:
    """A branch that leaves the function (or the loop) instead of falling through to what follows."""
    small = _small(statements)
    return bool(small) and isinstance(small[-1], (cst.Return, cst.Raise, cst.Continue, cst.Break))


def _taken_before(source: PythonSource, fn: Function, var: str, origin_ops: tuple[str, ...],
                  before_stmt: Optional[int] = None) -> set[tuple[str, tuple[str, ...]]]:
    """Names an `if var == "dummy": … return` in fn's body takes (and leaves with), each with the
    normalisers from the raw configured value; with `before_stmt`, only ifs that come before it."""
    out: set[tuple[str, tuple[str, ...]]] = set()
    index = source.index
    for statement in _small(_body(fn.node)):
        branch: Optional[cst.CSTNode] = statement
        if before_stmt is not None and index.stmt_of.get(id(statement), -1) >= before_stmt:
            break
        while isinstance(branch, cst.If):
            if _exits(_body(branch)) and isinstance(branch.test, cst.Comparison) and len(branch.test.comparisons) == 1 \
                    and isinstance(branch.test.comparisons[0].operator, (cst.Equal, cst.In)):
                left, right = branch.test.left, branch.test.comparisons[0].comparator
                ops = _normalised_var(left, var)
                names = _known_names(right, index, fn) if ops is not None else None
                out |= {(name, origin_ops + ops) for name in names or ()} if ops is not None else set()
            branch = branch.orelse
    return out


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


def _origin(source: PythonSource, fn: Function, var: str, sources: tuple):
    """(config keys, normalisers) of the value `var` holds in `fn`, or None."""
    values = [v for v in fn.assigns.get(var, []) if v is not None]
    if values:
        return config_keys(source, values[0], fn, 0, sources) if len(values) == 1 else None
    return _from_callers(source, fn, var, 0, sources) if var in fn.params else None


def _candidates(fn: Function) -> list[str]:
    names = {n.value for n in iter_subtree(fn.node.body) if isinstance(n, cst.Name)}
    return sorted(({p for p in fn.params} | set(fn.assigns)) & names)


def _handled_before(source: PythonSource, fn: Function, var: str, keys: tuple, sources: tuple) -> set:
    """Names of config value `keys` that leave before `fn`'s dispatch on `var` sees them: an earlier
    `if other == "dummy": return …` in fn on another variable holding the same value, or one in a
    caller before it calls fn."""
    out: set = set()
    for other in _candidates(fn):
        origin = _origin(source, fn, other, sources) if other != var else None
        if origin is not None and origin[0] == keys:
            out |= _taken_before(source, fn, other, tuple(origin[1]))
    for caller, call in call_sites(source, fn, sources):
        scope = call.scope
        if scope is None or scope is fn:
            continue
        for other in _candidates(scope):
            origin = _origin(caller, scope, other, sources)
            if origin is not None and origin[0] == keys:
                out |= _taken_before(caller, scope, other, tuple(origin[1]), call.stmt)
    return out


def dispatches(source: PythonSource, sources: tuple = ()) -> list[Dispatch]:
    out = []
    for fn in source.index.functions:
        if not _fallback_raises(fn.node):
            continue
        nodes = list(iter_subtree(fn.node.body))
        for var in _candidates(fn):
            tests = _handled(source, fn, var, nodes)
            if not tests.compared or not (tests.handled or tests.patterns) or tests.open \
                    or _generic_use(source, fn, var):
                continue
            raises = _fallback_raises(fn.node, var)
            if not raises:
                continue  # the raises belong to another variable's dispatch
            origin = _origin(source, fn, var, sources)
            if origin is None or not origin[0]:
                continue
            keys = _with_context(source, fn, origin[0])
            if keys is None:
                continue
            out.append(Dispatch(source, fn, var, keys, origin[1], tests.handled, raises[0], tests.patterns,
                                _handled_before(source, fn, var, origin[0], sources)))
    return out
