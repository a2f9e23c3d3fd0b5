"""`--statistics`: how many findings of each code, most frequent first (as ruff prints them)."""
from __future__ import annotations

import json
from collections import Counter

from expreview.engine import ENGINE_CODES, Report
from expreview.rule import REGISTRY


def _name(code: str) -> str:
    rule = REGISTRY.get(code)
    if rule is not None:
        return rule.summary
    return ENGINE_CODES.get(code, ("", code))[1]


def rows(reports: list[Report]) -> list[dict]:
    counts = Counter((f.code, f.severity, f.consequence) for r in reports for f in r.findings)
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"code": code, "count": count, "severity": severity, "consequence": consequence, "what": _name(code)}
            for (code, severity, consequence), count in ordered]


def statistics(reports: list[Report], as_json: bool) -> str:
    table = rows(reports)
    if as_json:
        return json.dumps(table, indent=2, ensure_ascii=False) + "\n"
    if not table:
        return ""
    width = max(len(str(row["count"])) for row in table)
    return "".join(f"{row['count']:>{width}}  {row['code']:<7}  {row['severity']:<7}  {row['consequence']:<9}  "
                   f"{row['what']}\n" for row in table)
