"""The comment blocks a validator agent leaves when it repairs template-stage code:

    # [VALIDATOR FIX - Attempt 1]
    # [PROBLEM]: …
    # [CAUSE]: …
    # [FIX]: …
    # [OLD CODE]:
    # …the code as it was, commented out…
    # [NEW CODE]:

They record what broke before; the old code they quote (its TODOs, its "simplified" remarks) is
history, not code that runs, so the rules that read comments leave these lines alone."""
from __future__ import annotations

import re

_MARKER = re.compile(r"^\s*#+\s*\[VALIDATOR FIX\b", re.I)


def history_lines(text: str) -> frozenset[int]:
    """The 1-based lines of every validator-fix block: its marker line and the comment lines that
    follow it without a break."""
    out: set[int] = set()
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if _MARKER.match(line):
            inside = True
        elif inside and not line.lstrip().startswith("#"):
            inside = False
        if inside:
            out.add(number)
    return frozenset(out)
