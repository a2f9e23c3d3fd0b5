"""facts.conditions: which statements a `try` protects, and which run on every path."""
from __future__ import annotations

import pytest

from expreview.facts.conditions import caught
from expreview.sources.pyfile import PythonSource

CODE = '''
def f():
    try:
        a = read()
    except FileNotFoundError:
        a = None
    try:
        if ok():
            b = read()
    except KeyError:
        b = None
    try:
        c = read()
    finally:
        pass
    d = read()
'''



@pytest.mark.parametrize("line,names,expected", [
    (4, ("FileNotFoundError",), True),   # a try whose body ends with a simple statement
    (4, ("KeyError",), False),
    (9, ("KeyError",), True),            # a try whose body ends with a compound statement
    (13, ("FileNotFoundError",), False),  # try/finally catches nothing
    (16, ("FileNotFoundError",), False),  # after the try
])
def test_a_try_protects_its_whole_body(line, names, expected):
    source = PythonSource("a.py", CODE)
    calls = [c for c in source.index.calls if c.name == "read" and source.span(c.node).line == line]
    assert len(calls) == 1
    assert caught(source, calls[0].stmt, calls[0].scope, names) is expected
