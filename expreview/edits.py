"""Fixes a rule offers with a finding: text edits plus how safe they are to apply unread.

An edit replaces the text between two positions of one file (1-based lines, 1-based columns
counted in characters, the end exclusive: the same convention as a finding's span) with new text;
an insertion has equal ends. `safe` fixes keep the code's behaviour apart from removing the
defect, so `--fix` applies them; `unsafe` ones change something a reader should look at
(`--unsafe-fixes`). Edits carry positions, not offsets, so a finding is its own complete record (the
JSON report prints them) and they are applied to whatever text the file holds then (`apply`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

SAFE = "safe"
UNSAFE = "unsafe"
APPLICABILITIES = (SAFE, UNSAFE)


@dataclass(frozen=True)
class Edit:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    content: str

    def as_dict(self) -> dict:
        return {"path": self.path, "location": {"line": self.line, "column": self.column},
                "end_location": {"line": self.end_line, "column": self.end_column}, "content": self.content}


@dataclass(frozen=True)
class Fix:
    message: str  # what the fix does, as a command: "Write `1.0e-3`"
    applicability: str
    edits: tuple[Edit, ...]

    def __post_init__(self) -> None:
        if self.applicability not in APPLICABILITIES:
            raise ValueError(f"fix applicability {self.applicability!r} is not one of {', '.join(APPLICABILITIES)}")
        if not self.edits:
            raise ValueError("a fix needs at least one edit")

    def as_dict(self) -> dict:
        return {"message": self.message, "applicability": self.applicability,
                "edits": [e.as_dict() for e in self.edits]}


def offset(text: str, line: int, column: int) -> int:
    """The character offset of (line, column) in `text`; ValueError when it is not in the text."""
    start = 0
    for _ in range(line - 1):
        newline = text.find("\n", start)
        if newline < 0:
            raise ValueError(f"line {line} is past the end of the text")
        start = newline + 1
    end_of_line = text.find("\n", start)
    limit = len(text) if end_of_line < 0 else end_of_line
    if column < 1 or start + column - 1 > limit:
        raise ValueError(f"column {column} is not on line {line}")
    return start + column - 1


def position(text: str, at: int) -> tuple[int, int]:
    """(line, column) of character offset `at` in `text`."""
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def edit_between(path: str, text: str, start: int, end: int, content: str) -> Edit:
    """The edit replacing text[start:end] with `content`."""
    line, column = position(text, start)
    end_line, end_column = position(text, end)
    return Edit(path, line, column, end_line, end_column, content)


def smallest_edit(path: str, old: str, new: str) -> Optional[Edit]:
    """The one edit that turns `old` into `new`, covering only the text between their common
    prefix and common suffix; None when they are equal."""
    if old == new:
        return None
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end = 0
    while end < limit - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    return edit_between(path, old, start, len(old) - end, new[start:len(new) - end])


def apply(text: str, edits: Iterable[Edit]) -> str:
    """`text` with `edits` (of one file, not overlapping) applied; ValueError when they overlap or
    point outside the text."""
    spans = sorted(((offset(text, e.line, e.column), offset(text, e.end_line, e.end_column), e.content)
                    for e in edits), key=lambda s: (s[0], s[1]))
    out, at = [], 0
    for start, end, content in spans:
        if start < at or end < start:
            raise ValueError("edits overlap")
        out.append(text[at:start])
        out.append(content)
        at = end
    out.append(text[at:])
    return "".join(out)
