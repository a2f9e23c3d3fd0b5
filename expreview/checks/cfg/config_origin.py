"""Where a value the code reads comes from in the config (for the name dispatch CFG004 follows):
`cfg["dataset"]["name"]`, `cfg.get("model", {}).get("name")`, `cfg.model.name`, through assignments,
`str()` and `.upper()`/`.lower()` normalisation, or a parameter that every caller fills from the config."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from expreview.checks.cfg.common import NORMALISERS
from expreview.facts.values import agreed_argument, resolve
from expreview.sources.index import Function, dotted_name, string_value
from expreview.sources.pyfile import PythonSource


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
            if method in NORMALISERS:
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
                inner = from_callers(source, scope, node.value, depth, sources)
                if inner is not None:
                    return inner[0] + tuple(keys), inner[1] + normalise
            return (tuple(keys), normalise) if keys else None
        return None


def from_callers(source: PythonSource, fn: Function, param: str, depth: int, sources: tuple = ()):
    """The config keys a parameter receives, when every caller in the bundle agrees."""
    return agreed_argument(source, fn, param, sources,
                           lambda caller, call, arg: config_keys(caller, arg, call.scope, depth + 1, sources))
