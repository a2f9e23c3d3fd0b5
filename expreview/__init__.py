"""expreview: a deterministic static reviewer for generated ML experiment code."""
from .api import check, make_bundle, review
from .engine import Report
from .findings import Finding
from .loaders import LoadError

__version__ = "0.1.0"
__all__ = ["review", "check", "make_bundle", "Report", "Finding", "LoadError", "__version__"]
