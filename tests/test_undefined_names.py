"""PY002 runs pyflakes with a fast path for calls that cannot be typing's special forms; it must
report exactly the undefined names pyflakes reports, above all inside those forms' string arguments."""
from __future__ import annotations

import pytest
from pyflakes import checker, messages

from expreview.checks.py.undefined import undefined_messages
from expreview.sources.pyfile import PythonSource

_UNDEFINED = (messages.UndefinedName, messages.UndefinedLocal)

CASES = {
    "cast": 'from typing import cast\n\nx = cast("Missing", 1)\n',
    "aliased cast": 'from typing import cast as as_type\n\nx = as_type("Missing", 1)\n',
    "module cast": 'import typing\n\nx = typing.cast("Missing", 1)\n',
    "aliased module": 'import typing as t\n\nx = t.cast("Missing", 1)\n',
    "extensions": 'from typing_extensions import TypeVar\n\nT = TypeVar("T", bound="Missing")\n',
    "named tuple": 'from typing import NamedTuple\n\nP = NamedTuple("P", [("x", "Missing")])\n',
    "local import": 'def f():\n    from typing import cast\n    return cast("Missing", 1)\n',
    "plain calls": 'def f(x):\n    print("Missing".format(x), missing_too)\n    return x.cast("Missing")\n',
    "nested": 'from typing import cast\n\nprint(len(cast("Missing", [undefined_arg])))\n',
    "use before def": 'def f():\n    print(y)\n    y = 1\n',
}


def names(found) -> list[tuple[int, int, str]]:
    return sorted((m.lineno, m.col, str(m.message_args[0])) for m in found if isinstance(m, _UNDEFINED))


@pytest.mark.parametrize("text", CASES.values(), ids=CASES)
def test_the_same_undefined_names_as_pyflakes(text):
    source = PythonSource("src/x.py", text)
    assert source.ok
    expected = names(checker.Checker(source.tree, filename=source.path).messages)
    assert names(undefined_messages(source)) == expected


def test_string_annotations_of_special_forms_are_still_checked():
    """The cases above are not vacuous: pyflakes does report these names."""
    for key in ("cast", "aliased cast", "module cast", "aliased module", "extensions", "named tuple", "local import"):
        source = PythonSource("src/x.py", CASES[key])
        assert "Missing" in {name for _, _, name in names(undefined_messages(source))}, key
    plain = names(undefined_messages(PythonSource("src/x.py", CASES["plain calls"])))
    assert [name for _, _, name in plain] == ["missing_too"]


def test_every_special_form_pyflakes_tests_a_call_for_is_known():
    """Read from the installed pyflakes itself: the names its CALL handler asks `_is_typing` (or a
    name test) about must all take the slow path, or a newer pyflakes form would be skipped."""
    import ast
    import inspect
    import textwrap

    from expreview.checks.py.undefined import _SPECIAL_FORMS

    handler = ast.parse(textwrap.dedent(inspect.getsource(checker.Checker.CALL)))
    asked = {arg.value for call in ast.walk(handler) if isinstance(call, ast.Call)
             and getattr(call.func, "id", "").startswith("_is_")
             for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    assert {"cast", "TypeVar", "NamedTuple"} <= asked  # the reading found pyflakes' tests
    assert asked <= _SPECIAL_FORMS, asked - _SPECIAL_FORMS
