"""What the DRV rules share: the files present in both the base and the derived bundle, and the
top-level definitions of a Python file."""
from __future__ import annotations

import ast
from typing import Union

from expreview.bundle import Bundle
from expreview.sources.pyfile import PythonSource


def pairs(bundle: Bundle, suffix: str = ""):
    """(path, base text, derived text) for files present in both bundles."""
    if bundle.base is None:
        return
    for path in bundle.base.paths(suffix):
        if path in bundle.files and path not in bundle.unreadable and path not in bundle.base.unreadable:
            yield path, bundle.base.files[path], bundle.files[path]


Definition = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def top_definitions(source: PythonSource) -> dict[str, Definition]:
    tree = source.tree
    return {n.name: n for n in tree.body if isinstance(n, DEFINITIONS)} if tree is not None else {}
