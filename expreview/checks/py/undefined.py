"""pyflakes, run for what PY002 reads from it: the names it finds undefined.

pyflakes asks of every call whether it is one of typing's special forms (`cast`, `TypeVar`,
`NamedTuple`, …), whose string arguments it then checks as annotations; those questions are most of
its time on a call. A callee neither named like a special form nor bound by an import from a typing
module cannot be one, so the checker walks the call's children at once, as pyflakes does for any
other call. (pyflakes' own `str.format` checks are skipped with it: they report format
mistakes, never an undefined name.)"""
from __future__ import annotations

import ast
from typing import Any

from pyflakes import checker as flakes

from expreview.sources.pyfile import PythonSource

_TYPING_MODULES = ("typing", "typing_extensions")
# Every callee name pyflakes has treated as a special form, by name or through a typing import.
_SPECIAL_FORMS = frozenset({"cast", "assert_type", "TypeVar", "ParamSpec", "TypeVarTuple", "NewType",
                            "TypedDict", "NamedTuple", "overload"})


class _Checker(flakes.Checker):  # pyflakes ships no types: its Checker is Any to mypy
    def __init__(self, tree: ast.Module, typing_names: frozenset[str], **kwargs: Any) -> None:
        self._typing_names = typing_names  # set first: the walk runs inside Checker.__init__
        super().__init__(tree, **kwargs)

    def CALL(self, node: ast.Call) -> None:  # noqa: N802 - pyflakes' handler name
        func = node.func
        if isinstance(func, ast.Name):
            special = func.id in _SPECIAL_FORMS or func.id in self._typing_names
        elif isinstance(func, ast.Attribute):
            special = func.attr in _SPECIAL_FORMS or isinstance(func.value, ast.Name) \
                and func.value.id in self._typing_names
        else:
            special = False  # pyflakes recognises a special form only by a name or `module.name`
        if special:
            super().CALL(node)
        else:
            self.handleChildren(node)


def undefined_messages(source: PythonSource) -> list[Any]:
    """pyflakes' messages for `source` (a file that parses), of which PY002 keeps the undefined names."""
    tree = source.tree
    assert tree is not None
    typing_names = frozenset(imp.alias for imp in source.index.imports
                             if imp.module.split(".")[0] in _TYPING_MODULES)
    return list(_Checker(tree, typing_names, filename=source.path).messages)
