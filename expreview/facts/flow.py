"""Where a value can go inside one file: through names assigned once (facts.values.resolve), and
through function parameters, from every call of the function, including the calls a thread or a
pool makes (`threading.Thread(target=f, args=(a, b))`, `pool.submit(f, a, b)`). The rules ask
"may this expression hold a value that <test> accepts?" instead of matching the shapes of the code
that usually holds it. Collections hold their elements, loop variables what they loop over, and an
object built by a call what the call was given (a `Tee(sys.stdout, log)` holds sys.stdout): the
answer errs towards "may", so that rules built on it stay silent when unsure."""
from __future__ import annotations

from typing import Callable, Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.bundle_defs import resolved_calls
from expreview.facts.values import own_returns, resolve
from expreview.sources.index import Function, dotted_name, iter_children, string_value
from expreview.sources.pyfile import PythonSource

Test = Callable[[cst.CSTNode], bool]
_SUBMIT = ("submit", "apply_async", "run_in_executor")


def _arguments_for(source: PythonSource, fn: Function, param: str) -> Iterator[tuple[cst.CSTNode, Optional[Function]]]:
    """(argument, its scope) for every call of `fn` in its file that passes `param`."""
    if param not in fn.params:
        return
    position = fn.params.index(param) - (1 if fn.params and fn.params[0] in ("self", "cls") else 0)
    for call in source.index.calls:
        args: list[cst.BaseExpression] = []
        keywords: dict[str, cst.BaseExpression] = {}
        if call.name == fn.name or call.name in (f"self.{fn.name}", f"cls.{fn.name}"):
            args = [a.value for a in call.node.args if a.keyword is None and not a.star]
            keywords = {a.keyword.value: a.value for a in call.node.args if a.keyword is not None}
        elif dotted_name(call.keyword("target") or cst.Name("_")) == fn.name:  # Thread(target=fn, args=(...))
            given = call.keyword("args")
            if isinstance(given, (cst.Tuple, cst.List)):
                args = [e.value for e in given.elements if isinstance(e, cst.Element)]
            extra = call.keyword("kwargs")
            if isinstance(extra, cst.Dict):
                keywords = {k: e.value for e in extra.elements if isinstance(e, cst.DictElement)
                            for k in [string_value(e.key)] if k}
        elif call.method in _SUBMIT and call.node.args and dotted_name(call.node.args[0].value) == fn.name:
            args = [a.value for a in call.node.args[1:] if a.keyword is None and not a.star]
        else:
            continue
        if param in keywords:
            yield keywords[param], call.scope
        elif 0 <= position < len(args):
            yield args[position], call.scope


def _returns(fn: cst.FunctionDef) -> list[cst.BaseExpression]:
    """The values `fn` itself returns (not those of functions or lambdas defined in it)."""
    return [r.value for r in own_returns(fn) if r.value is not None]


def may_hold(source: PythonSource, expr: cst.CSTNode, scope: Optional[Function], test: Test, depth: int = 0,
             bundle: Optional[Bundle] = None) -> bool:
    """`expr` is, or may at run time hold, a value that `test` accepts. Given the bundle, a call of
    one of its functions (in any module) holds what that function returns."""
    if depth > 6:
        return False
    value = resolve(source.index, expr, scope)
    if test(value):
        return True
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):  # a collection holds what its elements hold
        return any(may_hold(source, e.value, scope, test, depth + 1, bundle) for e in value.elements)
    if isinstance(value, cst.Call):  # an object built from the value may hold it (`Tee(sys.stdout, log)`),
        # and so does what a method of the value gives (`path.read_text()`, `path.open()`)
        receiver = [value.func.value] if isinstance(value.func, cst.Attribute) else []
        if any(may_hold(source, part, scope, test, depth + 1, bundle) for part in [a.value for a in value.args] + receiver):
            return True
        callee = resolved_calls(bundle).get(id(value)) if bundle is not None else None
        if callee is not None and isinstance(callee.node, cst.FunctionDef):
            fn = next((f for f in callee.source.index.functions if f.node is callee.node), None)
            return any(may_hold(callee.source, ret, fn, test, depth + 1, bundle) for ret in _returns(callee.node))
        return False
    if isinstance(value, cst.IfExp):
        return any(may_hold(source, branch, scope, test, depth + 1, bundle) for branch in (value.body, value.orelse))
    if isinstance(value, cst.BinaryOperation):  # `root / "config/full.yaml"`, `prefix + name`
        return any(may_hold(source, side, scope, test, depth + 1, bundle) for side in (value.left, value.right))
    if isinstance(value, cst.Subscript):  # `CONFIGS[mode]`: any value of the dict
        base = resolve(source.index, value.value, scope)
        if isinstance(base, cst.Dict):
            return any(may_hold(source, e.value, scope, test, depth + 1, bundle)
                       for e in base.elements if isinstance(e, cst.DictElement))
    if isinstance(value, cst.Name):
        index = source.index
        values = index.assigned(value.value, scope)
        if len(values) > 1:  # assigned several times: any of the values
            return any(v is not value and may_hold(source, v, scope, test, depth + 1, bundle) for v in values)
        for ordinal, statement in enumerate(index.statements):  # `for stream in streams:`
            if type(statement) is cst.For and isinstance(statement.target, cst.Name) and \
                    statement.target.value == value.value and index.scope_of(ordinal) is scope:
                if may_hold(source, statement.iter, scope, test, depth + 1, bundle):
                    return True
        fn = scope
        while fn is not None and value.value not in fn.params:
            fn = fn.parent
        if fn is not None:
            return any(may_hold(source, arg, arg_scope, test, depth + 1, bundle)
                       for arg, arg_scope in _arguments_for(source, fn, value.value))
    return False
