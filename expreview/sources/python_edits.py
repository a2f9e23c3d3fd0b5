"""Edits of Python source for fixes: a node's text replaced by a transformed node's code.

LibCST renders the new node with every comment and blank line it holds; the edit covers only the
old node's span, so the rest of the file is untouched byte for byte. When the span's text is not
exactly the node's code (positions that the index could not pin down), no edit is offered: a fix
must be certain."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from expreview.edits import Edit, edit_between, offset
from expreview.sources.pyfile import PythonSource


def replace_node(source: PythonSource, node: cst.CSTNode, new: cst.CSTNode) -> Optional[Edit]:
    """The edit that turns `node`'s text into `new`'s code, or None when the node cannot be located."""
    if source.module is None:
        return None
    old_code = source.module.code_for_node(node)
    span = source.span(node)
    text = source.text
    try:
        start = offset(text, span.line, span.column)
    except ValueError:
        return None
    if text[start:start + len(old_code)] != old_code:
        return None
    return edit_between(source.path, text, start, start + len(old_code), source.module.code_for_node(new))


def with_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with `name=value` added as its last argument (after a comma on the one before)."""
    args = list(call.args)
    if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    new = cst.Arg(value=value, keyword=cst.Name(name),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                        whitespace_after=cst.SimpleWhitespace("")))
    return call.with_changes(args=[*args, new])
