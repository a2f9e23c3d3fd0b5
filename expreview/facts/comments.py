"""The comment of a Python source line (rules and suppressions read `# …` comments)."""
from __future__ import annotations

from typing import Optional


def python_comment(text: str) -> Optional[str]:
    """The comment of one Python source line, ignoring `#` inside string literals."""
    quote = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif ch in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        elif ch == "#":
            return text[i + 1:].strip()
        i += 1
    return None
