"""For DRV001: where the base uses each name (and whether a placeholder stands there), and which
base definitions declare themselves scaffolding for the derived stage to replace."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import AbstractSet, Optional

from expreview.bundle import Bundle
from expreview.checks.drv.common import DEFINITIONS, Definition
from expreview.facts.placeholders import PLACEHOLDER
from expreview.sources.pyfile import PythonSource

# A base definition that says of itself that it is scaffolding for the derived stage to replace.
_SCAFFOLDING = re.compile(r"(?i)placeholder|stand-?in\b|\bdummy\b|will be replaced|to be replaced")


@dataclass
class Use:
    """A reference to a name in the base: where, in which top-level definition (None: module
    level), and whether it stands where a placeholder does."""
    path: str
    top: Optional[str]
    placeholder: bool


def base_uses(bundle: Bundle, wanted: AbstractSet[str]) -> dict[str, list[Use]]:
    """Every reference to a `wanted` name in the base's Python files (loads, attributes, imported
    names, strings equal to it), with the top-level definition it stands in."""
    uses: dict[str, list[Use]] = {}
    assert bundle.base is not None
    for source in bundle.base.python_files():
        if not any(name in source.text for name in wanted):
            continue  # no use of a wanted name can be in a file that never spells it
        tree = source.tree
        if tree is None:
            continue
        lines = source.text.splitlines()
        seen: dict[int, bool] = {}  # every name of a statement asks about the same line

        def marked(line: int) -> bool:
            """A placeholder on the line, or in the comment lines right above its statement."""
            found = seen.get(line)
            if found is None:
                found = seen[line] = _marked(lines, line)
            return found

        def use(name: str, top: Optional[str], branch: bool, stmt: int) -> None:
            uses.setdefault(name, []).append(Use(source.path, top, branch or marked(stmt)))

        def visit(node: ast.AST, top: Optional[str], branch: bool, stmt: int) -> None:
            if isinstance(node, ast.Name):  # the most common nodes, and leaves (their ctx says nothing)
                if node.id in wanted and isinstance(node.ctx, ast.Load):
                    use(node.id, top, branch, stmt)
                return
            if isinstance(node, ast.Constant):
                if isinstance(node.value, str) and node.value in wanted:  # a wanted name is an identifier
                    use(node.value, top, branch, stmt)
                return
            if isinstance(node, ast.stmt):
                stmt = node.lineno
            names: list[str] = []
            if isinstance(node, ast.Attribute):
                names.append(node.attr)
            elif isinstance(node, ast.ImportFrom):
                names += [alias.name for alias in node.names]
            for name in names:
                if name in wanted:
                    use(name, top, branch, stmt)
            if isinstance(node, (ast.If, ast.IfExp)):
                visit(node.test, top, branch, stmt)
                inside = branch or "placeholder" in ast.unparse(node.test).lower()
                body: list[ast.AST] = list(node.body) if isinstance(node.body, list) else [node.body]
                orelse: list[ast.AST] = list(node.orelse) if isinstance(node.orelse, list) else [node.orelse]
                for part in body:
                    visit(part, top, inside, stmt)
                for part in orelse:
                    visit(part, top, branch, stmt)
                return
            for child in ast.iter_child_nodes(node):
                visit(child, top, branch, stmt)

        for statement in tree.body:
            visit(statement, statement.name if isinstance(statement, DEFINITIONS) else None, False, statement.lineno)
    return uses


def _marked(lines: list[str], line: int) -> bool:
    if 0 < line <= len(lines) and PLACEHOLDER.search(lines[line - 1].upper()):
        return True
    above = line - 2
    while 0 <= above < len(lines) and lines[above].strip().startswith("#"):
        if PLACEHOLDER.search(lines[above].upper()):
            return True
        above -= 1
    return False


def declares_scaffolding(source: PythonSource, node: Definition) -> bool:
    """The definition's docstring, or the comment lines right above it, call it a placeholder,
    a stand-in or a dummy to be replaced."""
    if _SCAFFOLDING.search(ast.get_docstring(node) or ""):
        return True
    lines = source.text.splitlines()
    above = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 2
    while 0 <= above < len(lines) and lines[above].strip().startswith("#"):
        if _SCAFFOLDING.search(lines[above]):
            return True
        above -= 1
    return False


def trivial_subclass(node: Definition, of: set[str]) -> bool:
    """`class BaselineModel(_BaseLM): pass`: a class with an empty body whose bases are in `of`."""
    if not isinstance(node, ast.ClassDef) or not node.bases:
        return False
    empty = all(isinstance(s, ast.Pass) or isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                for s in node.body)
    return empty and all(isinstance(b, ast.Name) and b.id in of for b in node.bases)
