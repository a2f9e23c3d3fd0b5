"""For DRV001: the missing base definitions whose body the derived code still runs, inlined into
another definition or into the module level (`parse_args` written out in the `__main__` block).

Inlining keeps the behaviour but not the function the criterion names, so such a definition is
reported as a warning instead of an error, naming where its body went."""
from __future__ import annotations

import ast
import copy
import difflib
import re
from dataclasses import dataclass
from typing import Iterable, Optional

from expreview.bundle import Bundle
from expreview.checks.drv.common import DEFINITIONS, Definition

# Share of a base body's tokens found, in order, in one derived definition (or the module level)
# at which the body is taken to be inlined there.
_COVERED = 0.75
# A shorter body (`torch.manual_seed(seed)`) matches too much code by chance to say where it went.
_MIN_TOKENS = 20
# String literals are one token, so a changed help text or description does not hide the body.
_TOKEN = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\w+|[^\w\s]""")


@dataclass(frozen=True)
class Inlined:
    path: str
    where: str  # `name` of the derived definition, or "the module level"
    line: int


def inlined(bundle: Bundle, missing: Iterable[tuple[str, Definition]]) -> dict[str, Inlined]:
    """For each (name, base definition) whose body a derived region covers, that region."""
    regions: Optional[list[tuple[Inlined, list[str]]]] = None
    out = {}
    for name, node in missing:
        mine = _body_tokens(node)
        if len(mine) < _MIN_TOKENS:
            continue
        if regions is None:
            regions = list(_regions(bundle))
        best, place = _COVERED, None
        for region, theirs in regions:
            matcher = difflib.SequenceMatcher(None, mine, theirs, autojunk=False)
            covered = sum(block.size for block in matcher.get_matching_blocks()) / len(mine)
            if covered >= best:
                best, place = covered, region
        if place is not None:
            out[name] = place
    return out


def _regions(bundle: Bundle) -> Iterable[tuple[Inlined, list[str]]]:
    """Each top-level definition of each derived file, and each file's module-level statements."""
    for source in bundle.python_files():
        tree = source.tree
        if tree is None:
            continue
        loose: list[ast.stmt] = []
        for node in tree.body:
            if isinstance(node, DEFINITIONS):
                yield Inlined(source.path, f"`{node.name}`", node.lineno), _tokens(node.body)
            elif not isinstance(node, (ast.Import, ast.ImportFrom)):
                loose.append(node)
        if loose:
            yield Inlined(source.path, "the module level", loose[0].lineno), _tokens(loose)


def _body_tokens(node: Definition) -> list[str]:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring
    return _tokens(body)


def _tokens(statements: list[ast.stmt]) -> list[str]:
    """The statements' tokens with keyword arguments in name order (their order does not matter)
    and each string literal as one token. Works on a copy: the parsed tree is shared."""
    out: list[str] = []
    for statement in statements:
        mine = copy.deepcopy(statement)
        for sub in ast.walk(mine):
            if isinstance(sub, ast.Call):
                sub.keywords.sort(key=lambda k: k.arg or "")
        out += ["S" if t[0] in "'\"" else t for t in _TOKEN.findall(ast.unparse(mine))]
    return out
