"""What every parsed file of the bundle has: its path, its text, its lines, and the facts
rules computed about it (see `expreview.facts.cache`)."""
from __future__ import annotations

from functools import cached_property


class SourceFile:
    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        # fact function (or (function, arguments)) -> its value for this file; filled by expreview.facts.cache
        self.facts: dict[object, object] = {}

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()
