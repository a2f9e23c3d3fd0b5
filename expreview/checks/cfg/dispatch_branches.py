"""How a function branches on a configured name (the name dispatch CFG004 follows): the literals,
collections and registry dicts it compares the name with, its prefix and substring tests, the raise an
unhandled name reaches, the names an earlier `if … return` takes, and a hand-off to a generic loader
(`load_dataset(name)`), which accepts any name."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from expreview.checks.cfg.common import NORMALISERS
from expreview.facts.values import resolve
from expreview.sources.index import Function, Index, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource


_UNKNOWN = re.compile(r"unknown|not (?:yet )?implemented|not supported|unsupported|not registered|"
                      r"not recogni[sz]ed|invalid|no such|must be provided|not available", re.I)
_ERRORS = ("NotImplementedError", "ValueError", "KeyError", "RuntimeError")


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


def fallback_raises(fn: cst.FunctionDef, var: Optional[str] = None) -> list[cst.Raise]:
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
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value in NORMALISERS:
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


def handled(source: PythonSource, fn: Function, var: str, nodes: list) -> _Tests:
    """What `fn` handles for `var`: (literal, inline normalisers) pairs, prefix and substring tests,
    whether it compares `var` at all and whether it compares it with something unreadable.
    `nodes` is fn's body, walked once by the caller for all candidate names."""
    index = source.index
    out = _Tests()
    for comparison in (n for n in nodes if type(n) is cst.Comparison):  # exact: the node classes are ABCs
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
        if type(node) is not cst.Subscript and type(node) is not cst.Call:
            continue
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


def taken_before(source: PythonSource, fn: Function, var: str, origin_ops: tuple[str, ...],
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


def generic_use(source: PythonSource, fn: Function, var: str) -> bool:
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
