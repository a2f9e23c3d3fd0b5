"""expreview: a deterministic static reviewer for generated ML experiment code."""
from expreview.api import check, make_bundle, review
from expreview.engine import Report
from expreview.findings import Finding
from expreview.inputs.loaders import LoadError
from expreview.version import __version__

__all__ = ["review", "check", "make_bundle", "Report", "Finding", "LoadError", "__version__"]
