"""The output formats by name: each renderer takes the results of one call (a report or an error per
input) and returns the exact text to print.

One input gives one object (json, verdict); several give a list with one entry per input, in the
order given, each naming its `input`; an input that could not be reviewed is an entry with an
`error` instead of a verdict. Text, github and sarif show the reports (errors go to stderr)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from expreview.jobs import Result
from expreview.output import github, sarif
from expreview.output.json_report import as_json
from expreview.output.text import text
from expreview.output.verdict import verdict

FORMATS = ("text", "json", "verdict", "github", "sarif")


@dataclass(frozen=True)
class View:
    several: bool = False  # more than one input was asked for: json and verdict give a list
    color: bool = False  # text only
    quiet: bool = False  # text only: the findings, without the summary lines


def _reports(render: Callable) -> Callable[[list[Result], View], str]:
    return lambda results, view: render([r.report for r in results if r.report is not None])


def _text(results: list[Result], view: View) -> str:
    return text([r.report for r in results if r.report is not None], color=view.color, quiet=view.quiet)


RENDERERS: dict[str, Callable[[list[Result], View], str]] = {
    "text": _text, "json": lambda results, view: as_json(results, view.several),
    "verdict": lambda results, view: verdict(results, view.several),
    "github": _reports(github.render), "sarif": _reports(sarif.render),
}
