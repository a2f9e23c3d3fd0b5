"""The output formats by name: each renderer takes the results of one call (a report or an error per
input) and returns the exact text to print.

One input gives one object (json, verdict); several give a list with one entry per input, in the
order given, each naming its `input`; an input that could not be reviewed is an entry with an
`error` instead of a verdict. Text, github and sarif show the reports (errors go to stderr)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from expreview.jobs import Result

FORMATS = ("text", "json", "verdict", "github", "sarif")


@dataclass(frozen=True)
class View:
    several: bool = False  # more than one input was asked for: json and verdict give a list
    color: bool = False  # text only
    quiet: bool = False  # text only: the findings, without the summary lines


# Each renderer imports its module when it is asked for: a run prints one format, and the others
# (SARIF's rule descriptors, hashing) are a few milliseconds of every cold start.

def _text(results: list[Result], view: View) -> str:
    from expreview.output.text import text

    return text([r.report for r in results if r.report is not None], color=view.color, quiet=view.quiet)


def _json(results: list[Result], view: View) -> str:
    from expreview.output.json_report import as_json

    return as_json(results, view.several)


def _verdict(results: list[Result], view: View) -> str:
    from expreview.output.verdict import verdict

    return verdict(results, view.several)


def _github(results: list[Result], view: View) -> str:
    from expreview.output import github

    return github.render([r.report for r in results if r.report is not None])


def _sarif(results: list[Result], view: View) -> str:
    from expreview.output import sarif

    return sarif.render([r.report for r in results if r.report is not None])


RENDERERS: dict[str, Callable[[list[Result], View], str]] = {
    "text": _text, "json": _json, "verdict": _verdict, "github": _github, "sarif": _sarif,
}
