"""The verdict format: the pipeline's object (`{"is_base_code_ready": …, "base_code_issue": …}`);
for several inputs, a list with one per input, each naming its `input` (an entry with an `error`
for an input that could not be reviewed)."""
from __future__ import annotations

import json

from expreview.jobs import Result


def entry(result: Result) -> dict:
    if result.report is None:
        return {"input": result.input, "error": result.error}
    return {"input": result.input, **result.report.verdict()}


def verdict(results: list[Result], several: bool) -> str:
    if not several and results and results[0].report is not None:
        return json.dumps(results[0].report.verdict(), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([entry(r) for r in results], indent=2, ensure_ascii=False) + "\n"
