"""Bounds on what expreview reads, so hostile or broken input costs little and never hangs."""
from __future__ import annotations

from typing import Optional

# An experiment file is a few hundred lines; anything this large is not one.
MAX_FILE_BYTES = 2_000_000
# The required layout is 7-8 files; a bundle this large is not an experiment bundle.
MAX_FILES = 500


def too_large(size: int) -> str:
    return f"is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES / 1e6:.0f} MB limit for a reviewed file"


def unreadable_reason(raw: bytes) -> Optional[str]:
    """Why these bytes cannot be reviewed as text, or None."""
    if len(raw) > MAX_FILE_BYTES:
        return too_large(len(raw))
    if b"\0" in raw:
        line = raw.count(b"\n", 0, raw.index(b"\0")) + 1
        return f"contains a NUL byte (line {line}); it is binary, not source text"
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}, column {column}); save it as UTF-8"
    return None


def text_reason(text: str) -> Optional[str]:
    """The same judgement for text that arrived as a string (JSON bundles, the API)."""
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains unpaired surrogate characters; it is not valid Unicode text"
    return unreadable_reason(raw)
