"""The verdict format: each report's verdict (ready or not, and the counts) as JSON."""
from __future__ import annotations

import json

from expreview.engine import Report


def verdict(reports: list[Report]) -> str:
    if len(reports) == 1:
        return json.dumps(reports[0].verdict(), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([r.verdict() for r in reports], indent=2, ensure_ascii=False) + "\n"
