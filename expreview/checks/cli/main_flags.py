"""CLI001: src/main.py accepts `--smoke-test`, `--full-experiment` and `--results-dir <path>`."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.cli.common import MAIN, parser_spec
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule

_MAIN_OK = (
    "import argparse\n\n\ndef parse_args():\n    p = argparse.ArgumentParser()\n"
    "    g = p.add_mutually_exclusive_group(required=True)\n"
    "    g.add_argument('--smoke-test', action='store_true')\n"
    "    g.add_argument('--full-experiment', action='store_true')\n"
    "    p.add_argument('--results-dir', required=True)\n    return p.parse_args()\n"
)


@rule(
    code="CLI001", name="main-flags", severity=ERROR,
    consequence=CRASH,
    criterion="main.py properly supports `--smoke-test` and `--full-experiment` flags with "
              "`--results-dir <path>` argument.",
    rationale="The pipeline calls `python -m src.main --smoke-test --results-dir …`; argparse "
              "exits with status 2 on a flag it does not know.",
    invalid=[Example(files={MAIN: _MAIN_OK.replace("--results-dir", "--output")}, line=7),
             # a flag defined only on a subparser is not a flag of `python -m src.main`
             Example(files={MAIN: _MAIN_OK.replace("    g.add_argument('--smoke-test', action='store_true')\n",
                                                   "    sub = p.add_subparsers(dest='command')\n"
                                                   "    run = sub.add_parser('run')\n"
                                                   "    run.add_argument('--smoke-test', action='store_true')\n")},
                     message="defined on a subcommand's parser")],
    valid=[Example(files={MAIN: _MAIN_OK})],
)
def main_flags(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(MAIN)
    if source is None:
        return
    spec = parser_spec(source)
    defined = spec.top_level_options if spec else []
    where = spec.flags[0].node if spec and spec.flags else None
    # the flags the asked prompt names (older prompts did not ask for --results-dir)
    for flag in bundle.option("main_flags", ["--smoke-test", "--full-experiment", "--results-dir"]):
        if flag not in defined:
            how = "no argparse parser" if spec is None else f"only {', '.join(defined) or 'no options'}"
            at = where
            if spec is not None and flag in spec.options:
                at = next(f.node for f in spec.flags if flag in f.names)
                how += f"; `{flag}` is defined on a subcommand's parser, so `python -m src.main {flag}` exits with \"unrecognized arguments\""
            yield Hit(MAIN, f"src/main.py does not accept `{flag}` (it defines {how}); add "
                            f"`parser.add_argument(\"{flag}\", …)`", at)
