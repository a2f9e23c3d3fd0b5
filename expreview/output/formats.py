"""Output formats. Each takes reports and returns the exact text to print."""
from __future__ import annotations

import json

from expreview.engine import Report

FORMATS = ("text", "json", "verdict", "github", "sarif")


def text(reports: list[Report]) -> str:
    blocks = []
    for report in reports:
        lines = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in report.findings]
        errors, warnings = len(report.errors), len(report.warnings)
        how = "; ".join(report.notes) or f"stage {report.stage}"
        verdict = "ready" if report.ready else "not ready"
        where = f"{report.source}: " if len(reports) > 1 and report.source else ""
        lines.append(f"{where}{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
                     f"({how}): {verdict}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def as_json(reports: list[Report]) -> str:
    if len(reports) == 1:
        return json.dumps(reports[0].as_dict(), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([dict(source=r.source, **r.as_dict()) for r in reports], indent=2, ensure_ascii=False) + "\n"


def verdict(reports: list[Report]) -> str:
    if len(reports) == 1:
        return json.dumps(reports[0].verdict(), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([r.verdict() for r in reports], indent=2, ensure_ascii=False) + "\n"


def github(reports: list[Report]) -> str:
    from expreview.output.github import render
    return render(reports)


def sarif(reports: list[Report]) -> str:
    from expreview.output.sarif import render
    return render(reports)


RENDERERS = {"text": text, "json": as_json, "verdict": verdict, "github": github, "sarif": sarif}
