"""Which of a file's functions a function can reach by calls (or by handing them to a thread or
pool), and which run inside loops."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from expreview.sources.index import Function, Index, encloses


def _parameter(name: str, scope: Optional[Function]) -> bool:
    """`name` is a parameter of `scope` or of a function around it: a call through it reaches
    whatever the caller passed (`def fit(model, log=None): … log(x)`), not the file's function of
    that name."""
    while scope is not None:
        if name in scope.params:
            return True
        scope = scope.parent
    return False


def callees(index: Index, fn: Function) -> set[str]:
    """Names of this file's functions that `fn` calls or hands to a thread or pool."""
    local = {f.name for f in index.functions}
    out = set()
    for call in index.calls:
        if call.scope is None or not encloses(fn, call.scope):
            continue
        if call.name in local and not _parameter(call.name, call.scope):
            out.add(call.name)
        for arg in call.node.args:
            if isinstance(arg.value, cst.Name) and arg.value.value in local \
                    and not _parameter(arg.value.value, call.scope):
                out.add(arg.value.value)
    return out


def reachable(index: Index, start: Function) -> set[str]:
    """`start` and the names of the functions it reaches through calls in its file."""
    seen = {start.name}
    todo = [start]
    while todo:
        fn = todo.pop()
        for name in callees(index, fn):
            if name not in seen:
                seen.add(name)
                target = index.function(name)
                if target is not None:
                    todo.append(target)
    return seen


def functions_called_in_loops(index: Index) -> set[str]:
    """Functions called, or handed to a thread or pool, from inside a loop (and what they reach)."""
    local = {f.name for f in index.functions}
    started = set()
    for call in index.calls:
        if not call.loops:
            continue
        if call.name in local:
            started.add(call.name)
        for arg in call.node.args:
            if isinstance(arg.value, cst.Name) and arg.value.value in local:
                started.add(arg.value.value)
    out = set()
    for name in started:
        fn = index.function(name)
        if fn is not None:
            out |= reachable(index, fn)
    return out
