"""The paths figures are saved to: a path expression as literal pieces and named values
(`results_dir / run_id / "images"`), the savefig calls of a file and the path each writes."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional

import libcst as cst

from expreview.facts.values import agreed_argument, resolve
from expreview.sources.index import Call, Function, dotted_name, string_value
from expreview.sources.pyfile import PythonSource


# -- a path as literal pieces and named values ------------------------------

class PartKind(Enum):
    LITERAL = "lit"  # a literal piece of path
    VARIABLE = "var"  # a named value
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Part:
    kind: PartKind
    text: str


def path_parts(source: PythonSource, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> list[Part]:
    """A path expression as literal pieces and named values: `results_dir / run_id / "images"`."""
    if depth > 12:
        return [Part(PartKind.UNKNOWN, "…")]
    index = source.index
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = string_value(expr) or ""
        return [Part(PartKind.LITERAL, p) for p in value.split("/") if p and p != "."]
    if isinstance(expr, cst.FormattedString):
        return _fstring_parts(source, expr, scope, depth)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        return path_parts(source, expr.left, scope, depth + 1) + path_parts(source, expr.right, scope, depth + 1)
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func)
        args = [a.value for a in expr.args if a.keyword is None]
        if name in ("os.path.join", "path.join", "Path", "pathlib.Path", "PurePath", "str", "os.fspath"):
            out: list[Part] = []
            for arg in args:
                out.extend(path_parts(source, arg, scope, depth + 1))
            return out
        if name.endswith(".joinpath") and isinstance(expr.func, cst.Attribute):
            out = path_parts(source, expr.func.value, scope, depth + 1)
            for arg in args:
                out.extend(path_parts(source, arg, scope, depth + 1))
            return out
        if name.endswith((".resolve", ".absolute", ".expanduser")) and isinstance(expr.func, cst.Attribute):
            return path_parts(source, expr.func.value, scope, depth + 1)
        return [Part(PartKind.UNKNOWN, name or "call")]
    if isinstance(expr, cst.Attribute):
        return [Part(PartKind.VARIABLE, expr.attr.value)]
    if isinstance(expr, cst.Subscript):  # cfg["run_id"] stands for the run id
        key = next((s.key for s in index.subscripts if s.node is expr), None)
        return [Part(PartKind.VARIABLE, key)] if key else [Part(PartKind.UNKNOWN, "subscript")]
    if isinstance(expr, cst.Name):
        resolved = resolve(index, expr, scope)
        if resolved is not expr:
            return path_parts(source, resolved, scope, depth + 1)
        if scope is not None and expr.value in scope.params:
            bound = _argument_everywhere(source, scope, expr.value, depth)
            if bound is not None:
                return bound
        return [Part(PartKind.VARIABLE, expr.value)]
    return [Part(PartKind.UNKNOWN, type(expr).__name__)]


def _fstring_parts(source: PythonSource, expr: cst.FormattedString, scope: Optional[Function],
                   depth: int) -> list[Part]:
    out: list[Part] = []
    pending = ""
    for piece in expr.parts:
        if isinstance(piece, cst.FormattedStringText):
            pending += piece.value
            continue
        assert isinstance(piece, cst.FormattedStringExpression)  # the parts are text or expressions
        inner = path_parts(source, piece.expression, scope, depth + 1)
        pieces = pending.split("/")
        for p in pieces[:-1]:
            if p:
                out.append(Part(PartKind.LITERAL, p))
        tail = pieces[-1]
        if tail:  # text glued to the value: `{run_id}_loss.pdf` stays one piece
            out.append(Part(PartKind.LITERAL, tail))
        out.extend(inner)
        pending = ""
    for p in pending.split("/"):
        if p:
            out.append(Part(PartKind.LITERAL, p))
    return _glue(out, expr)


def _glue(parts: list[Part], expr: cst.FormattedString) -> list[Part]:
    # f"{a}/{b}_x.pdf": pieces not separated by "/" belong to one path component
    text = "".join(
        p.value if isinstance(p, cst.FormattedStringText) else "\0" for p in expr.parts
    )
    if "/" not in text:
        joined = "".join(p.text if p.kind is PartKind.LITERAL else "{" + p.text + "}" for p in parts)
        kinds = {p.kind for p in parts}
        return [Part(PartKind.LITERAL if kinds == {PartKind.LITERAL} else PartKind.VARIABLE, joined)] if parts else []
    return parts


def _argument_everywhere(source: PythonSource, fn: Function, param: str, depth: int) -> Optional[list[Part]]:
    """The path a parameter receives, when every call of the function in the file agrees."""
    return agreed_argument(source, fn, param, (source,),
                           lambda caller, call, arg: path_parts(caller, arg, call.scope, depth + 1))


def render(parts: list[Part]) -> str:
    """A path as the reader sees it: `results_dir/{run_id}/images`."""
    return "/".join(p.text if p.kind is PartKind.LITERAL or "{" in p.text else "{" + p.text + "}" for p in parts)


# -- the figures a file saves -------------------------------------------------

def savefig_calls(source: PythonSource) -> list[Call]:
    return [c for c in source.index.calls if c.name == "savefig" or c.name.endswith(".savefig")]


def figure_path(source: PythonSource, call: Call) -> Optional[list[Part]]:
    arg = call.positional(0) or call.keyword("fname")
    if arg is None:
        return None
    return path_parts(source, arg, call.scope)
