"""Apply the fixes a review offers, and review again until nothing is left to fix.

Each round reviews the files, takes the offered fixes the caller allows (safe ones; unsafe ones too
with `unsafe=True`), and applies them in a stable order: by the first edit's file and position, then
by rule code. A fix whose edits overlap an edit already taken in the round (or touch the same
insertion point) is skipped; the next round reviews the changed text and may offer it again. The
rounds stop when no fix applies, and after MAX_ROUNDS at the latest, so two fixes that undo each other
cannot loop. A fix skipped for a conflict that is still offered at the end is reported as a conflict."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

from expreview.bundle import Bundle
from expreview.edits import SAFE, apply, offset
from expreview.engine import Report
from expreview.findings import Finding

MAX_ROUNDS = 5


@dataclass(frozen=True)
class Applied:
    """One fix applied (or skipped): the finding it was offered with, and what it does."""
    code: str
    path: str
    line: int
    message: str  # the fix's
    applicability: str

    @staticmethod
    def of(finding: Finding) -> "Applied":
        assert finding.fix is not None
        return Applied(finding.code, finding.path, finding.line, finding.fix.message, finding.fix.applicability)

    def as_dict(self) -> dict:
        return {"code": self.code, "path": self.path, "line": self.line, "fix": self.message,
                "applicability": self.applicability}


@dataclass
class FixResult:
    files: dict[str, str]  # every file, fixed or not
    applied: list[Applied]
    conflicts: list[Applied]  # offered at the end, but overlapping a fix applied before them
    report: Report  # the review of the fixed files: what is left
    changed: list[str] = field(default_factory=list)  # the paths whose text changed, sorted

    def as_dict(self) -> dict:
        return {"applied": [a.as_dict() for a in self.applied], "conflicts": [c.as_dict() for c in self.conflicts],
                "changed": self.changed, "report": self.report.as_dict()}


def _wanted(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (unsafe or finding.fix.applicability == SAFE)


def _spans(finding: Finding, files: dict[str, str]) -> list[tuple[str, int, int]]:
    """(path, start, end) offsets of the finding's edits; ValueError when one does not fit its file."""
    assert finding.fix is not None
    out = []
    for edit in finding.fix.edits:
        if edit.path not in files:
            raise ValueError(f"{edit.path} is not in the bundle")
        text = files[edit.path]
        out.append((edit.path, offset(text, edit.line, edit.column), offset(text, edit.end_line, edit.end_column)))
    return out


def _overlaps(span: tuple[str, int, int], taken: list[tuple[str, int, int]]) -> bool:
    path, start, end = span
    return any(p == path and start <= e and s <= end for p, s, e in taken)


def fix_files(files: dict[str, str], review: Callable[[dict[str, str]], Report], unsafe: bool = False) -> FixResult:
    """Fix `files` with the fixes `review` offers (see the module's docstring)."""
    current = dict(files)
    applied: list[Applied] = []
    skipped: list[Finding] = []
    report = review(current)
    for _ in range(MAX_ROUNDS):
        offered = sorted((f for f in report.findings if _wanted(f, unsafe)),
                         key=lambda f: (f.fix.edits[0].path, f.fix.edits[0].line, f.fix.edits[0].column, f.code)
                         if f.fix is not None else ("", 0, 0, f.code))
        taken: list[tuple[str, int, int]] = []
        chosen: list[Finding] = []
        for finding in offered:
            try:
                spans = _spans(finding, current)
            except ValueError:
                skipped.append(finding)
                continue
            if any(_overlaps(span, taken) for span in spans):
                skipped.append(finding)
                continue
            taken.extend(spans)
            chosen.append(finding)
        if not chosen:
            break
        for path in sorted({e.path for f in chosen if f.fix is not None for e in f.fix.edits}):
            current[path] = apply(current[path], [e for f in chosen if f.fix is not None
                                                  for e in f.fix.edits if e.path == path])
        applied.extend(Applied.of(f) for f in chosen)
        report = review(current)
    still = {(f.code, f.path, f.message) for f in report.findings if _wanted(f, unsafe)}
    conflicts = list({Applied.of(f): None for f in skipped if (f.code, f.path, f.message) in still})
    changed = sorted(p for p in current if current[p] != files.get(p))
    return FixResult(current, applied, conflicts, report, changed)


def unified_diff(original: dict[str, str], result: FixResult, shown: Callable[[str], str] = str) -> str:
    """The unified diff of the files `result` changed (`shown` names a path in the headers)."""
    import difflib

    out: list[str] = []
    for path in result.changed:
        name = shown(path)
        out.extend(difflib.unified_diff(original.get(path, "").splitlines(keepends=True),
                                        result.files[path].splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in out)


def rebuilt(bundle: Bundle, files: dict[str, str]) -> Bundle:
    """A fresh bundle like `bundle` over `files`: nothing parsed, no fact cached, load findings of
    files that changed dropped (they were about the old text)."""
    return replace(bundle, files=dict(files), notes=list(bundle.notes), options=dict(bundle.options),
                   load_findings=[f for f in bundle.load_findings if files.get(f.path) == bundle.files.get(f.path)],
                   unreadable=dict(bundle.unreadable), _docs={}, facts={})
