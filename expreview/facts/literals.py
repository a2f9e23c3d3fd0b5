"""The Python value a literal expression spells (strings, integers, True/False/None)."""
from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from expreview.sources.index import string_value

Literal = Union[str, int, bool, None]


def literal(node: Optional[cst.CSTNode]) -> Literal:
    """The value of a string, integer or True/False/None literal; None for anything else."""
    if node is None:
        return None
    value = string_value(node)
    if value is not None:
        return value
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0) if node.value.isdigit() else node.value
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    return None
