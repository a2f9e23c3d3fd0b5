"""PY008: third-party names that do not exist (placeholder: being written)."""
from __future__ import annotations
