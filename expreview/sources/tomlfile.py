"""The TOML file of the bundle (pyproject.toml), parsed once."""
from __future__ import annotations

import re
import sys
from functools import cached_property
from typing import Any, Optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from expreview.sources.file import SourceFile

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


class TomlSource(SourceFile):
    @cached_property
    def _loaded(self) -> tuple[Optional[dict], Optional[tuple[str, int, int]]]:
        try:
            return tomllib.loads(self.text), None
        except tomllib.TOMLDecodeError as exc:
            text = str(exc)
            match = _AT.search(text)
            line, col = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
            return None, (_AT.sub("", text).strip(), line, col)
        except (RecursionError, ValueError) as exc:
            return None, (f"invalid TOML: {type(exc).__name__}", 1, 1)

    @property
    def data(self) -> Optional[dict[str, Any]]:
        return self._loaded[0]

    @property
    def problem(self) -> Optional[tuple[str, int, int]]:
        return self._loaded[1]

    def line_of(self, pattern: str, start: int = 1) -> Optional[int]:
        """First 1-based line at or after `start` matching the regex `pattern`."""
        rx = re.compile(pattern)
        for number, text in enumerate(self.lines[start - 1:], start):
            if rx.search(text):
                return number
        return None

    def table_line(self, dotted: str) -> Optional[int]:
        """Line of the `[a.b]` header, or of the `b =` key inside `[a]`."""
        header = self.line_of(r"^\s*\[\s*" + re.escape(dotted).replace(r"\.", r"\s*\.\s*") + r"\s*\]")
        if header:
            return header
        parent, _, key = dotted.rpartition(".")
        start = self.table_line(parent) if parent else 1
        if start is None:
            return None
        for number in range(start + (1 if parent else 0), len(self.lines) + 1):
            text = self.lines[number - 1]
            if parent and text.lstrip().startswith("["):
                return None
            if re.match(r"^\s*" + re.escape(key) + r"\s*=", text):
                return number
        return None
