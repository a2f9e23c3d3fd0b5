"""What every parsed file of the bundle has: its path, its text and its lines."""
from __future__ import annotations

from functools import cached_property


class SourceFile:
    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text
        self._memo: dict = {}

    def memo(self, key, compute):
        """A fact about this file that several rules ask for, computed once."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()
