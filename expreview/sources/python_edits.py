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


def replace_node(source: PythonSource, node: cst.CSTNode, new: cst.CSTNode,
                 stmt: Optional[int] = None) -> Optional[Edit]:
    """The edit that turns `node`'s text into `new`'s code, or None when the node cannot be located.
    `stmt` is the statement ordinal holding `node` when the index did not record the node itself
    (a call's `func`): without it, finding the node renders the module up to it."""
    if source.module is None:
        return None
    old_code = source.module.code_for_node(node)
    span = source.span(node, stmt)
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


def wrap_statement(source: PythonSource, stmt: int, header: str) -> Optional[Edit]:
    """The edit that puts statement `stmt` (a small statement alone on its lines) under the block
    `header` (`with open_dict(cfg):`), indented one more level in the file's own unit. None when the
    statement shares a line with another one, or holds a string that spans lines (indenting would
    change the string)."""
    if source.module is None or not 0 <= stmt < len(source.index.statements):
        return None
    node = source.index.statements[stmt]
    if isinstance(node, cst.BaseCompoundStatement):
        return None
    code = source.module.code_for_node(node)
    if '"""' in code or "'''" in code:
        return None
    span = source.span(node, stmt)
    lines = source.text.splitlines(keepends=True)
    if not 1 <= span.line <= span.end_line <= len(lines):
        return None
    first, last = lines[span.line - 1], lines[span.end_line - 1]
    indent = first[:span.column - 1]
    rest = last[span.end_column - 1:].strip()
    if indent.strip() or rest and not rest.startswith("#"):
        return None
    unit = source.module.default_indent
    block = [indent + header + "\n"] + [unit + line if line.strip() else line
                                        for line in lines[span.line - 1:span.end_line]]
    if not block[-1].endswith("\n"):
        block[-1] += "\n"
    start = offset(source.text, span.line, 1)
    end = start + sum(len(line) for line in lines[span.line - 1:span.end_line])
    return edit_between(source.path, source.text, start, end, "".join(block))


def import_edit(source: PythonSource, statement: str, name: str) -> Optional[Edit]:
    """The edit that adds the import `statement` (`from omegaconf import open_dict`, `import json`),
    which binds `name`, after the file's leading import statements (after a docstring when there are
    none); None when the file binds `name` at module level already (imported or defined)."""
    if source.module is None:
        return None
    index = source.index
    if any(imp.alias == name and imp.scope is None for imp in index.imports) \
            or any(fn.name == name and fn.parent is None and fn.class_name is None for fn in index.functions):
        return None
    after = 0  # the last line of the last top-level import (or of the docstring)
    for position, top in enumerate(source.module.body):
        if not isinstance(top, cst.SimpleStatementLine):
            break
        small = top.body[0]
        is_docstring = position == 0 and isinstance(small, cst.Expr) and isinstance(small.value, cst.SimpleString)
        if not (is_docstring or isinstance(small, (cst.Import, cst.ImportFrom))):
            break
        stmt = index.stmt_of.get(id(top.body[-1]))
        if stmt is None:
            return None
        after = source.span(top.body[-1], stmt).end_line
    lines = source.text.splitlines(keepends=True)
    line = statement + "\n"
    if after >= len(lines):
        at = len(source.text)
        return edit_between(source.path, source.text, at, at, ("" if source.text.endswith("\n") or not source.text
                                                               else "\n") + line)
    at = offset(source.text, after + 1, 1)
    return edit_between(source.path, source.text, at, at, line)
