"""Which of the bundle's modules a script launches as a child process (`python -m src.train …`),
from where, and with which option strings."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional

import libcst as cst

from expreview.facts.cache import source_fact
from expreview.sources.index import Function, Index, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource


@dataclass
class Launch:
    """A command list that runs one of the bundle's modules (`python -m src.train …`)."""
    target: str  # bundle path of the launched script: src/train.py
    node: cst.CSTNode  # the list literal holding the module name
    flags: list[tuple[str, cst.CSTNode]]  # option strings passed, with where they are
    scope: Optional[Function]
    stmt: int


def launch_target(value: str) -> Optional[str]:
    """`src.train`, `src/train.py` → `src/train.py`."""
    value = value.strip()
    if value.startswith("src.") and value.count(".") == 1:
        return f"src/{value[4:]}.py"
    if value.startswith("src/") and value.endswith(".py"):
        return value
    return None


def element_target(value: str) -> Optional[str]:
    """The bundle module a command element names: `src.train`, `src/train.py`, or a shell-style
    `python -m src.train` inside one string."""
    found = launch_target(value)
    if found is None and " -m src." in f" {value}":
        match = re.search(r"-m\s+(src\.\w+)", value)
        found = launch_target(match.group(1)) if match else None
    return found


@source_fact
def launches(source: PythonSource) -> list[Launch]:
    """Every command list in the file that launches one of the bundle's modules."""
    index = source.index
    out = []
    for lst in _list_literals(index):
        target = None
        for el in lst.elements:
            value = _element_text(index, el.value)
            target = element_target(value) if value is not None else None
            if target is not None:
                break
        if target is None:
            continue
        stmt = index.stmt_of.get(id(lst), -1)
        scope = index.scope_of(stmt)
        flags = _option_strings(lst, index)
        var = _assigned_name(index, lst, stmt)
        if var is not None:
            flags.extend(_extensions(index, var, scope))
        out.append(Launch(target, lst, flags, scope, stmt))
    return out


def _element_text(index: Index, node: cst.CSTNode) -> Optional[str]:
    """A string element, or a name bound once at module level to a string (`TRAIN_MODULE`)."""
    if isinstance(node, cst.Name):
        values = index.module_assigns.get(node.value, [])
        return string_value(values[0]) if len(values) == 1 else None
    return string_value(node)


def _list_literals(index: Index) -> Iterator[cst.List]:
    """List literals that hold a launch target, directly or through a module-level constant."""
    seen = set()
    constants = {name for name, values in index.module_assigns.items()
                 if len(values) == 1 and (lambda v: v is not None and (launch_target(v) or "-m src." in v))(
                     string_value(values[0]))}
    places: list[tuple[int, Optional[cst.CSTNode]]] = [(s.stmt, s.node) for s in index.strings if launch_target(s.value) or "-m src." in s.value]
    if constants:  # the constant's uses are not indexed: look in the statements that mention it
        places += [(ordinal, None) for ordinal, statement in enumerate(index.statements)
                   if not isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.If, cst.For, cst.While,
                                                 cst.With, cst.Try))
                   and any(isinstance(n, cst.Name) and n.value in constants for n in iter_subtree(statement))]
    for stmt, node in places:
        statement = index.statements[stmt] if stmt >= 0 else None
        if statement is None:
            continue
        for candidate in iter_subtree(statement):
            if not isinstance(candidate, cst.List) or id(candidate) in seen:
                continue
            if any(el.value is node if node is not None else
                   isinstance(el.value, cst.Name) and el.value.value in constants for el in candidate.elements):
                seen.add(id(candidate))
                index.stmt_of[id(candidate)] = stmt
                yield candidate


def _option_strings(node: cst.CSTNode, index: Optional[Index] = None) -> list[tuple[str, cst.CSTNode]]:
    """Option strings in a list literal; given the file's `index`, only those after the launched
    module `src.x` (what precedes it, like `-u -m`, are the interpreter's options)."""
    out: list[tuple[str, cst.CSTNode]] = []
    elements = list(node.elements) if isinstance(node, (cst.List, cst.Tuple)) else []
    if index is not None:
        for position, el in enumerate(elements):
            value = _element_text(index, el.value)
            if value is not None and (launch_target(value) or "-m src." in f" {value}"):
                elements = elements[position + 1:]
                break
    for el in elements:
        value = _flag(el.value)
        if value is not None:
            out.append((value, el.value))
    return out


def _flag(node: cst.CSTNode) -> Optional[str]:
    """`--name` from a literal option string; None for values, negative numbers and flags built
    from data (`f"--{key}"`, whose name is not known here)."""
    if isinstance(node, cst.FormattedString) and any(
            isinstance(part, cst.FormattedStringExpression) for part in node.parts):
        return None
    value = string_value(node)
    if value is None or not value.startswith("-") or len(value) < 2 or value[1:2].isdigit():
        return None
    return value.split("=", 1)[0]


def _assigned_name(index: Index, node: cst.CSTNode, stmt: int) -> Optional[str]:
    statement = index.statements[stmt] if 0 <= stmt < len(index.statements) else None
    if isinstance(statement, (cst.Assign, cst.AnnAssign)):
        value = statement.value
        if value is node or (isinstance(value, cst.BinaryOperation) and node in (value.left, value.right)):
            targets = statement.targets if isinstance(statement, cst.Assign) else [statement]
            for t in targets:
                if isinstance(t.target, cst.Name):
                    return t.target.value
    return None


def _extensions(index: Index, var: str, scope: Optional[Function]) -> list[tuple[str, cst.CSTNode]]:
    """Options added later with `cmd.append(…)`, `cmd.extend([...])` or `cmd += [...]`."""
    out: list[tuple[str, cst.CSTNode]] = []
    for call in index.calls:
        if call.scope is not scope or call.name not in (f"{var}.append", f"{var}.extend", f"{var}.insert"):
            continue
        for arg in call.node.args:
            value = _flag(arg.value)
            if value is not None:
                out.append((value, arg.value))
            out.extend(_option_strings(arg.value))
    for statement in index.statements:
        if isinstance(statement, cst.AugAssign) and isinstance(statement.target, cst.Name) \
                and statement.target.value == var:
            out.extend(_option_strings(statement.value))
    return out

