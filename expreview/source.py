"""What every parsed file of the bundle has: its path, its text and its lines."""
from __future__ import annotations

from functools import cached_property


class SourceFile:
    def __init__(self, path: str, text: str):
        self.path = path
        self.text = text

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()
