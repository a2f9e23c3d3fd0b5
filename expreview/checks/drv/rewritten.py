"""For DRV001: the missing base definitions that the derived code keeps under another name (the
same or a similar normalised body in a new derived definition)."""
from __future__ import annotations

import ast
import difflib
import re
from typing import Optional

from expreview.bundle import Bundle
from expreview.checks.drv.base_uses import Use
from expreview.checks.drv.common import DEFINITIONS, Definition
from expreview.sources.pyfile import PythonSource

# Token similarity of two normalised bodies at which a new derived definition is taken to be a
# base definition rewritten under another name; lower when it also took the base one's place
# (its caller now calls it instead).
_REWRITTEN, _REWRITTEN_IN_PLACE = 0.75, 0.5
_SIMILAR_MIN_TOKENS = 30  # a shorter definition counts as rewritten only with the same body
_BUILTINS = {"len", "range", "print", "str", "int", "float", "bool", "dict", "list", "tuple", "set",
             "enumerate", "zip", "isinstance", "super", "min", "max", "sum", "sorted", "open", "getattr",
             "hasattr", "setattr", "round", "abs", "any", "all", "map", "filter", "type", "repr"}


def _normalised(node: Definition) -> list[str]:
    """The tokens of a definition without its name, docstrings and annotations. (The parsed tree
    is shared: the fields are blanked for the unparse and put back, which costs far less than a
    copy of the tree.)"""
    saved: list[tuple[ast.AST, str, object]] = []

    def blank(owner: ast.AST, attr: str, value: object) -> None:
        saved.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, value)

    try:
        for sub in ast.walk(node):
            if isinstance(sub, DEFINITIONS):
                body = sub.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                        and isinstance(body[0].value.value, str):
                    blank(sub, "body", body[1:] or [ast.Pass()])
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                blank(sub, "returns", None)
            elif isinstance(sub, ast.arg):
                blank(sub, "annotation", None)
        blank(node, "name", "_")
        return re.findall(r"\w+|[^\w\s]", ast.unparse(node))
    finally:
        for owner, attr, value in reversed(saved):
            setattr(owner, attr, value)


def _calls_by_definition(source: PythonSource) -> dict[Optional[str], set[str]]:
    """Dotted names of the calls made in each top-level definition of `source` (None: the module
    level outside them), builtins left out; from the shared index, which records every call."""
    index = source.index
    ranges = [(name, *index.statement_range(node)) for name, node in index.toplevel.items()]
    out: dict[Optional[str], set[str]] = {None: set()}
    out.update((name, set()) for name, _, _ in ranges)
    for call in index.calls:
        if not call.name or call.name in _BUILTINS:  # '' for a callee that is no dotted name
            continue
        top = next((name for name, first, last in ranges if first <= call.stmt <= last), None)
        out[top].add(call.name)
    return out


def rewritten(bundle: Bundle, missing: list[tuple[str, str, Definition, PythonSource]],
               derived_defs: dict[str, tuple[str, Definition]], base_names: set[str],
               uses: dict[str, list[Use]]) -> set[str]:
    """Names of the missing base definitions whose behaviour the derived code keeps under another
    name: a new derived definition (a name the base lacks) of the same kind has the same
    normalised body, or a similar one, and each new definition stands for one base definition at
    most."""
    assert bundle.base is not None
    kinds = {isinstance(node, ast.ClassDef) for _, _, node, _ in missing}
    fresh = {name: (node, _normalised(node)) for name, (_, node) in derived_defs.items()
             if name not in base_names and isinstance(node, ast.ClassDef) in kinds}
    by_path: dict[str, dict[Optional[str], set[str]]] = {}

    def calls_in(path: str, top: Optional[str]) -> set[str]:
        """What the derived `top` (a top-level definition of `path`, None: its module level) calls;
        worked out for a file only when a caller there is asked about."""
        if path not in by_path:
            source = bundle.python(path)
            by_path[path] = _calls_by_definition(source) if source is not None and source.ok else {}
        return by_path[path].get(top, set())
    scored = []
    for path, name, node, _ in missing:
        mine = _normalised(node)
        callers = {(u.path, u.top) for u in uses.get(name, []) if u.top != name}
        for new_name, (new_node, theirs) in fresh.items():
            if isinstance(new_node, ast.ClassDef) != isinstance(node, ast.ClassDef):
                continue
            if len(mine) < _SIMILAR_MIN_TOKENS:
                if mine == theirs:
                    scored.append((1.0, name, new_name))
                continue
            ratio = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).ratio()
            in_place = any(new_name in _called_names(calls_in(*c)) for c in callers)
            if ratio >= _REWRITTEN or in_place and ratio >= _REWRITTEN_IN_PLACE:
                scored.append((ratio, name, new_name))
    kept, taken = set(), set()
    for ratio, name, new_name in sorted(scored, reverse=True):
        if name not in kept and new_name not in taken:
            kept.add(name)
            taken.add(new_name)
    # A definition inlined into its caller is not kept under another name: DRV001 still reports
    # it, as a warning (checks/drv/inlined.py).
    return kept


def _called_names(calls: set[str]) -> set[str]:
    return {c.rsplit(".", 1)[-1] for c in calls}
