"""`--format github`: GitHub Actions workflow commands, and a markdown job summary.

One `::error …::` / `::warning …::` line per finding, so the runner turns them into annotations
on the pull request's diff. GitHub shows at most 10 error and 10 warning annotations per step (and
50 per job), in the order they come, so errors come first ordered by consequence (crash, then
criterion, then advice), then warnings; past 10 of a kind the rest are left out and one `::notice`
says how many, and that the step summary lists them all. The title names the code and the finding's
consequence (`expreview RUN005 (crash)`). Values are escaped exactly as the runner's toolkit
does (actions/toolkit, packages/core/src/command.ts): data escapes `%`, CR and LF; properties
also escape `:` and `,`. Paths are repository-relative (`Report.repo_path`); findings that belong
to no file (internal errors) get no location. A plain summary line per bundle follows the
commands, so a clean run still says what it reviewed.

`step_summary` renders every finding as a markdown table for `$GITHUB_STEP_SUMMARY`
(`write_step_summary`)."""
from __future__ import annotations

import os
import re
import sys
from typing import Mapping, Optional

from expreview.engine import Report
from expreview.findings import ADVICE, CRASH, CRITERION, ERROR, Finding

# The pseudo path of findings that are about expreview itself, not a file in the bundle.
INTERNAL_PATH = "(expreview)"
# GitHub refuses a step summary over 1 MiB; stay well below it (the table is cut, with a note).
SUMMARY_BUDGET = 900_000
# Annotations GitHub shows per step, per level
# (docs.github.com/actions/reference/workflows-and-actions/workflow-commands).
ANNOTATION_LIMIT = 10
CONSEQUENCE_ORDER = {CRASH: 0, CRITERION: 1, ADVICE: 2}


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def is_internal(finding: Finding) -> bool:
    return not finding.path or finding.path == INTERNAL_PATH


def location(report: Report, finding: Finding) -> Optional[dict[str, int | str]]:
    """file/line/endLine/col/endColumn for `finding`, or None when it belongs to no file.

    Lines and columns are 1-based. endLine is given only when the range spans several lines;
    columns only on a single-line range whose end is not before its start (GitHub refuses
    columns across lines)."""
    if is_internal(finding):
        return None
    line = max(1, finding.line)
    out: dict[str, int | str] = {"file": report.repo_path(finding.path), "line": line}
    if finding.end_line > line:
        out["endLine"] = finding.end_line
    elif finding.end_line == line and finding.column >= 1 and finding.end_column >= finding.column:
        out["col"] = finding.column
        out["endColumn"] = finding.end_column
    return out


def command(report: Report, finding: Finding) -> str:
    props = dict(location(report, finding) or {})
    props["title"] = f"expreview {finding.code} ({finding.consequence})"
    level = "error" if finding.severity == ERROR else "warning"
    joined = ",".join(f"{key}={escape_property(str(value))}" for key, value in props.items())
    return f"::{level} {joined}::{escape_data(finding.message)}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _status(report: Report) -> str:
    return "ready" if report.ready else "not ready"


def summary_line(report: Report, several: bool) -> str:
    """The text reporter's closing line; never a workflow command (it starts with `expreview:`)."""
    how = "; ".join(report.notes) or f"stage {report.stage}"
    where = f"{report.source}: " if several and report.source else ""
    text = (f"{where}{_plural(len(report.errors), 'error')}, {_plural(len(report.warnings), 'warning')} "
            f"({how}): {_status(report)}")
    return "expreview: " + escape_data(text)


def _by_consequence(pairs: list[tuple[Report, Finding]]) -> list[tuple[Report, Finding]]:
    """Crash first, then criterion, then advice; in report order within each (sorted is stable)."""
    return sorted(pairs, key=lambda pair: CONSEQUENCE_ORDER.get(pair[1].consequence, len(CONSEQUENCE_ORDER)))


def render(reports: list[Report]) -> str:
    errors = _by_consequence([(r, f) for r in reports for f in r.errors])
    warnings = _by_consequence([(r, f) for r in reports for f in r.warnings])
    lines = [command(r, f) for r, f in errors[:ANNOTATION_LIMIT]]
    lines += [command(r, f) for r, f in warnings[:ANNOTATION_LIMIT]]
    left = [(len(found) - ANNOTATION_LIMIT, kind) for found, kind in ((errors, "error"), (warnings, "warning"))
            if len(found) > ANNOTATION_LIMIT]
    if left:
        counted = " and ".join(_plural(n, f"more {kind}") for n, kind in left)
        lines.append(f"::notice title=expreview::{escape_data(counted)} not annotated: GitHub shows "
                     f"{ANNOTATION_LIMIT} of each per step. The job summary lists every finding.")
    lines += [summary_line(r, len(reports) > 1) for r in reports]
    return "\n".join(lines) + "\n"


# --- job summary -------------------------------------------------------------------------------

def _table_cell(text: str) -> str:
    """`text` safe inside a GFM table cell: pipes escaped (with any backslashes before them, which
    would otherwise escape the escape), line breaks as <br>."""
    text = re.sub(r"(\\*)\|", lambda m: m.group(1) * 2 + "\\|", text)
    return re.sub(r"\r\n|\r|\n", "<br>", text).strip()


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text).strip()


def _code(text: str) -> str:
    """`text` as an inline code span, with a fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _bundle_name(report: Report) -> str:
    return report.source or report.root or "bundle"


def _where(report: Report, finding: Finding) -> str:
    if is_internal(finding):
        return _table_cell(_code(finding.path or INTERNAL_PATH))
    return _table_cell(_code(f"{report.repo_path(finding.path)}:{max(1, finding.line)}"))


def step_summary(reports: list[Report]) -> str:
    """Markdown: the verdict of each bundle, its counts, and a table of all its findings."""
    ready = all(r.ready for r in reports)
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    out = [f"## expreview: {'ready' if ready else 'not ready'}", "",
           f"{_plural(len(reports), 'bundle')} reviewed: {_plural(errors, 'error')}, "
           f"{_plural(warnings, 'warning')}.", ""]
    used = sum(len(line.encode("utf-8")) + 1 for line in out)
    left_out = 0
    for report in reports:
        mark = "✅" if report.ready else "❌"
        how = f" ({_one_line('; '.join(report.notes))})" if report.notes else ""
        verdict_value = "true" if report.ready else "false"
        block = [
            f"### {mark} {_code(_one_line(_bundle_name(report)))}: {_status(report)}", "",
            f"Stage `{report.stage}`{how}: {_plural(len(report.errors), 'error')}, "
            f"{_plural(len(report.warnings), 'warning')}; `{report.ready_key}: {verdict_value}`.", "",
        ]
        rows = [f"| {f.code} | {f.severity} | {_table_cell(f.consequence)} | {_where(report, f)} | "
                f"{_table_cell(f.message)} |" for f in report.errors + report.warnings]
        if rows:
            block += ["| Code | Severity | Consequence | Location | Message |", "| --- | --- | --- | --- | --- |"]
        used += sum(len(line.encode("utf-8")) + 1 for line in block)
        out += block
        shown = 0
        for row in rows:
            size = len(row.encode("utf-8")) + 1
            if used + size > SUMMARY_BUDGET:
                break
            out.append(row)
            used += size
            shown += 1
        left_out += len(rows) - shown
        if rows:
            out.append("")
    if left_out:
        out.append(f"_{_plural(left_out, 'more finding')} not shown: the summary is limited to 1 MiB; "
                   "run `expreview check --format json` for all of them._")
        out.append("")
    return "\n".join(out)


def write_step_summary(reports: list[Report], environ: Mapping[str, str] = os.environ) -> bool:
    """Append `step_summary(reports)` to the file named by GITHUB_STEP_SUMMARY, if it is set.

    Returns whether it wrote. A file that cannot be written costs a warning on stderr, never the
    review's exit status."""
    target = environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    try:
        with open(target, "a", encoding="utf-8", newline="\n") as handle:
            handle.write(step_summary(reports))
    except OSError as exc:
        print(f"expreview: warning: could not write the job summary to {target}: {exc.strerror or exc}",
              file=sys.stderr)
        return False
    return True
