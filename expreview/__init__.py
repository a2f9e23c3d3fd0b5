"""expreview: a deterministic static reviewer for generated ML experiment code."""
from expreview.api import check, make_bundle, review
from expreview.engine import Report
from expreview.errors import BaselineError, LoadError, ProfileError, ReviewError, SettingsError
from expreview.findings import Finding
from expreview.version import __version__

__all__ = ["review", "check", "make_bundle", "Report", "Finding", "ReviewError", "LoadError", "SettingsError",
           "ProfileError", "BaselineError", "__version__"]
