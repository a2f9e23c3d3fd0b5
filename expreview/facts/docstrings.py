"""Whether a string literal is a docstring (a statement of its own), not a value."""
from __future__ import annotations

import libcst as cst

from expreview.sources.index import Index


def is_docstring(index: Index, node: cst.CSTNode, stmt: int) -> bool:
    """`node` is the whole expression statement `stmt`: a docstring or a bare string statement."""
    statement = index.statements[stmt] if 0 <= stmt < len(index.statements) else None
    return isinstance(statement, cst.Expr) and statement.value is node
