"""Whether a statement always runs when its program runs: not under an `if`, `while` or `match`
of its function, in a function that the entry point (or module level) reaches through such
statements; and whether a statement is inside a `try` that catches a given kind of error."""
from __future__ import annotations

from typing import Iterable, Optional

import libcst as cst

from expreview.facts.values import call_sites
from expreview.sources.index import Function, dotted_name
from expreview.sources.pyfile import PythonSource

_BRANCHES: tuple[type, ...] = (cst.If, cst.While) + tuple(
    t for t in (getattr(cst, "Match", None),) if t is not None)


def _enclosing(source: PythonSource, stmt: int, kinds: tuple[type, ...], scope: Optional[Function]) -> list[cst.CSTNode]:
    """The statements of `kinds` inside `scope` whose body holds statement `stmt`."""
    index = source.index
    out = []
    floor = scope.stmt if scope is not None else -1
    for ordinal, statement in enumerate(index.statements):
        if ordinal <= floor or ordinal >= stmt:
            continue
        if isinstance(statement, kinds) and stmt <= index.last_inside.get(ordinal, ordinal):
            out.append(statement)
    return out


def branch_tests(source: PythonSource, stmt: int, scope: Optional[Function]) -> list[cst.BaseExpression]:
    """The tests of the `if`/`while` statements (in `scope`) whose body holds statement `stmt`."""
    return [s.test for s in _enclosing(source, stmt, (cst.If, cst.While), scope)
            if isinstance(s, (cst.If, cst.While))]


def _main_guard(statement: cst.CSTNode) -> bool:
    """`if __name__ == "__main__":`, which runs when the program runs."""
    return isinstance(statement, cst.If) and isinstance(statement.test, cst.Comparison) and \
        dotted_name(statement.test.left) == "__name__"


def under_branch(source: PythonSource, stmt: int, scope: Optional[Function]) -> bool:
    return any(not _main_guard(s) for s in _enclosing(source, stmt, _BRANCHES, scope))


def caught(source: PythonSource, stmt: int, scope: Optional[Function], names: Iterable[str]) -> bool:
    """Statement `stmt` is in the body of a `try` (in `scope`) with a bare `except`, or one that
    catches one of `names` (matched on the last dotted part: `omegaconf.errors.ConfigKeyError`)."""
    wanted = set(names)
    index = source.index
    for statement in _enclosing(source, stmt, (cst.Try,), scope):
        assert isinstance(statement, cst.Try)
        last = statement.body.body[-1] if statement.body.body else None
        if isinstance(last, cst.SimpleStatementLine):  # the index numbers its small statements, not the line
            last = last.body[-1]
        body_last = index.stmt_of.get(id(last), -1) if last is not None else -1
        body_last = index.last_inside.get(body_last, body_last)
        if stmt > body_last:
            continue  # in a handler, `else` or `finally`: not protected by the handlers
        for handler in statement.handlers:
            if handler.type is None:
                return True
            types = handler.type.elements if isinstance(handler.type, cst.Tuple) else [handler.type]
            for item in types:
                node = item.value if isinstance(item, cst.Element) else item
                if dotted_name(node).split(".")[-1] in wanted:
                    return True
    return False


def always_reached(source: PythonSource, fn: Optional[Function], sources: tuple, entries: Iterable[Function],
                   depth: int = 0) -> bool:
    """`fn` (None: module level) runs whenever the program runs: it is an entry point, or some call
    of it always runs in a function that is always reached. Unknown callers (a callback, a
    function passed by name) count as not always."""
    if fn is None or any(fn is entry for entry in entries):
        return True
    if depth > 4:
        return False
    for caller, call in call_sites(source, fn, sources):
        if under_branch(caller, call.stmt, call.scope):
            continue
        if always_reached(caller, call.scope, sources, entries, depth + 1):
            return True
    return False
