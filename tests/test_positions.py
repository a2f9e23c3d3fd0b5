"""Lazy positions agree with LibCST's PositionProvider, which resolves the whole module."""
from __future__ import annotations

from pathlib import Path

from libcst.metadata import MetadataWrapper, PositionProvider

from expreview.sources.pyfile import PythonSource, nesting_problem

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO / "fixtures").rglob("*.py"))[:40] + sorted((REPO / "expreview").rglob("*.py"))


def test_spans_match_position_provider():
    checked = 0
    for path in SOURCES:
        source = PythonSource(str(path), path.read_text())
        assert source.ok, path
        positions = MetadataWrapper(source.module, unsafe_skip_copy=True).resolve(PositionProvider)
        index = source.index
        for rec in index.calls + index.strings + index.subscripts + index.attributes:
            span = source.span(rec.node)
            want = positions[rec.node]
            got = (span.line, span.column - 1, span.end_line, span.end_column - 1)
            assert got == (want.start.line, want.start.column, want.end.line, want.end.column), (path, rec)
            checked += 1
    assert checked > 1000


def test_syntax_error_is_a_problem_not_an_exception():
    source = PythonSource("src/x.py", "def f(:\n    pass\n")
    assert source.module is None
    assert source.parse_problem.line == 1


def test_deep_nesting_is_refused_before_parsing():
    deep = "x = " + "(" * 10_000 + "1" + ")" * 10_000 + "\n"
    assert nesting_problem(deep) is not None
    source = PythonSource("src/x.py", deep)
    assert source.module is None and "nested" in source.parse_problem.message


def test_statement_numbering_matches_the_ast_for_every_fixture_file():
    """Positions rely on the index numbering statements as the ast does; a mismatch would fall back
    to generating code for whole modules."""
    for path in sorted((REPO / "fixtures").rglob("*.py")):
        source = PythonSource(str(path), path.read_text())
        if source.ok:
            assert source._ast_statements, path
