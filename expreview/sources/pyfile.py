"""A Python file of the bundle: parsed once, lazily, and shared by every rule."""
from __future__ import annotations

import ast
import re
import warnings
from functools import cached_property
from typing import Optional

import libcst as cst

from expreview.sources.file import SourceFile
from expreview.findings import Span
from expreview.sources.positions import ast_statements, locate
from expreview.sources.index import Index, build_index

# CPython itself refuses deeper nesting; refusing first keeps both parsers off the stack limit.
MAX_BRACKET_DEPTH = 200
MAX_INDENT_LEVELS = 100
_BRACKETS = re.compile(r"[\[\](){}]")
_INDENT = re.compile(r"^([ \t]*)\S", re.M)


class ParseProblem:
    def __init__(self, message: str, line: int = 1, column: int = 1):
        self.message = message
        self.line = max(1, line)
        self.column = max(1, column)


def nesting_problem(text: str) -> Optional[ParseProblem]:
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_BRACKET_DEPTH:
                    line = text.count("\n", 0, match.start()) + 1
                    return ParseProblem(
                        f"brackets nested more than {MAX_BRACKET_DEPTH} levels deep; "
                        "Python cannot compile this file", line)
        else:
            depth = max(0, depth - 1)
    widths: list[int] = []
    for match in _INDENT.finditer(text):
        width = len(match.group(1).expandtabs(8))
        while widths and widths[-1] > width:
            widths.pop()
        if not widths or widths[-1] < width:
            widths.append(width)
            if len(widths) > MAX_INDENT_LEVELS:
                line = text.count("\n", 0, match.start()) + 1
                return ParseProblem(
                    f"indented more than {MAX_INDENT_LEVELS} levels deep; "
                    "Python cannot compile this file", line)
    return None


class PythonSource(SourceFile):
    @cached_property
    def _nesting(self) -> Optional[ParseProblem]:
        return nesting_problem(self.text)

    @cached_property
    def _parsed(self) -> tuple[Optional[cst.Module], Optional[ParseProblem]]:
        problem = self._nesting
        if problem is not None:
            return None, problem
        try:
            return cst.parse_module(self.text), None
        except cst.ParserSyntaxError as exc:
            # CPython's own message and location are the ones users know; LibCST's otherwise.
            try:
                with warnings.catch_warnings():  # CPython's warnings about the text are not findings
                    warnings.simplefilter("ignore")
                    ast.parse(self.text)
            except SyntaxError as py_exc:
                return None, ParseProblem(py_exc.msg or "invalid syntax", py_exc.lineno or 1, py_exc.offset or 1)
            except (RecursionError, MemoryError, ValueError):
                pass
            return None, ParseProblem(_first_line(exc.message) or "invalid syntax", exc.raw_line, exc.raw_column + 1)
        except RecursionError:
            return None, ParseProblem("expression nested too deeply to parse")
        except Exception as exc:  # the parser's own failure is reported, never raised
            return None, ParseProblem(f"could not be parsed: {_first_line(str(exc))}")

    @property
    def module(self) -> Optional[cst.Module]:
        return self._parsed[0]

    @property
    def parse_problem(self) -> Optional[ParseProblem]:
        problem = self._parsed[1]
        if problem is None and self.tree is None and self._ast_problem is not None:
            return self._ast_problem
        return problem

    @cached_property
    def _ast_result(self) -> tuple[Optional[ast.Module], Optional[ParseProblem]]:
        # Independent of the LibCST parse, so that a reader of the ast alone (DRV001 reading the
        # base's definitions) does not pay for the CST; `ok` still asks for both.
        if self._nesting is not None:
            return None, None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(self.text, filename=self.path), None
        except SyntaxError as exc:
            return None, ParseProblem(exc.msg or "invalid syntax", exc.lineno or 1, exc.offset or 1)
        except (RecursionError, MemoryError, ValueError) as exc:
            return None, ParseProblem(f"could not be compiled: {exc.__class__.__name__}")

    @property
    def tree(self) -> Optional[ast.Module]:
        """The `ast` of the file, or None when it does not compile."""
        return self._ast_result[0]

    @property
    def _ast_problem(self) -> Optional[ParseProblem]:
        return self._ast_result[1]

    @property
    def ok(self) -> bool:
        return self.module is not None and self.tree is not None

    @cached_property
    def index(self) -> Index:
        if self.module is None:
            return Index()
        try:
            return build_index(self.module)
        except RecursionError:
            return Index()

    @cached_property
    def _ast_statements(self) -> list[ast.stmt]:
        if self.tree is None:
            return []
        statements = ast_statements(self.tree)
        return statements if len(statements) == len(self.index.statements) else []

    def span(self, node: cst.CSTNode, stmt: Optional[int] = None) -> Span:
        """Where `node` is. `stmt` is its statement ordinal when the index did not record it."""
        if self.module is None:
            return Span(1, 1, 1, 1)
        if stmt is None:
            stmt = self.index.stmt_of.get(id(node))
        statements = self._ast_statements
        if stmt is None or not statements:
            return locate(self.module, node, None, None, self.lines)
        return locate(self.module, node, self.index.statements[stmt], statements[stmt], self.lines)

    def code(self, node: cst.CSTNode) -> str:
        assert self.module is not None
        return self.module.code_for_node(node)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
