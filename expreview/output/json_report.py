"""The json format: each report with all its findings (a list, with sources, for several reports)."""
from __future__ import annotations

import json

from expreview.engine import Report


def as_json(reports: list[Report]) -> str:
    if len(reports) == 1:
        return json.dumps(reports[0].as_dict(), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([dict(source=r.source, **r.as_dict()) for r in reports], indent=2, ensure_ascii=False) + "\n"
