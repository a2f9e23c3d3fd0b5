"""Source positions for the CST nodes that are actually reported.

LibCST computes positions by generating code for a whole module, which costs more than
the parse. Instead, the statement that holds a reported node is found in the `ast` of the
same file (which pyflakes needs anyway, and which carries line numbers), and code is
generated only for that one statement, stopping as soon as the node has been emitted.
Statements are matched by their pre-order ordinal: LibCST small and compound statements
correspond one to one, in the same order, with `ast.stmt` nodes.
"""
from __future__ import annotations

import ast
from contextlib import contextmanager
from typing import Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

from expreview.findings import Span


class _Found(Exception):
    pass


class _TrackingState(CodegenState):
    """Counts lines and columns while generating code, and records one node's range."""

    def __init__(self, module: cst.Module, target: cst.CSTNode, line: int, column: int, indent: str):
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.indent_tokens = [indent] if indent else []
        self.line = line
        self.column = column
        self.target = target
        self.start: Optional[tuple[int, int]] = None
        self.end: Optional[tuple[int, int]] = None
        self.syntactic: Optional[tuple[tuple[int, int], tuple[int, int]]] = None

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.add_token(token)

    def add_token(self, value: str) -> None:
        newlines = value.count("\n") or value.count("\r")
        if newlines:
            self.line += newlines
            self.column = len(value) - max(value.rfind("\n"), value.rfind("\r")) - 1
        else:
            self.column += len(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if node is self.target:
            self.start = (self.line, self.column)

    def after_codegen(self, node: cst.CSTNode) -> None:
        if node is self.target:
            if self.syntactic is not None:
                self.start, self.end = self.syntactic
            else:
                self.end = (self.line, self.column)
            raise _Found

    @contextmanager
    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        # The range without the node's parentheses, as LibCST's PositionProvider gives it.
        if node is not self.target:
            yield
            return
        start = (self.line, self.column)
        yield
        self.syntactic = (start, (self.line, self.column))


def ast_statements(tree: ast.AST) -> list[ast.stmt]:
    """Statements in pre-order (the order LibCST's walk numbers them in)."""
    out: list[ast.stmt] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            out.append(node)
        children: list[ast.AST] = []
        for name in _BLOCKS:  # only these fields hold statements (handlers and cases hold blocks)
            block = getattr(node, name, None)
            if type(block) is list:
                children += block
        children.reverse()
        stack.extend(children)
    return out


# The statement-holding fields of any node, in the order the ast declares them (Try: body,
# handlers, orelse, finalbody); an expression's `body` (IfExp, Lambda) is never a list.
_BLOCKS = ("body", "handlers", "orelse", "finalbody", "cases")


def _char_column(lines: list[str], lineno: int, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; findings count characters."""
    if 1 <= lineno <= len(lines):
        text = lines[lineno - 1]
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))
    return byte_col


def statement_span(stmt: ast.stmt, lines: list[str]) -> Span:
    line = stmt.lineno
    col = _char_column(lines, line, stmt.col_offset)
    end_line = getattr(stmt, "end_lineno", None) or line
    end_col = _char_column(lines, end_line, getattr(stmt, "end_col_offset", None) or 0)
    return Span(line, col + 1, end_line, end_col + 1)


def locate(
    module: cst.Module,
    node: cst.CSTNode,
    stmt_node: Optional[cst.CSTNode],
    stmt: Optional[ast.stmt],
    lines: list[str],
) -> Span:
    """Span of `node` (1-based line and column), given its enclosing statement in both trees."""
    if stmt is None or stmt_node is None:
        return _locate_in(module, module, node, 1, 0, "")
    if node is stmt_node or isinstance(node, (cst.FunctionDef, cst.ClassDef)) and node is stmt_node:
        return statement_span(stmt, lines)
    col = _char_column(lines, stmt.lineno, stmt.col_offset)
    text = lines[stmt.lineno - 1] if stmt.lineno <= len(lines) else ""
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    if isinstance(stmt_node, cst.BaseCompoundStatement):
        # Code generation starts at the statement's leading blank/comment lines and decorators.
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        leading = getattr(stmt_node, "leading_lines", ())
        is_elif = isinstance(stmt_node, cst.If) and text.lstrip().startswith("elif")
        return _locate_in(module, stmt_node, node, first - len(leading), 0, indent, is_elif)
    return _locate_in(module, stmt_node, node, stmt.lineno, col, indent)


def _locate_in(module, root, node, line, column, indent, is_elif=False) -> Span:
    state = _TrackingState(module, node, line, column, indent)
    try:
        if is_elif:
            root._codegen(state, is_elif=True)
        else:
            root._codegen(state)
    except _Found:
        pass
    if state.start is None:
        return Span(line, column + 1, line, column + 1)
    end = state.end or state.start
    return Span(state.start[0], state.start[1] + 1, end[0], end[1] + 1)
