"""expreview: a deterministic static reviewer for generated ML experiment code.

The public names are imported on first use (PEP 562), so that `import expreview.<module>` costs
only that module: the console entry point (expreview.console) must run before the rest is
imported."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from expreview.version import __version__

if TYPE_CHECKING:  # what the names are, for type checkers; at run time __getattr__ imports them
    from expreview.api import check, fix, make_bundle, review
    from expreview.edits import Edit, Fix
    from expreview.engine import Report
    from expreview.errors import BaselineError, LoadError, ProfileError, ReviewError, SettingsError
    from expreview.findings import Finding
    from expreview.fixing import FixResult

_HOMES = {
    "review": "api", "check": "api", "fix": "api", "make_bundle": "api",
    "Edit": "edits", "Fix": "edits", "Report": "engine", "Finding": "findings", "FixResult": "fixing",
    "ReviewError": "errors", "LoadError": "errors", "SettingsError": "errors", "ProfileError": "errors",
    "BaselineError": "errors",
}

__all__ = ["review", "check", "fix", "make_bundle", "Report", "Finding", "Fix", "Edit", "FixResult", "ReviewError", "LoadError", "SettingsError",
           "ProfileError", "BaselineError", "__version__"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'expreview' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"expreview.{home}"), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
