"""The json format: a report with all its findings; for several inputs, a list of them, each naming
its input (and an entry with an `error` for an input that could not be reviewed)."""
from __future__ import annotations

import json

from expreview.jobs import Result


def entry(result: Result) -> dict:
    if result.report is None:
        return {"input": result.input, "error": result.error}
    return {"input": result.input, "source": result.report.source, **result.report.as_dict()}


def as_json(results: list[Result], several: bool) -> str:
    if not several and results and results[0].report is not None:
        return json.dumps(results[0].report.as_dict(), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([entry(r) for r in results], indent=2, ensure_ascii=False) + "\n"
