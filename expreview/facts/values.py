"""What a name or parameter holds: the one value assigned to a name, the calls of a function,
and the argument every call passes for a parameter."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, Optional, TypeVar

import libcst as cst

from expreview.facts.cache import source_fact
from expreview.sources.index import Call, Function, Index, iter_children
from expreview.sources.pyfile import PythonSource

T = TypeVar("T")


def resolve(index: Index, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> cst.CSTNode:
    """Follow a name to the one value assigned to it, when there is exactly one."""
    while isinstance(expr, cst.Name) and depth < 8:
        values = [v for v in index.assigned(expr.value, scope) if v is not None]
        if len(values) != 1 or isinstance(values[0], cst.Name) and values[0].value == expr.value:
            return expr
        expr = values[0]
        depth += 1
    return expr


def call_sites(source: PythonSource, fn: Function,
               sources: Iterable[PythonSource] = ()) -> Iterator[tuple[PythonSource, Call]]:
    """(file, call) for every call of `fn`: by name (or self./cls.) in its own file, and in the
    other `sources` as `module.fn` or as a name imported from fn's module."""
    own = {fn.name} if fn.class_name is None else {f"self.{fn.name}", f"cls.{fn.name}"}
    stem = source.path.rsplit("/", 1)[-1][:-3]
    for caller in sources or (source,):
        if caller is source:
            names = own
        else:
            imported = any(imp.name == fn.name and (imp.module or "").split(".")[-1] == stem
                           for imp in caller.index.imports)
            names = {fn.name} if imported else set()
        for call in _calls_by_tail(caller).get(fn.name, ()):
            if call.name in names or caller is not source and call.name.endswith("." + fn.name):
                yield caller, call


@source_fact
def _calls_by_tail(source: PythonSource) -> dict[str, list[Call]]:
    """The file's calls by the last part of the callee's name (`fit` for `trainer.fit`), in order:
    every call site of a function has that function's name last."""
    out: dict[str, list[Call]] = {}
    for call in source.index.calls:
        out.setdefault(call.name.rsplit(".", 1)[-1], []).append(call)
    return out


def own_returns(fn: cst.FunctionDef) -> list[cst.Return]:
    """The `return` statements of `fn` itself (not those of functions, lambdas or classes in it)."""
    out = []
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Return):
            out.append(node)
        stack.extend(c for c in iter_children(node) if not isinstance(c, (cst.FunctionDef, cst.Lambda, cst.ClassDef)))
    return out


def calls_named(source: PythonSource, last: str) -> list[Call]:
    """The file's calls whose callee's name ends with `last` (`format` for `template.format(...)`),
    or with a name an import binds to something called `last` (`DataLoader as DL`), in order, from
    the table built once per file."""
    table = _calls_by_tail(source)
    tails = {last} | {imp.alias for imp in source.index.imports if imp.qualified.rsplit(".", 1)[-1] == last}
    if len(tails) == 1:
        return table.get(last, [])
    return sorted((c for t in tails for c in table.get(t, [])), key=lambda c: (c.stmt, source.span(c.node).column))


def argument(call: Call, fn: Function, param: str) -> Optional[cst.CSTNode]:
    """What `call` passes for `fn`'s parameter `param`."""
    if param not in fn.params:
        return None
    position = fn.params.index(param) - (1 if fn.params[0] in ("self", "cls") else 0)
    return call.keyword(param) or (call.positional(position) if position >= 0 else None)


def agreed_argument(source: PythonSource, fn: Function, param: str, sources: Iterable[PythonSource],
                    judge: Callable[[PythonSource, Call, cst.CSTNode], Optional[T]]) -> Optional[T]:
    """`judge(caller, call, arg)` for the argument every call passes, when all calls agree
    (None when there is no call, an argument is missing, or callers disagree)."""
    found: Optional[T] = None
    for caller, call in call_sites(source, fn, sources):
        arg = argument(call, fn, param)
        if arg is None:
            return None
        value = judge(caller, call, arg)
        if value is None or found is not None and value != found:
            return None
        found = value
    return found
