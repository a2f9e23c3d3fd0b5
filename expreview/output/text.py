"""The text format: one `path:line:column: CODE severity (consequence) message` line per finding
(`path:line:column:` first, for editors), then a summary line."""
from __future__ import annotations

from expreview.engine import Report


def text(reports: list[Report]) -> str:
    blocks = []
    for report in reports:
        lines = [f"{f.path}:{f.line}:{f.column}: {f.code} {f.severity} ({f.consequence}) {f.message}"
                 for f in report.findings]
        errors, warnings = len(report.errors), len(report.warnings)
        how = "; ".join(report.notes) or f"stage {report.stage}"
        verdict = "ready" if report.ready else "not ready"
        where = f"{report.source}: " if len(reports) > 1 and report.source else ""
        lines.append(f"{where}{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
                     f"({how}): {verdict}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
