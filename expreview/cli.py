"""The command line: `expreview check`, `rules`, `rule`/`explain`, `versions`, `config`, `docs`.

Exit status: 0 ready, 1 not ready, 2 usage or input error (one line on stderr per error); `check
--exit-zero` gives 0 for "not ready" too."""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path
from typing import Any, NoReturn, Optional

import click
import yaml

from expreview import baseline as baselines
from expreview import checks
from expreview.bundle import STAGES
from expreview.docs import CONSEQUENCE_MEANINGS, engine_consequence, rules_markdown
from expreview.engine import ENGINE_CODES
from expreview.errors import ReviewError
from expreview.fixing import unified_diff
from expreview.inputs.loaders import decide_stage, load_path
from expreview.inputs.targets import resolve_targets
from expreview.jobs import Job, Result, job_for, review_in_turn
from expreview.plugins import PROBLEMS as PLUGIN_PROBLEMS
from expreview.plugins import load_plugins
from expreview.profiles import load_profile
from expreview.output.formats import FORMATS, RENDERERS, View
from expreview.rule import REGISTRY
from expreview.settings import Settings, Setting, check_codes, check_option, resolve
from expreview.version import __version__


def fail(message: str) -> NoReturn:
    click.echo(f"expreview: error: {message}", err=True)
    sys.exit(2)


def _split(values) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _options(pairs: tuple[str, ...]) -> dict:
    """`-o KEY=VALUE` pairs, each checked against the options the stages have and the values they allow."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"-o {pair!r} is not KEY=VALUE")
        try:
            parsed = yaml.safe_load(value) if value.strip() else ""
        except yaml.YAMLError:
            parsed = value
        try:
            check_option(key, parsed, "-o")
        except ReviewError as exc:
            fail(str(exc))
        out[key] = parsed
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="expreview")
def main() -> None:
    """Static review of generated ML experiment code."""
    load_plugins()
    for problem in PLUGIN_PROBLEMS:
        click.echo(f"expreview: warning: {problem}", err=True)


def _settings(paths, config, stage, select=(), ignore=(), extend_select=(), extend_ignore=()) -> Settings:
    """The configuration found for `paths` with the command line on top of it: --stage (except
    `auto` where the configuration names a stage), --select (replaces the configured list),
    --ignore/--extend-ignore (add to it), --extend-select (adds to the selection)."""
    try:
        settings = resolve(list(paths), config)
        if stage is not None and not (stage == "auto" and settings.stage.origin != "default"):
            settings.stage = Setting(stage, "--stage")
        if select:
            settings.select = Setting(check_codes(select, "--select"), "--select")
        if extend_select:
            settings.extend_select = Setting(settings.extend_select.value + check_codes(extend_select, "--extend-select"),
                                             "--extend-select")
        for flag, codes in (("--ignore", ignore), ("--extend-ignore", extend_ignore)):
            if codes:
                settings.extend_ignore = Setting(settings.extend_ignore.value + check_codes(codes, flag), flag)
    except ReviewError as exc:
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


def _color(choice: str, to_file: bool) -> bool:
    """--color always|never|auto: auto colours a terminal, unless NO_COLOR is set (https://no-color.org);
    FORCE_COLOR forces it."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return not to_file and sys.stdout.isatty()


def _write(path: str, text: str) -> None:
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot write the output ({exc.strerror or exc})")


@main.command()
@click.argument("paths", nargs=-1)
@click.option("--stage", type=click.Choice(("auto",) + STAGES), default=None,
              help="Review stage (default: the configuration's, else auto: from the prompt's headers, the "
                   "bundle or config/config.yaml; auto never overrides a configured stage).")
@click.option("--output-format", "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How to print the results.")
@click.option("--output-file", "output_file", metavar="FILE", help="Write the output to FILE instead of stdout.")
@click.option("--base", "base_path", help="The base bundle a derived bundle was made from (directory or JSON).")
@click.option("--run-variations", help="Comma-separated run ids the derived experiment must define.")
@click.option("--prompt-version", "prompt_version", metavar="GROUP",
              help="Judge by this reviewer prompt version group (e.g. B6, D3, H12; see `expreview versions`); "
                   "default: the one a logged prompt reads as, else the configured one, else the stage's newest.")
@click.option("--option", "-o", "option_pairs", multiple=True, metavar="KEY=VALUE",
              help="Set a profile option, e.g. -o orchestration=gpu-queue (beats the configuration and what a "
                   "prompt says).")
@click.option("--select", multiple=True, help="Only these rule codes or prefixes (comma-separated; ALL: every "
                                             "rule); replaces the configured list.")
@click.option("--extend-select", multiple=True, help="Add these codes or prefixes to the selection.")
@click.option("--ignore", multiple=True, help="Skip these rule codes or prefixes (comma-separated), in addition to "
                                             "the configured ones.")
@click.option("--extend-ignore", multiple=True, help="The same as --ignore (for ruff users).")
@click.option("--config", "config", help="Read settings from FILE instead of the nearest pyproject.toml.")
@click.option("--baseline", "baseline_path", help="Report only findings that FILE does not accept.")
@click.option("--write-baseline", "write_baseline", help="Write the current findings to FILE as a baseline.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Review several bundles in parallel processes.")
@click.option("--fix", "apply_fixes", is_flag=True,
              help="Apply the safe fixes in place, review again, and report what is left (a JSON bundle or a "
                   "prompt: write the fixed bundle to --output-file).")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff, also apply the fixes marked unsafe.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Print the fixes as a unified diff and change nothing (exit 1 when there is a diff).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when a bundle is not ready (2 still means an error).")
@click.option("--statistics", "show_statistics", is_flag=True,
              help="Print how many findings of each code instead of the findings.")
@click.option("--quiet", "-q", count=True, help="Print the findings only (-qq: print nothing; the exit status "
                                                "still tells).")
@click.option("--verbose", "-v", is_flag=True, help="Also say on stderr where each setting came from.")
@click.option("--color", "color", type=click.Choice(("auto", "always", "never")), default="auto", show_default=True,
              help="Colour the text output (auto: on a terminal, unless NO_COLOR is set).")
def check(paths, stage, fmt, output_file, base_path, run_variations, prompt_version, option_pairs, select,
          extend_select, ignore, extend_ignore, config, baseline_path, write_baseline, jobs, apply_fixes,
          unsafe_fixes, show_diff, exit_zero,
          show_statistics, quiet, verbose, color) -> None:
    """Review PATHS (default: .): directories, JSON bundles, logged reviewer prompts ('-' reads stdin), or
    files of an experiment (the experiment holding them is reviewed, once)."""
    paths = paths or (".",)
    if apply_fixes and show_diff:
        fail("--fix and --diff: choose one (--diff changes nothing)")
    if unsafe_fixes and not (apply_fixes or show_diff):
        fail("--unsafe-fixes needs --fix or --diff")
    select, ignore = _split(select), _split(ignore)
    extend_select, extend_ignore = _split(extend_select), _split(extend_ignore)
    cli_options = _options(option_pairs)
    targets, skipped = resolve_targets(list(paths))
    for skip in skipped:
        click.echo(f"expreview: note: {skip.reason}", err=True)
    # Each reviewed experiment finds its own [tool.expreview] (a --config file applies to all of them).
    per_target = [(t, _settings([t.path], config, stage, select, ignore, extend_select, extend_ignore))
                  for t in targets]
    accepted = None
    if baseline_path:
        try:
            accepted = baselines.read(baseline_path)
        except ReviewError as exc:
            fail(str(exc))
        for key, count in baselines.missing_bundles(accepted, baseline_path).items():
            click.echo(f"expreview: warning: {baseline_path}: {count} baseline entr{'y' if count == 1 else 'ies'} "
                       f"for {key}, which does not exist (relative to the baseline's folder); "
                       "write the baseline again (--write-baseline) to drop them", err=True)
    stdin_text: Optional[str] = sys.stdin.read() if any(t.path == "-" for t in targets) else None
    todo = [job_for(t.path, s, stage_origin=_short(s.stage.origin), cli_options=cli_options,
                    base_path=base_path or s.base.value,
                    run_variations=_split((run_variations,)) if run_variations is not None else s.run_variations.value,
                    prompt_version=prompt_version or s.prompt_version.value,
                    prompt_version_origin="--prompt-version" if prompt_version else _short(s.prompt_version.origin),
                    stdin_text=stdin_text if t.path == "-" else None, baseline=accepted,
                    want_entries=bool(write_baseline), note=t.note,
                    baseline_key=baselines.bundle_key(t.path, baseline_path) if baseline_path else None,
                    entries_key=baselines.bundle_key(t.path, write_baseline) if write_baseline else None,
                    fix=apply_fixes or show_diff, unsafe_fixes=unsafe_fixes)
            for t, s in per_target]
    if verbose:
        for job, (t, s) in zip(todo, per_target):
            click.echo(f"expreview: {job.given}: config {s.config_file or '(none found)'}; stage {job.stage} "
                       f"({_short(s.stage.origin)}); select {','.join(job.select) or 'ALL'}; "
                       f"ignore {','.join(job.ignore) or '(none)'}", err=True)
    results = _run(todo, jobs)
    errors = [r.error for r in results if r.error is not None]
    for error in errors:
        click.echo(f"expreview: error: {error}", err=True)
    if write_baseline and not errors:
        try:
            baselines.write(write_baseline, [e for r in results for e in r.entries])
        except ReviewError as exc:
            fail(str(exc))
    reports = [r.report for r in results if r.report is not None]
    if show_diff:
        text = "".join(fix_diff(r) for r in results if r.fixed is not None)
        if output_file:
            _write(output_file, text)
        elif text:
            click.echo(text, nl=False)
        sys.exit(2 if errors else 1 if text else 0)
    if apply_fixes:
        _write_fixes([r for r in results if r.fixed is not None], output_file, quiet)
        if any(r.directory is None and r.fixed is not None and r.fixed.changed for r in results):
            output_file = None  # it holds the fixed bundle; the report goes to stdout
    if reports and quiet < 2:
        view = View(several=len(paths) > 1 or len(targets) > 1,
                    color=fmt == "text" and _color(color, output_file is not None), quiet=quiet > 0)
        if show_statistics:
            from expreview.output.statistics import statistics

            out = statistics(reports, as_json=fmt == "json")
        else:
            out = RENDERERS[fmt](results, view)
        if output_file:
            _write(output_file, out)
        else:
            click.echo(out, nl=False, color=view.color)
        if fmt == "github":
            from expreview.output.github import write_step_summary

            write_step_summary(reports)
    if errors:
        sys.exit(2)
    sys.exit(0 if exit_zero or all(r.ready for r in reports) else 1)


def fix_diff(result: Result) -> str:
    """A unified diff of what the fixes change in `result`'s files (paths from the working directory)."""
    assert result.fixed is not None
    return unified_diff(result.original, result.fixed, lambda path: _fixed_path(result, path))


def _fixed_path(result: Result, path: str) -> str:
    if result.directory is None:
        return path
    return Path(os.path.relpath(os.path.join(result.directory, path))).as_posix()


def _write_fixes(results: list[Result], output_file: Optional[str], quiet: int) -> None:
    """Write each result's fixed files: in place for a directory; a JSON bundle or a prompt (never
    edited) as a JSON bundle to --output-file. Says on stderr what was fixed."""
    import json

    in_memory = [r for r in results if r.directory is None and r.fixed is not None and r.fixed.changed]
    if in_memory and (output_file is None or len(in_memory) > 1):
        fail(f"{in_memory[0].input}: --fix on a JSON bundle or a prompt writes the fixed bundle to --output-file "
             "(one such input per call); a prompt itself is never edited")
    for result in results:
        fixed = result.fixed
        assert fixed is not None
        if result.directory is not None:
            for path in fixed.changed:
                target = os.path.join(result.directory, path)
                try:
                    Path(target).write_text(fixed.files[path], encoding="utf-8")
                except OSError as exc:
                    fail(f"{target}: cannot write the fix ({exc.strerror or exc})")
        elif fixed.changed and output_file:
            fixed_bundle = {**result.context, "files": fixed.files}
            _write(output_file, json.dumps(fixed_bundle, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        if quiet:
            continue
        left = sum(1 for f in fixed.report.findings if f.fix is not None)
        where = f" ({', '.join(_fixed_path(result, p) for p in fixed.changed)})" if fixed.changed else ""
        skipped = f"; {len(fixed.conflicts)} skipped: they overlap another fix" if fixed.conflicts else ""
        more = f"; {left} more with --unsafe-fixes" if left and not fixed.conflicts else ""
        click.echo(f"expreview: {result.input}: fixed {len(fixed.applied)} finding{'s' * (len(fixed.applied) != 1)}"
                   f"{where}{skipped}{more}", err=True)


def _run(todo: list[Job], jobs: int) -> list[Result]:
    if jobs > 1 and len(todo) > 1:
        from concurrent.futures import ProcessPoolExecutor  # here: a single review never needs it

        from expreview.checks.dep.pyproject import pyproject_validator
        pyproject_validator()  # built before the workers fork, so each inherits it instead of rebuilding it
        with ProcessPoolExecutor(max_workers=min(jobs, len(todo))) as pool:
            return list(pool.map(review_in_turn, todo))
    return [review_in_turn(job) for job in todo]


@main.command("mcp")
def mcp_command() -> None:
    """Serve the review and fix tools over the Model Context Protocol (stdio), for coding agents."""
    import gc

    from expreview.mcp_server import serve

    gc.enable()  # a server lives long: its collector runs as usual (expreview.console turned it off)
    try:
        serve()
    except ImportError as exc:
        if not (exc.name or "").startswith("mcp"):
            raise
        fail("expreview mcp needs the MCP SDK (version 2): pip install 'expreview[mcp]'")


@main.command("rules")
def list_rules() -> None:
    """List every rule: code, severity, consequence, stages, and what it checks."""
    checks.load_all()
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
        except ReviewError as exc:
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


def _explain(code: str) -> None:
    checks.load_all()
    r = REGISTRY.get(code.upper())
    if r is None:
        if code.upper() in ENGINE_CODES:
            severity, summary = ENGINE_CODES[code.upper()]
            consequence = engine_consequence(code.upper())
            click.echo(f"{code.upper()} - {severity} ({consequence}), all stages, reported by the engine itself\n")
            click.echo("What it reports:\n" + textwrap.fill(summary, 96, initial_indent="  ", subsequent_indent="  "))
            return
        fail(f"unknown rule {code!r} (see `expreview rules`)")
    click.echo(f"{r.code} ({r.name}) - {r.severity} ({r.consequence}), stages: {', '.join(r.stages)}\n")
    meaning = CONSEQUENCE_MEANINGS.get(r.consequence, "")
    click.echo("Consequence:\n" + textwrap.fill(f"{r.consequence}: {meaning}" if meaning else r.consequence, 96,
                                              initial_indent="  ", subsequent_indent="  ") + "\n")
    click.echo("Criterion:\n" + textwrap.fill(r.criterion, 96, initial_indent="  ", subsequent_indent="  "))
    click.echo("\nWhy it matters:\n" + textwrap.fill(r.rationale, 96, initial_indent="  ", subsequent_indent="  "))
    click.echo("\nFails:\n" + _example_text(r.invalid[0]))
    click.echo("\nPasses:\n" + _example_text(r.valid[0]))


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Explain rule CODE: its criterion, why it matters, and examples (the same as `rule`)."""
    _explain(code)


@main.command("rule")
@click.argument("code")
def rule_command(code: str) -> None:
    """Explain rule CODE: its criterion, why it matters, and examples."""
    _explain(code)


@main.command("config")
@click.argument("paths", nargs=-1)
@click.option("--config", "config", help="Read settings from FILE instead of the nearest pyproject.toml.")
@click.option("--stage", type=click.Choice(("auto",) + STAGES), default=None)
@click.option("--prompt-version", "prompt_version", metavar="GROUP", help="As for `check`.")
@click.option("--option", "-o", "option_pairs", multiple=True, metavar="KEY=VALUE", help="As for `check`.")
def show_config(paths, config, stage, prompt_version, option_pairs) -> None:
    """Print the settings a review of PATHS uses, and where each came from."""
    targets, _ = resolve_targets(list(paths or (".",)))
    target = targets[0].path if targets else "."
    settings = _settings([target], config, stage)
    cli_options = _options(option_pairs)
    rows = [("config file", settings.config_file or "(none found)", "")]
    rows.append(("stage", settings.stage.value, settings.stage.origin))
    rows.append(("select", ", ".join(settings.selected()) or "(all)", settings.select.origin))
    rows.append(("ignore", ", ".join(settings.ignored()) or "(none)", settings.ignore.origin))
    for code, s in sorted(settings.severity.items()):
        rows.append((f"severity.{code}", s.value, s.origin))
    if settings.base.value:
        rows.append(("base", settings.base.value, settings.base.origin))
    if settings.run_variations.value:
        rows.append(("run_variations", ", ".join(settings.run_variations.value), settings.run_variations.origin))
    bundle = None
    try:
        bundle = load_path(target)
        decide_stage(bundle, settings.stage.value, _short(settings.stage.origin))
    except (ReviewError, OSError):
        bundle = None
    if bundle is not None and bundle.stage is not None:
        group = prompt_version or bundle.prompt_version or settings.prompt_version.value
        origin = "--prompt-version" if prompt_version else "the logged prompt" if bundle.prompt_version else \
            settings.prompt_version.origin if group else "the stage's newest"
        try:
            version = load_profile(bundle.stage).version(group)
        except ReviewError as exc:
            fail(str(exc))
        if version is not None:
            rows.append(("prompt_version", version.group, origin))
    for key, value, origin in _option_rows(settings, bundle, prompt_version, cli_options):
        rows.append((f"options.{key}", value, origin))
    width = max(len(k) for k, _, _ in rows)
    for key, value, origin in rows:
        click.echo(f"{key:<{width}} = {value}" + (f"    # {origin}" if origin else ""))


def _option_rows(settings: Settings, bundle, prompt_version: Optional[str], cli_options: dict[str, Any]):
    """(option, value, origin) as the review layers them: the profile's defaults, the judged prompt
    version's options, the configuration, what a logged prompt says, then -o (see jobs.review_one
    and engine._review)."""
    layers: list[tuple[dict, str]] = []
    if bundle is not None and bundle.stage is not None:
        profile = load_profile(bundle.stage)
        group = prompt_version or bundle.prompt_version or settings.prompt_version.value
        try:
            version = profile.version(group)
        except ReviewError as exc:
            fail(str(exc))
        layers.append((profile.options, f"profile rules/{bundle.stage}.yaml"))
        if version is not None:
            layers.append((version.options, f"prompt version {version.group}"
                           + (" (the stage's newest)" if group is None else "")))
    layers.append(({k: s.value for k, s in settings.options.items()}, ""))
    if bundle is not None:
        layers.append((bundle.options, "the logged prompt"))
    layers.append((cli_options, "-o"))
    value: dict[str, tuple[Any, str]] = {}
    for options, origin in layers:
        for key, v in options.items():
            value[key] = (v, origin or settings.options[key].origin)
    return [(key, v, origin) for key, (v, origin) in sorted(value.items())]


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
    except SystemExit as exc:
        code = exc.code
    except Exception as exc:  # never a traceback for a user
        click.echo(f"expreview: internal error: {type(exc).__name__}: {exc}", err=True)
        code = 2
    else:
        code = 0
    _exit(code)


def _exit(code: object) -> NoReturn:
    """Exit without tearing the interpreter down: freeing every module, parse tree and cached fact
    one by one takes longer than some reviews. Only the standard streams hold data to keep, so
    they are flushed first; a message code (click's usage errors exit with an int) is printed."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be written anyway
            pass
    os._exit(status)


