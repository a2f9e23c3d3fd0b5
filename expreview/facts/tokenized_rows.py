"""What the rows of a 🤗 `datasets` dataset hold after `.map(fn)` with a tokenizer call: which list
fields vary in length from row to row (the tokenizer did not pad them) and where each one is
written. Followed back from an expression (a DataLoader's dataset) through names assigned in the
same function, `self.` attributes assigned once in the class, row-preserving methods (`select`,
`shuffle`, `filter`, `with_format`, …), split subscripts, tuple items, and the returns of the
bundle functions a call reaches (facts.bundle_defs). An assignment under an `if` counts only when
the value before it agrees. Anything else is unknown (None): the rules built on it stay silent."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.bundle_defs import calls_by_node, resolve_callee
from expreview.facts.conditions import under_branch
from expreview.facts.literals import literal
from expreview.facts.values import own_returns, resolve
from expreview.sources.index import Function, dotted_name, encloses, keyword_argument, string_value
from expreview.sources.pyfile import PythonSource

# Dataset methods that keep each row's fields as they are (they pick, order or re-type rows).
_KEEPS_ROWS = {"select", "shuffle", "filter", "with_format", "sort", "flatten_indices", "take", "skip",
               "train_test_split", "shard", "cast", "with_transform"}
_TOKENIZER = re.compile(r"(?i)(^|[._])tokeni[sz]er$")
# What a tokenizer call returns, row by row, when it does not pad (`return_attention_mask=False`
# drops the mask).
_TOKENIZER_FIELDS = ("input_ids", "attention_mask")


@dataclass(frozen=True)
class RaggedRows:
    """Rows whose list fields `ragged` (name -> the node that writes it) vary in length."""
    ragged: dict
    function: str  # the mapped function's name
    tokenizer_call: cst.Call
    source: PythonSource


def ragged_rows(bundle: Bundle, source: PythonSource, expr: cst.CSTNode, scope: Optional[Function],
                before: int, depth: int = 0, element: Optional[int] = None) -> Optional[RaggedRows]:
    """The rows `expr` holds at statement `before` of `scope`, when they come from a tokenizing map
    that leaves some list fields unpadded; `element`: the rows are item `element` of the tuple
    `expr` gives (`train, val = build(...)`)."""
    if depth > 8:
        return None
    if element is not None and isinstance(expr, (cst.Tuple, cst.List)):
        items = [e.value for e in expr.elements if isinstance(e, cst.Element)]
        if len(items) != len(expr.elements) or element >= len(items):
            return None
        return ragged_rows(bundle, source, items[element], scope, before, depth + 1)
    if isinstance(expr, cst.Name):
        found = _last_assignment(source, expr.value, scope, before)
        if found is None:
            return None
        rows = ragged_rows(bundle, source, found[0], found[1], found[2], depth + 1, found[3])
        if rows is not None and under_branch(source, found[2], scope):
            # An assignment under an `if` may not have run: the value before it must agree.
            earlier = ragged_rows(bundle, source, expr, scope, found[2], depth + 1, element)
            if earlier is None or earlier.ragged.keys() != rows.ragged.keys():
                return None
        return rows
    if element is not None and not isinstance(expr, cst.Call):
        return None
    if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
        found = _self_assignment(source, expr.attr.value, scope)
        return ragged_rows(bundle, source, found[0], found[1], found[2], depth + 1, found[3]) if found else None
    if isinstance(expr, cst.Subscript):  # `splits["train"]` of a mapped DatasetDict
        return ragged_rows(bundle, source, expr.value, scope, before, depth + 1)
    if not isinstance(expr, cst.Call):
        return None
    func = expr.func
    if isinstance(func, cst.Attribute) and element is None:
        if func.attr.value == "map":
            return _mapped(source, expr, scope)
        if func.attr.value in _KEEPS_ROWS:
            return ragged_rows(bundle, source, func.value, scope, before, depth + 1)
    call = calls_by_node(source).get(id(expr))
    callee = resolve_callee(bundle, source, call) if call is not None else None
    if callee is None or not isinstance(callee.node, cst.FunctionDef):
        return None
    fn = next((f for f in callee.source.index.functions if f.node is callee.node), None)
    if fn is None:
        return None
    results = [ragged_rows(bundle, callee.source, value, fn, _stmt(callee.source, ret), depth + 1, element)
               for ret in own_returns(fn.node) if (value := ret.value) is not None]
    first = results[0] if results else None
    return first if first is not None and all(r is not None and r.ragged.keys() == first.ragged.keys()
                                              for r in results) else None


def _stmt(source: PythonSource, node: cst.CSTNode) -> int:
    return source.index.stmt_of.get(id(node), -1)


_Assignment = tuple[cst.CSTNode, Optional[Function], int, Optional[int]]


def _target_position(target: cst.CSTNode, name: str, prefix: str = "") -> Optional[int]:
    """-1 when `target` is the name (`name`, or `self.name` with prefix "self."), the item's
    position when it is an item of a flat tuple target, else None."""
    if dotted_name(target) == prefix + name and isinstance(target, (cst.Name, cst.Attribute)):
        return -1
    if isinstance(target, (cst.Tuple, cst.List)):
        for i, item in enumerate(target.elements):
            if isinstance(item.value, (cst.Name, cst.Attribute)) and dotted_name(item.value) == prefix + name:
                return i
    return None


def _last_assignment(source: PythonSource, name: str, scope: Optional[Function],
                     before: int) -> Optional[_Assignment]:
    """(value, scope, statement, tuple item) of the last `name = value` of `scope` before statement
    `before`."""
    index = source.index
    first = index.statement_range(scope.node)[0] + 1 if scope is not None else 0
    last = None
    for ordinal in range(max(first, 0), min(before, len(index.statements))):
        stmt = index.statements[ordinal]
        if type(stmt) is cst.Assign and index.scope_of(ordinal) is scope:
            for t in stmt.targets:
                position = _target_position(t.target, name)
                if position is not None:
                    last = (stmt.value, scope, ordinal, None if position < 0 else position)
    return last


def _self_assignment(source: PythonSource, attr: str, scope: Optional[Function]) -> Optional[_Assignment]:
    """The one `self.attr = value` in the methods of `scope`'s class."""
    cls = _owner(scope).class_name if scope is not None else None
    if cls is None:
        return None
    index = source.index
    found = []
    for ordinal, stmt in enumerate(index.statements):
        if type(stmt) is not cst.Assign:
            continue
        for t in stmt.targets:
            position = _target_position(t.target, attr, "self.")
            fn = index.scope_of(ordinal)
            if position is not None and fn is not None and _owner(fn).class_name == cls:
                found.append((stmt.value, fn, ordinal, None if position < 0 else position))
    return found[0] if len(found) == 1 else None


def _owner(fn: Function) -> Function:
    """The outermost function holding `fn` (a method, for a def nested in one)."""
    while fn.parent is not None:
        fn = fn.parent
    return fn


def _function(source: PythonSource, name: str, scope: Optional[Function]) -> Optional[Function]:
    """The def `name` visible from `scope`: nested in it or an enclosing function, else top-level."""
    for fn in source.index.functions:
        if fn.name == name and fn.class_name is None and (
                fn.parent is None or scope is not None and encloses(fn.parent, scope)):
            return fn
    return None


def _method(source: PythonSource, name: str, scope: Optional[Function]) -> Optional[Function]:
    """`self.name`: the method `name` of `scope`'s class."""
    cls = _owner(scope).class_name if scope is not None else None
    for fn in source.index.functions:
        if cls is not None and fn.name == name and fn.class_name == cls and fn.parent is None:
            return fn
    return None


def _mapped(source: PythonSource, call: cst.Call, scope: Optional[Function]) -> Optional[RaggedRows]:
    """The rows `dataset.map(fn, …)` makes, when `fn` tokenizes without padding."""
    given = next((a.value for a in call.args if a.keyword is None and not a.star), None)
    given = given if given is not None else keyword_argument(call, "function")
    if given is None:
        return None
    batched = literal(keyword_argument(call, "batched")) is True
    if isinstance(given, cst.Call) and dotted_name(given.func).endswith("partial") and given.args:
        given = given.args[0].value
    if isinstance(given, cst.Lambda) and isinstance(given.body, cst.Call) and isinstance(given.body.func, cst.Name) \
            and given.params.params and given.body.args \
            and dotted_name(given.body.args[0].value) == given.params.params[0].name.value:
        given = given.body.func  # `lambda e: tokenise(e, tokenizer, cfg)`: the rows are tokenise's
    if isinstance(given, cst.Name):
        fn = _function(source, given.value, scope)
    elif isinstance(given, cst.Attribute) and dotted_name(given.value) == "self":
        fn = _method(source, given.attr.value, scope)
    else:
        return None
    return _tokenized(source, fn, batched) if fn is not None else None


def _unpadded(call: cst.Call, batched: bool) -> bool:
    """The tokenizer call leaves its rows at their own lengths: no padding, or padding to the
    longest of a single example (a map that is not batched). A padding it cannot read is not."""
    given = keyword_argument(call, "padding")
    if given is None:
        return True
    padding = literal(given)
    if padding is False or padding == "do_not_pad":
        return True
    return (padding is True or padding == "longest") and not batched


def _tokenized(source: PythonSource, fn: Function, batched: bool) -> Optional[RaggedRows]:
    index = source.index
    calls = [c for c in index.calls if c.scope is fn and _TOKENIZER.search(c.name)]
    if len(calls) != 1 or not _unpadded(calls[0].node, batched):
        return None
    tok = calls[0].node
    fields = [f for f in _TOKENIZER_FIELDS
              if f != "attention_mask" or literal(keyword_argument(tok, "return_attention_mask")) is not False]
    # The name the tokenizer's result is bound to, when the call is a plain assignment's value.
    bound = None
    stmt = index.statements[calls[0].stmt] if 0 <= calls[0].stmt < len(index.statements) else None
    if type(stmt) is cst.Assign and stmt.value is tok and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0].target, cst.Name):
        bound = stmt.targets[0].target.value
    elif not (isinstance(stmt, cst.Return) and stmt.value is tok):
        return None
    ragged: dict = {f: tok for f in fields}
    if bound is not None:
        for sub in index.subscripts:
            if sub.scope is not fn or not sub.store or sub.base != bound or not sub.key:
                continue
            assign = index.statements[sub.stmt]
            if type(assign) is not cst.Assign:
                return None
            if _derives(source, assign.value, bound, fn, fields):
                ragged[sub.key] = assign
            else:
                ragged.pop(sub.key, None)  # rewritten: its shape is no longer the tokenizer's
    returns = own_returns(fn.node)
    if not returns:
        return None
    for ret in returns:
        value = ret.value
        if value is tok or isinstance(value, cst.Name) and value.value == bound:
            continue
        return None  # a dict built by hand, or anything else: its fields are not followed
    return RaggedRows(ragged, fn.name, tok, source)


def _derives(source: PythonSource, expr: cst.CSTNode, bound: str, fn: Function, fields: list[str],
             depth: int = 0) -> bool:
    """`expr` is a copy of one of the tokenizer's unpadded fields, element for element:
    `out["input_ids"]`, `.copy()`, `list(…)`, `[:]`, `copy.deepcopy(…)`, or a comprehension over it."""
    if depth > 4:
        return False
    expr = resolve(source.index, expr, fn)
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        if isinstance(index, cst.Slice):  # `ids[:]`, a whole copy
            return index.lower is None and index.upper is None and index.step is None \
                and _derives(source, expr.value, bound, fn, fields, depth + 1)
        return isinstance(index, cst.Index) and dotted_name(expr.value) == bound \
            and string_value(index.value) in fields
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func)
        if isinstance(expr.func, cst.Attribute) and expr.func.attr.value == "copy" and not expr.args:
            return _derives(source, expr.func.value, bound, fn, fields, depth + 1)
        if name in ("list", "copy.deepcopy", "copy.copy", "deepcopy") and len(expr.args) == 1:
            return _derives(source, expr.args[0].value, bound, fn, fields, depth + 1)
        return False
    if isinstance(expr, (cst.ListComp, cst.GeneratorExp)):
        return _derives(source, expr.for_in.iter, bound, fn, fields, depth + 1)
    return False
