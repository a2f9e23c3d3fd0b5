"""`# expreview: ignore[CODE, …]` comments, in Python, YAML and TOML.

On the reported line, or as a whole-line comment on the line above, the comment silences those codes
(or families: `ignore[PH]`) for that line; `# expreview: ignore-file[CODE]` anywhere in a file
silences them for the whole file. A bare `ignore` (no brackets) silences every code; `ignore[]` names
no code and silences nothing. A suppression that silences nothing is itself reported (SUP001), so
stale ones do not pile up; a code that is neither a rule's nor a family's (a typo, a code from another
tool) silences nothing and is reported (SUP002), so a misspelt suppression never passes for one."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional

from expreview.facts.comments import python_comment
from expreview.bundle import Bundle
from expreview.findings import ADVICE, Finding, WARNING

UNUSED_SUPPRESSION = "SUP001"
UNKNOWN_CODE = "SUP002"
_DIRECTIVE = re.compile(r"expreview:\s*ignore(?P<file>-file)?\s*(?:\[(?P<codes>[^\]]*)\])?")


@dataclass
class Suppression:
    path: str
    line: int
    codes: Optional[tuple[str, ...]]  # None: every code; () (`ignore[]`): none
    file_level: bool
    whole_line: bool  # the comment is alone on its line, so it also covers the next line
    text: str
    used: bool = False

    def covers(self, finding: Finding) -> bool:
        if finding.path != self.path:
            return False
        if self.codes is not None and not finding.code.startswith(self.codes):
            return False
        if self.file_level:
            return True
        return finding.line == self.line or self.whole_line and finding.line == self.line + 1


def _comment(bundle: Bundle, path: str, number: int, line: str) -> Optional[str]:
    if path.endswith((".yaml", ".yml")):
        doc = bundle.yaml(path)
        if doc is not None and doc.node is not None:
            return doc.comment(number)
    return python_comment(line)


def suppressions(bundle: Bundle) -> list[Suppression]:
    found = []
    for path in bundle.paths():
        text = bundle.files[path]
        if "expreview:" not in text:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if "expreview:" not in line:
                continue
            comment = _comment(bundle, path, number, line)
            match = _DIRECTIVE.search(comment or "")
            if match is None:
                continue
            codes = match.group("codes")
            parsed = tuple(c.strip().upper() for c in codes.split(",") if c.strip()) if codes is not None else None
            found.append(Suppression(path, number, parsed, bool(match.group("file")),
                                     line.lstrip().startswith("#"), match.group(0)))
    return found


def is_known(code: str, known: set[str]) -> bool:
    """`code` is a rule's or engine's code, or a prefix of one that ends a family name or a digit
    (`PH`, `PH00`), never a bare letter of a family (`P`)."""
    if code in known:
        return True
    if not re.fullmatch(r"[A-Z]+[0-9]*", code):
        return False
    return any(k.startswith(code) and (code[-1].isdigit() or not k[len(code)].isalpha()) for k in known)


def apply(bundle: Bundle, findings: list[Finding], ran: set[str], all_codes: Callable[[], set[str]]) -> list[Finding]:
    """Drop suppressed findings; add a SUP002 warning per unknown code a suppression names (that
    code silences nothing) and a SUP001 warning per suppression that silenced nothing. `all_codes`
    gives every code that exists (asked only when there is a suppression: it loads every family)."""
    marks = suppressions(bundle)
    if not marks:
        return findings
    known = all_codes()
    reported = []
    for s in marks:
        if not s.codes:
            continue
        unknown = [c for c in s.codes if not is_known(c, known)]
        for code in unknown:
            reported.append(Finding(
                UNKNOWN_CODE, WARNING, s.path, s.line, 1, s.line, 1,
                f"`# {s.text}` names {code}, which is no expreview rule or family, so it silences nothing; "
                "correct the code (`expreview rules` lists them) or remove it",
                consequence=ADVICE,
            ))
        s.codes = tuple(c for c in s.codes if c not in unknown)
        s.used = s.used or (bool(unknown) and not s.codes)  # already reported as SUP002
    kept = []
    for finding in findings:
        covering = [s for s in marks if s.covers(finding)]
        for s in covering:
            s.used = True
        if not covering:
            kept.append(finding)
    for s in marks:
        judged = s.codes is None or all(any(code.startswith(c) for code in ran) for c in s.codes)
        if not s.used and judged:
            why = ("names no code, so it suppresses nothing; name the codes (`ignore[CODE]`) or remove it"
                   if s.codes == () else "suppresses nothing here; remove it (or fix the code it was meant for)")
            kept.append(Finding(
                UNUSED_SUPPRESSION, WARNING, s.path, s.line, 1, s.line, 1, f"`# {s.text}` {why}",
                consequence=ADVICE,
            ))
    return kept + reported
