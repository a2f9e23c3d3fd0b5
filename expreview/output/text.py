"""The text format: one `path:line:column: CODE severity (consequence) message` line per finding
(`path:line:column:` first, for editors; the path as seen from the working directory), then a
summary line per report. Colour, when asked, only marks up what is already there."""
from __future__ import annotations

import click

from expreview.engine import Report
from expreview.findings import ERROR, Finding


def _line(report: Report, f: Finding, color: bool) -> str:
    where = f"{report.repo_path(f.path)}:{f.line}:{f.column}:"
    if not color:
        return f"{where} {f.code} {f.severity} ({f.consequence}) {f.message}"
    level = click.style(f.severity, fg="red" if f.severity == ERROR else "yellow")
    return f"{click.style(where, bold=True)} {click.style(f.code, fg='red' if f.severity == ERROR else 'yellow', bold=True)} " \
           f"{level} ({f.consequence}) {f.message}"


def summary(report: Report, several: bool) -> str:
    errors, warnings = len(report.errors), len(report.warnings)
    how = "; ".join(report.notes) or f"stage {report.stage}"
    verdict = "ready" if report.ready else "not ready"
    where = f"{report.source}: " if several and report.source else ""
    return (f"{where}{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
            f"({how}): {verdict}")


def text(reports: list[Report], color: bool = False, quiet: bool = False) -> str:
    blocks = []
    for report in reports:
        lines = [_line(report, f, color) for f in report.findings]
        if not quiet:
            last = summary(report, len(reports) > 1)
            lines.append(click.style(last, fg="green" if report.ready else "red") if color else last)
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""
