"""LAY: the files of the bundle (files: required, extra, empty, unreadable) and whether its project
imports resolve (imports). Importing this package registers the rules of its modules."""
from . import files, imports  # noqa: F401
