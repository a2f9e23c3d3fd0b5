"""Edits of TOML files for fixes, made with tomlkit, which keeps every comment, blank line and
quote style of what it does not change. The edit covers only the text that differs, so fixes of
different rules in one file conflict only when they really touch the same lines."""
from __future__ import annotations

from typing import Any, Callable, Optional

from expreview.edits import Edit, smallest_edit


def rewritten(path: str, text: str, change: Callable[[Any], None]) -> Optional[Edit]:
    """The edit that `change` (called with the parsed tomlkit document, which it edits in place)
    makes to `text`; None when tomlkit cannot read the file, `change` raises KeyError, TypeError or
    ValueError (the shape was not the expected one), or nothing changed."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(text)
        change(document)
        fixed = tomlkit.dumps(document)
    except (TOMLKitError, KeyError, TypeError, ValueError):
        return None
    return smallest_edit(path, text, fixed)
