"""PY006, PY007, PY009: calls, unpacking and uses of the bundle's own functions and classes."""
from __future__ import annotations
