"""expreview: a deterministic static reviewer for generated ML experiment code."""
from expreview.api import check, fix, make_bundle, review
from expreview.edits import Edit, Fix
from expreview.engine import Report
from expreview.errors import BaselineError, LoadError, ProfileError, ReviewError, SettingsError
from expreview.findings import Finding
from expreview.fixing import FixResult
from expreview.version import __version__

__all__ = ["review", "check", "fix", "make_bundle", "Report", "Finding", "Fix", "Edit", "FixResult", "ReviewError", "LoadError", "SettingsError",
           "ProfileError", "BaselineError", "__version__"]
