"""LAY: the files of the bundle (files: required, extra, empty, unreadable) and whether its project
imports resolve (imports)."""
