"""The output formats by name: each renderer takes reports and returns the exact text to print."""
from __future__ import annotations

from typing import Callable

from expreview.engine import Report
from expreview.output import github, sarif
from expreview.output.json_report import as_json
from expreview.output.text import text
from expreview.output.verdict import verdict

FORMATS = ("text", "json", "verdict", "github", "sarif")

RENDERERS: dict[str, Callable[[list[Report]], str]] = {
    "text": text, "json": as_json, "verdict": verdict, "github": github.render, "sarif": sarif.render,
}
