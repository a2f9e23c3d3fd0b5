"""Where a child process finds the repository: the directory its parent started in (the
original directory, before Hydra changes it), and a PYTHONPATH that the parent hands it."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from expreview.facts.values import resolve
from expreview.sources.index import (Call, Function, Index, dotted_name, iter_subtree, keyword_argument,
                                     string_value)

_ORIGINAL_DIR_CALLS = ("get_original_cwd", "to_absolute_path")


def names_original_dir(index: Index, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> bool:
    """`expr` holds the directory main started in (the repository root): `get_original_cwd()`,
    `to_absolute_path(".")`, `${hydra:runtime.cwd}`, `Path(__file__).parent.parent`, or an
    `os.getcwd()` taken at import time, before Hydra changes the directory."""
    if depth > 4:
        return False
    parents = 0
    for node in iter_subtree(expr):
        if isinstance(node, cst.Call) and dotted_name(node.func).split(".")[-1] in _ORIGINAL_DIR_CALLS:
            return True
        if isinstance(node, (cst.SimpleString, cst.FormattedString)) and "runtime.cwd" in (string_value(node) or ""):
            return True
        if isinstance(node, cst.Attribute) and node.attr.value == "parent" or \
                isinstance(node, cst.Call) and dotted_name(node.func) == "os.path.dirname":
            parents += 1
        elif (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute)
              and node.value.attr.value == "parents" and len(node.slice) == 1
              and isinstance(node.slice[0].slice, cst.Index)
              and isinstance(node.slice[0].slice.value, cst.Integer)):
            parents += int(node.slice[0].slice.value.value) + 1  # `.parents[1]`: two levels up
        if isinstance(node, cst.Name) and node.value == "__file__" and parents >= 2:
            return True
        if isinstance(node, cst.Name):
            values = index.assigned(node.value, scope)
            if len(values) != 1 or values[0] is node:
                continue
            at_import = any(v is values[0] for v in index.module_assigns.get(node.value, []))
            if at_import and dotted_name(values[0].func if isinstance(values[0], cst.Call) else values[0]) in (
                    "os.getcwd", "Path.cwd", "pathlib.Path.cwd"):
                return True
            if names_original_dir(index, values[0], None if at_import else scope, depth + 1):
                return True
    return False


def _sets_pythonpath(index: Index, target: str, scope: Optional[Function], before: int) -> bool:
    """`target["PYTHONPATH"] = <the original directory>` earlier in `scope` (or at module level)."""
    for sub in index.subscripts:
        if not sub.store or sub.key != "PYTHONPATH" or sub.base != target or sub.stmt >= before:
            continue
        if sub.scope is not None and sub.scope is not scope:
            continue
        statement = index.statements[sub.stmt]
        if isinstance(statement, cst.Assign) and names_original_dir(index, statement.value, sub.scope):
            return True
    for call in index.calls:
        if call.name == f"{target}.update" and call.stmt < before and call.scope in (None, scope):
            given = call.keyword("PYTHONPATH")
            mapping = call.positional(0)
            if given is None and isinstance(mapping, cst.Dict):
                given = _dict_value(mapping, "PYTHONPATH")
            if given is not None and names_original_dir(index, given, call.scope):
                return True
    return False


def _dict_value(mapping: cst.Dict, key: str) -> Optional[cst.BaseExpression]:
    for element in mapping.elements:
        if isinstance(element, cst.DictElement) and string_value(element.key) == key:
            return element.value
    return None


def child_finds_src(index: Index, call: Call) -> bool:
    """The child gets the repository root on its PYTHONPATH: through `env=` (a dict that sets it,
    or a copy of os.environ whose PYTHONPATH is set before the call), or through os.environ."""
    if _sets_pythonpath(index, "os.environ", call.scope, call.stmt):
        return True
    env = call.keyword("env")
    if env is None:
        return False
    value = resolve(index, env, call.scope)
    if isinstance(value, cst.Dict):
        given = _dict_value(value, "PYTHONPATH")
        if given is not None:
            return names_original_dir(index, given, call.scope)
    if isinstance(value, cst.Call) and dotted_name(value.func) == "dict":
        given = keyword_argument(value, "PYTHONPATH")
        if given is not None:
            return names_original_dir(index, given, call.scope)
    return isinstance(env, cst.Name) and _sets_pythonpath(index, env.value, call.scope, call.stmt)
