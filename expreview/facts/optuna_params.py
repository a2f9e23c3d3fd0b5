"""The names of the parameters an Optuna search suggests (`trial.suggest_float("lr", …)`), and the
loops that write a study's parameters back by name (`for name, value in study.best_params.items():
cfg.training[name] = value`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.sources.index import dotted_name, string_value
from expreview.sources.pyfile import PythonSource


@dataclass(frozen=True)
class SuggestedNames:
    literal: tuple[str, ...]  # `suggest_float("lr", …)`, in file order
    # config paths whose keys name the parameters: `for name, space in cfg.optuna.search_space.items():
    # trial.suggest_float(name, …)` gives ("cfg", "optuna", "search_space") as written
    from_loops: tuple[str, ...]


def _loop_names(statement: cst.For) -> set[str]:
    target = statement.target
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, cst.Tuple) and target.elements and isinstance(target.elements[0].value, cst.Name):
        return {target.elements[0].value.value}  # `for name, value in x.items()`: the key
    return set()


def _iterated(statement: cst.For) -> str:
    """The dotted name a loop iterates (`cfg.optuna.search_space` of `….items()`)."""
    value = statement.iter
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value in (
            "items", "keys"):
        value = value.func.value
    return dotted_name(value)


def loops_binding(source: PythonSource, stmt: int, name: str) -> list[cst.For]:
    """The `for` statements around statement `stmt` whose key variable is `name`."""
    index = source.index
    return [s for ordinal, s in enumerate(index.statements)
            if isinstance(s, cst.For) and ordinal < stmt <= index.last_inside.get(ordinal, ordinal)
            and name in _loop_names(s)]


def writes_study_params(source: PythonSource, stmt: int, name: str) -> bool:
    """`name` is the key of a loop over a study's or trial's parameters (`best_params`, `params`)."""
    return any(_iterated(loop).split(".")[-1] in ("best_params", "params") or
               _iterated(loop).endswith("best_trial.params") for loop in loops_binding(source, stmt, name))


@bundle_fact
def suggested_names(bundle: Bundle) -> SuggestedNames:
    literal: list[str] = []
    loops: list[str] = []
    for source in bundle.python_files():
        if not source.ok:
            continue
        index = source.index
        for call in index.calls:
            if not call.method.startswith("suggest_"):
                continue
            arg: Optional[cst.BaseExpression] = call.keyword("name") or call.positional(0)
            if arg is None:
                continue
            text = string_value(arg)
            if text is not None and "{" not in text:
                if text not in literal:
                    literal.append(text)
            elif isinstance(arg, cst.Name):
                for loop in loops_binding(source, call.stmt, arg.value):
                    iterated = _iterated(loop)
                    if iterated and iterated not in loops:
                        loops.append(iterated)
    return SuggestedNames(tuple(literal), tuple(loops))
