"""The command line: `expreview check`, `expreview rules`, `expreview explain`.

Exit status: 0 ready, 1 not ready, 2 usage or input error (one line on stderr)."""
from __future__ import annotations

import sys
import textwrap

from typing import Optional

import click
import yaml

from . import __version__
from .bundle import STAGES
from .engine import Report, review_bundle
from .loaders import LoadError, decide_stage, load_path
from .profiles import ProfileError
from .reporters import FORMATS, RENDERERS
from .rule import REGISTRY


def fail(message: str) -> None:
    click.echo(f"expreview: error: {message}", err=True)
    sys.exit(2)


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _options(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--option {pair!r} is not key=value")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = value
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="expreview")
def main() -> None:
    """Static review of generated ML experiment code."""


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--stage", type=click.Choice(("auto",) + STAGES), default="auto", show_default=True,
              help="Review stage; auto decides from the prompt's headers, the bundle or config/config.yaml.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--base", "base_path", help="The base bundle a derived bundle was made from (directory or JSON).")
@click.option("--run-variations", help="Comma-separated run ids the derived experiment must define.")
@click.option("--option", "-o", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Override a profile option, e.g. -o orchestration=gpu-queue.")
@click.option("--select", multiple=True, help="Only these rule codes or prefixes (comma-separated).")
@click.option("--ignore", multiple=True, help="Skip these rule codes or prefixes (comma-separated).")
def check(paths, stage, fmt, base_path, run_variations, option_pairs, select, ignore) -> None:
    """Review PATHS: directories, JSON bundles or logged reviewer prompts ('-' reads stdin)."""
    select, ignore = _split(select), _split(ignore)
    unknown = [c for c in select + ignore if not any(code.startswith(c) for code in REGISTRY)]
    if unknown:
        fail(f"unknown rule code or prefix: {', '.join(unknown)} (see `expreview rules`)")
    options = _options(option_pairs)
    stdin_text: Optional[str] = sys.stdin.read() if "-" in paths else None
    reports: list[Report] = []
    try:
        for path in paths:
            bundle = load_path(path, stdin_text)
            if base_path:
                bundle.base = load_path(base_path)
                bundle.base.stage = "base"
            if run_variations is not None:
                bundle.run_variations = _split((run_variations,))
            bundle.options.update(options)
            decide_stage(bundle, stage)
            reports.append(review_bundle(bundle, select=select, ignore=ignore))
    except (LoadError, ProfileError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}")
    click.echo(RENDERERS[fmt](reports), nl=False)
    sys.exit(0 if all(r.ready for r in reports) else 1)


@main.command("rules")
def list_rules() -> None:
    """List every rule: code, stages, severity, and what it checks."""
    for code in sorted(REGISTRY):
        r = REGISTRY[code]
        click.echo(f"{code}  {r.severity:<7}  {','.join(r.stages):<19}  {r.name}: {r.summary}")


def _example_text(example) -> str:
    parts = []
    for path, text in example.files.items():
        parts.append(f"  # {path}\n" + textwrap.indent(text.rstrip("\n"), "  "))
    if example.options:
        parts.append("  # options: " + ", ".join(f"{k}={v}" for k, v in example.options.items()))
    return "\n".join(parts)


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Explain rule CODE: its criterion, why it matters, and examples."""
    r = REGISTRY.get(code.upper())
    if r is None:
        fail(f"unknown rule {code!r} (see `expreview rules`)")
    click.echo(f"{r.code} ({r.name}) - {r.severity}, stages: {', '.join(r.stages)}\n")
    click.echo("Criterion:\n" + textwrap.fill(r.criterion, 96, initial_indent="  ", subsequent_indent="  "))
    click.echo("\nWhy it matters:\n" + textwrap.fill(r.rationale, 96, initial_indent="  ", subsequent_indent="  "))
    click.echo("\nFails:\n" + _example_text(r.invalid[0]))
    click.echo("\nPasses:\n" + _example_text(r.valid[0]))


def run() -> None:  # pragma: no cover - console entry point guard
    try:
        main()
    except SystemExit:
        raise
    except Exception as exc:  # never a traceback for a user
        click.echo(f"expreview: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)



