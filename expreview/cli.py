"""The command line: `expreview check`, `rules`, `explain`, `config`, `docs`.

Exit status: 0 ready, 1 not ready, 2 usage or input error (one line on stderr per error)."""
from __future__ import annotations

import os
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NoReturn, Optional

import click
import yaml

from expreview import baseline as baselines
from expreview.bundle import STAGES
from expreview.checks.dep.pyproject import pyproject_validator
from expreview.docs import CONSEQUENCE_MEANINGS, engine_consequence, rules_markdown
from expreview.engine import ENGINE_CODES, Report, review_bundle
from expreview.inputs.loaders import LoadError, decide_stage, load_path
from expreview.plugins import PROBLEMS as PLUGIN_PROBLEMS
from expreview.plugins import load_plugins
from expreview.profiles import ProfileError, base_stage, load_profile
from expreview.output.formats import FORMATS, RENDERERS
from expreview.output.github import write_step_summary
from expreview.rule import REGISTRY
from expreview.settings import Settings, Setting, SettingsError, check_codes, resolve
from expreview.version import __version__

INPUT_ERRORS = (LoadError, ProfileError, SettingsError, baselines.BaselineError)


def fail(message: str) -> NoReturn:
    click.echo(f"expreview: error: {message}", err=True)
    sys.exit(2)


def _split(values) -> list[str]:
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


@dataclass
class Job:
    """Everything needed to review one path, in a form a worker process can receive."""
    path: str
    stage: str
    stage_origin: str
    options: dict[str, Any]
    select: list[str]
    ignore: list[str]
    severities: dict[str, str]
    base_path: Optional[str] = None
    run_variations: Optional[list[str]] = None
    prompt_version: Optional[str] = None
    prompt_version_origin: str = ""
    stdin_text: Optional[str] = None
    baseline: Optional[list[dict]] = None
    want_entries: bool = False
    entries: list[dict] = field(default_factory=list)


def review_one(job: Job) -> tuple[Optional[Report], list[dict], Optional[str]]:
    """(report, baseline entries, error): runs in the CLI process or in a worker."""
    try:
        bundle = load_path(job.path, job.stdin_text)
        if job.base_path:
            bundle.base = load_path(job.base_path)
            bundle.base.stage = base_stage()
        if job.run_variations is not None:
            bundle.run_variations = job.run_variations
        if job.prompt_version is not None and job.prompt_version != bundle.prompt_version:
            # --prompt-version beats what a prompt's text says; a configured one only fills a gap
            if bundle.prompt_version is None or job.prompt_version_origin == "--prompt-version":
                if bundle.prompt_version is not None:
                    bundle.notes.append(f"prompt version {job.prompt_version} from --prompt-version "
                                        f"(the prompt reads as {bundle.prompt_version})")
                else:
                    bundle.notes.append(f"prompt version {job.prompt_version} from {job.prompt_version_origin}")
                bundle.prompt_version = job.prompt_version
        input_options = dict(bundle.options)  # what a prompt says beats the repository's settings
        bundle.options = {**job.options, **input_options}
        decide_stage(bundle, job.stage, job.stage_origin)
        report = review_bundle(bundle, select=job.select, ignore=job.ignore, severities=job.severities,
                               baseline=job.baseline)
        entries = baselines.entries(bundle, report.findings, bundle.source) if job.want_entries else []
        return report, entries, None
    except INPUT_ERRORS as exc:
        return None, [], str(exc)
    except OSError as exc:
        return None, [], f"{exc.filename or job.path}: {exc.strerror or exc}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="expreview")
def main() -> None:
    """Static review of generated ML experiment code."""
    load_plugins()
    for problem in PLUGIN_PROBLEMS:
        click.echo(f"expreview: warning: {problem}", err=True)


def _settings(paths, config, stage, select, ignore, option_pairs) -> Settings:
    try:
        settings = resolve(list(paths), config)
        if stage is not None:
            settings.stage = Setting(stage, "--stage")
        if select:
            check_codes(select, "--select")
            settings.select = Setting([s.upper() for s in select], "--select")
        if ignore:
            check_codes(ignore, "--ignore")
            settings.ignore = Setting([s.upper() for s in ignore], "--ignore")
        for key, value in _options(option_pairs).items():
            settings.options[key] = Setting(value, "-o")
    except SettingsError as exc:
        fail(str(exc))
    return settings


def _short(origin: str) -> str:
    """`/abs/repo/pyproject.toml [tool.expreview]` → `pyproject.toml [tool.expreview]` as seen from here."""
    path, sep, rest = origin.partition(" ")
    if os.path.isabs(path):
        try:
            path = os.path.relpath(path)
        except ValueError:
            pass
    return path + sep + rest


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--stage", type=click.Choice(("auto",) + STAGES), default=None,
              help="Review stage (default: the configuration's, else auto: from the prompt's headers, the "
                   "bundle or config/config.yaml).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--base", "base_path", help="The base bundle a derived bundle was made from (directory or JSON).")
@click.option("--run-variations", help="Comma-separated run ids the derived experiment must define.")
@click.option("--prompt-version", "prompt_version", metavar="GROUP",
              help="Judge by this reviewer prompt version group (e.g. B6, D3, H12; see `expreview versions`); "
                   "default: the one a logged prompt reads as, else the configured one, else the stage's newest.")
@click.option("--option", "-o", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Override a profile option, e.g. -o orchestration=gpu-queue.")
@click.option("--select", multiple=True, help="Only these rule codes or prefixes (comma-separated).")
@click.option("--ignore", multiple=True, help="Skip these rule codes or prefixes (comma-separated).")
@click.option("--config", "config", help="Read settings from FILE instead of the nearest pyproject.toml.")
@click.option("--baseline", "baseline_path", help="Report only findings that FILE does not accept.")
@click.option("--write-baseline", "write_baseline", help="Write the current findings to FILE as a baseline.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Review several bundles in parallel processes.")
def check(paths, stage, fmt, base_path, run_variations, prompt_version, option_pairs, select, ignore, config,
          baseline_path, write_baseline, jobs) -> None:
    """Review PATHS: directories, JSON bundles or logged reviewer prompts ('-' reads stdin)."""
    select, ignore = _split(select), _split(ignore)
    # Each checked path finds its own [tool.expreview] (a --config file applies to all of them).
    per_path = [(path, _settings([path], config, stage, select, ignore, option_pairs)) for path in paths]
    accepted = None
    if baseline_path:
        try:
            accepted = baselines.read(baseline_path)
        except baselines.BaselineError as exc:
            fail(str(exc))
    stdin_text: Optional[str] = sys.stdin.read() if "-" in paths else None
    todo = [Job(path, s.stage.value, _short(s.stage.origin), s.option_values(), s.select.value, s.ignore.value, s.severity_values(),
                base_path or s.base.value,
                _split((run_variations,)) if run_variations is not None else s.run_variations.value,
                prompt_version or s.prompt_version.value,
                "--prompt-version" if prompt_version else _short(s.prompt_version.origin),
                stdin_text if path == "-" else None, accepted, bool(write_baseline))
            for path, s in per_path]
    if jobs > 1 and len(todo) > 1:
        pyproject_validator()  # built before the workers fork, so each inherits it instead of rebuilding it
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            results = list(pool.map(review_one, todo))
    else:
        results = [review_one(job) for job in todo]
    reports, entries, errors = [], [], []
    for report, found, error in results:
        if error is not None:
            errors.append(error)
        else:
            assert report is not None  # review_one gives a report exactly when it gives no error
            reports.append(report)
            entries.extend(found)
    for error in errors:
        click.echo(f"expreview: error: {error}", err=True)
    if write_baseline and not errors:
        baselines.write(write_baseline, entries)
    if reports:
        click.echo(RENDERERS[fmt](reports), nl=False)
        if fmt == "github":
            write_step_summary(reports)
    sys.exit(2 if errors else 0 if all(r.ready for r in reports) else 1)


@main.command("rules")
def list_rules() -> None:
    """List every rule: code, severity, consequence, stages, and what it checks."""
    for code in sorted(REGISTRY):
        r = REGISTRY[code]
        click.echo(f"{code}  {r.severity:<7}  {r.consequence:<9}  {','.join(r.stages):<19}  {r.name}: {r.summary}")
    for code, (severity, summary) in sorted(ENGINE_CODES.items()):
        click.echo(f"{code}  {severity:<7}  {engine_consequence(code):<9}  {'all':<19}  "
                   f"(reported by the engine): {summary}")


@main.command("versions")
@click.argument("stage", required=False, type=click.Choice(STAGES))
def list_versions(stage: Optional[str]) -> None:
    """List each stage's reviewer prompt version groups, newest first, with what tells them apart
    and what they change (rules/<stage>.yaml `versions`)."""
    for name in [stage] if stage else STAGES:
        try:
            profile = load_profile(name)
        except ProfileError as exc:
            fail(str(exc))
        for n, group in enumerate(profile.versions):
            changes = []
            if group.options:
                changes.append("options " + ", ".join(f"{k}={v}" for k, v in group.options.items()))
            if group.off:
                changes.append("off " + ",".join(group.off))
            if group.on:
                changes.append("on " + ",".join(group.on))
            if group.severity:
                changes.append("severity " + ", ".join(f"{k}={v}" for k, v in group.severity.items()))
            newest = " (newest)" if n == 0 else ""
            click.echo(f"{name}  {group.group}{newest}  marker: {group.marker}")
            if changes:
                click.echo(f"    {'; '.join(changes)}")


def _example_text(example) -> str:
    parts = []
    for path, text in example.files.items():
        parts.append(f"  # {path}\n" + textwrap.indent(text.rstrip("\n"), "  "))
    for path, raw in example.raw.items():
        parts.append(f"  # {path} (bytes)\n  {raw!r}")
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
    click.echo(f"{r.code} ({r.name}) - {r.severity} ({r.consequence}), stages: {', '.join(r.stages)}\n")
    meaning = CONSEQUENCE_MEANINGS.get(r.consequence, "")
    click.echo("Consequence:\n" + textwrap.fill(f"{r.consequence}: {meaning}" if meaning else r.consequence, 96,
                                              initial_indent="  ", subsequent_indent="  ") + "\n")
    click.echo("Criterion:\n" + textwrap.fill(r.criterion, 96, initial_indent="  ", subsequent_indent="  "))
    click.echo("\nWhy it matters:\n" + textwrap.fill(r.rationale, 96, initial_indent="  ", subsequent_indent="  "))
    click.echo("\nFails:\n" + _example_text(r.invalid[0]))
    click.echo("\nPasses:\n" + _example_text(r.valid[0]))


@main.command("config")
@click.argument("paths", nargs=-1)
@click.option("--config", "config", help="Read settings from FILE instead of the nearest pyproject.toml.")
@click.option("--stage", type=click.Choice(("auto",) + STAGES), default=None)
def show_config(paths, config, stage) -> None:
    """Print the resolved settings for PATHS and where each came from."""
    paths = paths or (".",)
    settings = _settings(paths, config, stage, [], [], ())
    rows = [("config file", settings.config_file or "(none found)", "")]
    rows.append(("stage", settings.stage.value, settings.stage.origin))
    rows.append(("select", ", ".join(settings.select.value) or "(all)", settings.select.origin))
    rows.append(("ignore", ", ".join(settings.ignore.value) or "(none)", settings.ignore.origin))
    for code, s in sorted(settings.severity.items()):
        rows.append((f"severity.{code}", s.value, s.origin))
    if settings.base.value:
        rows.append(("base", settings.base.value, settings.base.origin))
    if settings.run_variations.value:
        rows.append(("run_variations", ", ".join(settings.run_variations.value), settings.run_variations.origin))
    if settings.prompt_version.value:
        rows.append(("prompt_version", settings.prompt_version.value, settings.prompt_version.origin))
    resolved = settings.stage.value
    if resolved == "auto":
        try:
            bundle = load_path(paths[0])
            decide_stage(bundle, "auto")
            resolved = bundle.stage
        except (LoadError, OSError):
            resolved = None
    if resolved:
        for key, value in sorted(load_profile(resolved).options.items()):
            given = settings.options.get(key)
            rows.append((f"options.{key}", given.value if given else value, given.origin if given else f"profile rules/{resolved}.yaml"))
    for key, s in sorted(settings.options.items()):
        if not resolved or key not in load_profile(resolved).options:
            rows.append((f"options.{key}", s.value, s.origin))
    width = max(len(k) for k, _, _ in rows)
    for key, value, origin in rows:
        click.echo(f"{key:<{width}} = {value}" + (f"    # {origin}" if origin else ""))


@main.command("docs")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
def docs(output: Optional[str]) -> None:
    """Generate the rule reference (docs/rules.md) from the rules themselves."""
    text = rules_markdown()
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=False)


def run() -> None:  # pragma: no cover - console entry point guard
    try:
        main()
    except SystemExit:
        raise
    except Exception as exc:  # never a traceback for a user
        click.echo(f"expreview: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)


