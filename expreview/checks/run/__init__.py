"""RUN: how src/main.py orchestrates the runs: configs, one child per run, logs, no deadlock.
Importing this package registers the rules of its modules."""
from . import paths, processes  # noqa: F401
