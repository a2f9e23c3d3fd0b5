"""CLI: main's command line, and the flags it passes to the scripts it launches.
Importing this package registers the rules of its modules."""
from . import key_value, main_flags, subprocess_contract  # noqa: F401
