"""TPL002: sanity mode prints its verdict and summary lines, `SANITY_VALIDATION: PASS` or
`SANITY_VALIDATION: FAIL reason=…` and `SANITY_VALIDATION_SUMMARY: {json}`, and pilot mode the
`PILOT_…` ones (for the prompt versions that ask for a pilot validation).

The workflow greps the run's stdout for `SANITY_VALIDATION: PASS`; without the lines every sanity
run is judged failed, and without a FAIL line with a reason the validator agent has nothing to go
on. A line is found as the string that prints it, whole or as the head of an f-string whose status
is computed (`f"SANITY_VALIDATION: {status}"` may print either)."""
from __future__ import annotations

import re
from typing import Iterator, Optional

from expreview.bundle import Bundle
from expreview.facts.task import MAIN
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import StringLit
from expreview.sources.pyfile import PythonSource

_TRAIN = "src/train.py"
_REPORT = """
import json


def report(prefix, steps, losses):
    ok = steps >= 5 and losses[-1] <= losses[0]
    status = "PASS" if ok else "FAIL reason=loss_not_decreasing"
    print(f"{prefix}_VALIDATION: {status}")
    print(f"{prefix}_VALIDATION_SUMMARY: {json.dumps({'steps': steps})}")


def main(cfg, steps, losses):
    report(cfg.mode.upper(), steps, losses)
"""
_GOOD = """
import json


def main(cfg, steps, losses):
    if cfg.mode == "sanity":
        print(f"SANITY_VALIDATION: {'PASS' if losses[-1] <= losses[0] else 'FAIL reason=loss'}")
        print("SANITY_VALIDATION_SUMMARY: " + json.dumps({"steps": steps}))
    elif cfg.mode == "pilot":
        if steps < 10:
            print("PILOT_VALIDATION: FAIL reason=too_few_steps")
        else:
            print("PILOT_VALIDATION: PASS")
        print(f"PILOT_VALIDATION_SUMMARY: {json.dumps({'steps': steps})}")
"""


def _strings(bundle: Bundle) -> list[tuple[PythonSource, StringLit]]:
    return [(source, s) for source in bundle.python_files() if source.path.startswith("src/")
            for s in source.index.strings]


# An f-string that prints a line whose prefix is computed: `f"{prefix}: PASS"`, `f"{prefix}_SUMMARY: {…}"`,
# `f"{mode}_VALIDATION: {status}"` (a `{…}` right before the rest of the line).
_COMPUTED_VERDICT = re.compile(r"\}(?:_VALIDATION)?: (?:PASS|FAIL|\{)")
_COMPUTED_SUMMARY = re.compile(r"\}(?:_VALIDATION)?_SUMMARY: ")


def _missing(bundle: Bundle, prefix: str, mode: str) -> Optional[tuple[str, Optional[tuple[PythonSource, StringLit]]]]:
    """What is wrong with the mode's lines (and a string to point at), or None. A line is there when
    a string prints it whole, or when the prefix is a value of the code (the constant
    `"SANITY_VALIDATION"`, or `f"{mode}_VALIDATION"`) and an f-string prints a line after a
    computed prefix; PASS and FAIL are judged only where the whole line is written out."""
    strings = _strings(bundle)
    name = f"{prefix}_VALIDATION"
    mentions = [(source, s) for source, s in strings if name in s.value]
    written = [(source, s) for source, s in mentions if f"{name}:" in s.value]
    summaries = [(source, s) for source, s in mentions if f"{name}_SUMMARY" in s.value]
    # the files that name the prefix as a value; a line after a computed prefix counts only there
    naming = {source.path for source, s in mentions if s.value.strip() == name} | \
        {source.path for source, s in strings if "}_VALIDATION" in s.value}
    near = [(source, s) for source, s in strings if source.path in naming]
    verdicts = sorted((pair for pair in near if _COMPUTED_VERDICT.search(pair[1].value)),
                      key=lambda pair: not ("PASS" in pair[1].value or "FAIL" in pair[1].value))
    computed_verdict = bool(verdicts)
    computed_summary = any(_COMPUTED_SUMMARY.search(s.value) for _, s in near)
    has_verdict = bool(written) or computed_verdict
    # where to point: the verdict line as written, else the f-string that prints it after its prefix
    verdict_at = written[0] if written else (verdicts[0] if verdicts else None)
    has_summary = bool(summaries) or computed_summary
    if not has_verdict and not has_summary:
        return (f"{mode} mode never prints `{name}: PASS` / `{name}: FAIL reason=…` nor `{name}_SUMMARY: {{json}}`, "
                f"and the workflow judges the {mode} run by those lines", None)
    if not has_summary:
        return (f"{mode} mode prints its verdict but never `{name}_SUMMARY: {{json}}` with the values it was "
                "judged on; print that line too", verdict_at)
    if not has_verdict:
        return (f"{mode} mode prints `{name}_SUMMARY` but never its verdict `{name}: PASS` / `{name}: FAIL "
                "reason=…`; print exactly one verdict line on every path of the branch", summaries[0] if summaries else None)
    if computed_verdict or any("{" in s.value.split(f"{name}:", 1)[1] for _, s in written):
        return None  # the status is computed: either word may be printed
    said = " ".join(s.value for _, s in written)
    lacking = [w for w in ("PASS", "FAIL") if w not in said]
    if lacking:
        what = " or ".join(f"`{name}: {w}{' reason=…' if w == 'FAIL' else ''}`" for w in lacking)
        return (f"{mode} mode never prints {what}; print exactly one verdict line on every path of the {mode} "
                "branch (FAIL with a short reason when a check fails)", written[0])
    return None


@rule(
    code="TPL002", name="validation-lines", severity=ERROR,
    consequence=CRITERION,
    criterion="Sanity mode prints exactly one line `SANITY_VALIDATION: PASS` or `SANITY_VALIDATION: FAIL "
              "reason=<short_reason>` and one line `SANITY_VALIDATION_SUMMARY: {json}`; pilot mode prints "
              "`PILOT_VALIDATION: …` and `PILOT_VALIDATION_SUMMARY: {json}`.",
    rationale="The workflow passes a sanity (pilot) run only when its stdout holds `SANITY_VALIDATION: PASS` "
              "(`PILOT_VALIDATION: PASS`); without the lines a run that worked is judged failed and the "
              "validator agent gets no reason to act on.",
    invalid=[
        Example(files={_TRAIN: _GOOD.replace("SANITY_VALIDATION_SUMMARY: ", "SUMMARY: ")}, line=6,
                message="never `SANITY_VALIDATION_SUMMARY: {json}`"),
        Example(files={_TRAIN: _GOOD.replace("PILOT", "TRIAL")}, message="pilot mode never prints"),
        # only ever PASS: a failed check is never reported
        Example(files={_TRAIN: _GOOD.replace("print(f\"SANITY_VALIDATION: {'PASS' if losses[-1] <= losses[0] else 'FAIL reason=loss'}\")",
                                             "print('SANITY_VALIDATION: PASS')")},
                line=6, message="never prints `SANITY_VALIDATION: FAIL reason=…`"),
    ],
    valid=[
        Example(files={_TRAIN: _GOOD}),
        # the prefix put together by a helper that prints both lines
        Example(files={_TRAIN: _REPORT}),
        # the prefix is a constant of the code, the lines put together after it
        Example(files={_TRAIN: """
            import json

            VALIDATION = {"sanity": "SANITY_VALIDATION", "pilot": "PILOT_VALIDATION"}


            def report(mode, reason, summary):
                prefix = VALIDATION[mode]
                print(f"{prefix}: PASS" if reason is None else f"{prefix}: FAIL reason={reason}")
                print(f"{prefix}_SUMMARY: {json.dumps(summary)}")
            """}),
        # versions before 2026-03-12 ask for no pilot validation
        Example(files={_TRAIN: _GOOD.replace("PILOT", "TRIAL")}, options={"pilot_validation": False}),
    ],
)
def validation_lines(bundle: Bundle) -> Iterator[Hit]:
    modes = bundle.option("modes") or {}
    wanted = [("SANITY", str(modes.get("sanity", "sanity")))]
    if bundle.option("pilot_validation", True):
        wanted.append(("PILOT", str(modes.get("pilot", "pilot"))))
    for prefix, mode in wanted:
        problem = _missing(bundle, prefix, mode)
        if problem is None:
            continue
        message, at = problem
        if at is None:
            yield Hit(MAIN if MAIN in bundle.files else _TRAIN, message)
        else:
            source, string = at
            yield Hit(source.path, message, string.node)
