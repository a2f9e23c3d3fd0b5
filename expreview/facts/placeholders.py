"""What a placeholder token looks like (`PLACEHOLDER`, `DATASET_PLACEHOLDER`)."""
from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\b\w*PLACEHOLDER\w*\b")
