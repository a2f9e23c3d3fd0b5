"""DEP: pyproject.toml and the imports it must declare."""
from . import rules  # noqa: F401
