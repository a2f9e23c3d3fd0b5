"""How code dispatches on a configured name, and which names reach its unknown-name error.

Followed: `name == "A"` / `name in ("A", "B")` comparisons, registry dicts (`name in REGISTRY`,
`REGISTRY[name]`, `REGISTRY.get(name)`), `.upper()`/`.lower()` normalisation, and where the name
comes from in the config (`cfg["dataset"]["name"]`, `cfg.get("model", {}).get("name")`,
`cfg.model.name`, or a parameter that every caller fills from the config). A function that hands
the name to a generic loader (`load_dataset(name)`) handles any name and is not a dispatch.

The function's branches on the name are read in dispatch_branches, where its value comes from in the
config in config_origin; this module puts them together for CFG004 (configured_names).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from expreview.checks.cfg.config_origin import config_keys, from_callers
from expreview.checks.cfg.dispatch_branches import fallback_raises, generic_use, handled, taken_before
from expreview.facts.cache import source_fact
from expreview.facts.values import call_sites
from expreview.sources.index import Function, dotted_name, iter_subtree
from expreview.sources.pyfile import PythonSource


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
    return from_callers(source, fn, var, 0, sources) if var in fn.params else None


def _candidates(source: PythonSource, fn: Function) -> list[str]:
    """The parameters and local variables that `fn`'s body reads (a dispatch asks for its own and
    for each caller's; the body is walked once per function)."""
    names = {n.value for n in _body_nodes(source, fn) if type(n) is cst.Name}
    return sorted(({p for p in fn.params} | set(fn.assigns)) & names)


def _body_nodes(source: PythonSource, fn: Function) -> list[cst.CSTNode]:
    """Every node of `fn`'s body, listed once per function."""
    memo = _body_memo(source)
    found = memo.get(id(fn.node))
    if found is None:
        found = memo[id(fn.node)] = list(iter_subtree(fn.node.body))
    return found


@source_fact
def _body_memo(source: PythonSource) -> dict[int, list[cst.CSTNode]]:
    return {}


def _handled_before(source: PythonSource, fn: Function, var: str, keys: tuple, sources: tuple) -> set:
    """Names of config value `keys` that leave before `fn`'s dispatch on `var` sees them: an earlier
    `if other == "dummy": return …` in fn on another variable holding the same value, or one in a
    caller before it calls fn."""
    out: set = set()
    for other in _candidates(source, fn):
        origin = _origin(source, fn, other, sources) if other != var else None
        if origin is not None and origin[0] == keys:
            out |= taken_before(source, fn, other, tuple(origin[1]))
    for caller, call in call_sites(source, fn, sources):
        scope = call.scope
        if scope is None or scope is fn:
            continue
        for other in _candidates(caller, scope):
            origin = _origin(caller, scope, other, sources)
            if origin is not None and origin[0] == keys:
                out |= taken_before(caller, scope, other, tuple(origin[1]), call.stmt)
    return out


def dispatches(source: PythonSource, sources: tuple = ()) -> list[Dispatch]:
    out = []
    for fn in source.index.functions:
        if not fallback_raises(fn.node):
            continue
        nodes = _body_nodes(source, fn)
        for var in _candidates(source, fn):
            tests = handled(source, fn, var, nodes)
            if not tests.compared or not (tests.handled or tests.patterns) or tests.open \
                    or generic_use(source, fn, var):
                continue
            raises = fallback_raises(fn.node, var)
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
