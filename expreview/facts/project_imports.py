"""Which of the project's own modules an import names (`from src.model import Net`, `from . import x`)."""
from __future__ import annotations

from typing import Optional

from expreview.sources.index import Import


def project_module(imp: Import) -> Optional[str]:
    """The dotted project module (`src`, `src.model`) an import reads from; None for other imports
    (third-party, stdlib, bare sibling names, and relative imports above src/)."""
    if imp.level == 1:
        return f"src.{imp.module}" if imp.module else "src"
    if imp.level == 0 and (imp.module == "src" or imp.module.startswith("src.")):
        return imp.module
    return None
