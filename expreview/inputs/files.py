"""What every input kind shares: bundle paths, file contents as the loaders judge them, and the
bounds on what expreview reads (so hostile or broken input costs little and never hangs)."""
from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Optional, Union

from expreview.bundle import Bundle

# An experiment file is a few hundred lines; anything this large is not one.
MAX_FILE_BYTES = 2_000_000
# The required layout is 7-8 files; a bundle this large is not an experiment bundle.
MAX_FILES = 500


from expreview.errors import LoadError  # noqa: E402  (re-exported: the loaders raise it)


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


def safe_path(path: str) -> str:
    """A bundle path: relative, POSIX, inside the bundle. Anything else is rejected."""
    if not isinstance(path, str) or not path or "\0" in path:
        raise LoadError(f"bundle path {path!r} is empty or contains a NUL byte")
    posix = path.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        raise LoadError(f"bundle path {path!r} is absolute; paths must be relative to the repository root")
    parts = [p for p in PurePosixPath(posix).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise LoadError(f"bundle path {path!r} leaves the bundle ('..'); paths must stay inside the repository")
    if not parts:
        raise LoadError(f"bundle path {path!r} names no file")
    return "/".join(parts)


def decode(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def add_file(bundle: Bundle, path: str, content: Union[str, bytes]) -> None:
    """Put one file into the bundle: as text, or as unreadable (binary, not UTF-8, too large)."""
    reason = unreadable_reason(content) if isinstance(content, bytes) else text_reason(content)
    if reason is not None:
        bundle.files[path] = ""
        bundle.unreadable[path] = reason
        return
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    bundle.files[path] = text[1:] if text.startswith("\ufeff") else text


def check_count(count: int, where: str) -> None:
    if count > MAX_FILES:
        raise LoadError(f"{where}: more than {MAX_FILES} files; an experiment bundle has about 8, so this is not "
                        "one (point expreview at the repository root of a single experiment)")


def bundle_of(files: dict[str, str], source: str, stage: Optional[str] = None) -> Bundle:
    """A bundle of text files that arrived as strings, each judged as the loaders judge bytes."""
    bundle = Bundle(files={}, stage=stage, source=source)
    for path, text in files.items():
        add_file(bundle, path, text)
    return bundle
