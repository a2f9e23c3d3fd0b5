"""One review the CLI asked for, in a form a worker process can receive, and its result.

A failed input is a result too (with its error and no report), so several inputs always give as
many results as were asked, in order."""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from expreview import baseline as baselines
from expreview.engine import Report, paused_gc, review_bundle
from expreview.errors import ReviewError
from expreview.inputs.bundle_json import bundle_context
from expreview.inputs.loaders import decide_stage, load_path
from expreview.fixing import FixResult, fix_files, rebuilt
from expreview.profiles import base_stage
from expreview.settings import Settings


@dataclass
class Job:
    path: str  # what to load (an experiment's directory, a bundle, a prompt, "-")
    given: str  # the path(s) as typed, for the output's "input"
    stage: str
    stage_origin: str
    options: dict[str, Any]  # from the configuration: what a prompt says beats them
    select: list[str]
    ignore: list[str]
    severities: dict[str, str]
    cli_options: dict[str, Any] = field(default_factory=dict)  # -o: beats everything
    base_path: Optional[str] = None
    run_variations: Optional[list[str]] = None
    prompt_version: Optional[str] = None
    prompt_version_origin: str = ""
    stdin_text: Optional[str] = None
    baseline: Optional[list[dict]] = None
    want_entries: bool = False
    # The bundle's name in the baseline read and in the one written (baseline.bundle_key)
    baseline_key: Optional[str] = None
    entries_key: Optional[str] = None
    note: Optional[str] = None  # how the path was widened to its experiment
    fix: bool = False  # apply the offered fixes (--fix, --diff): the result holds the fixed files
    unsafe_fixes: bool = False


def job_for(path: str, settings: Settings, **fields: Any) -> Job:
    """The Job reviewing `path` with `settings` (its configuration, the command line already on top);
    `fields` set or override any other Job field (given, origins as shown, cli_options, fix, …)."""
    values: dict[str, Any] = dict(
        path=path, given=path, stage=settings.stage.value, stage_origin=settings.stage.origin,
        options=settings.option_values(), select=settings.selected(), ignore=settings.ignored(),
        severities=settings.severity_values(), base_path=settings.base.value,
        run_variations=settings.run_variations.value, prompt_version=settings.prompt_version.value,
        prompt_version_origin=settings.prompt_version.origin)
    values.update(fields)
    return Job(**values)


@dataclass
class Result:
    input: str
    report: Optional[Report] = None
    error: Optional[str] = None
    entries: list[dict] = field(default_factory=list)  # baseline entries, when asked
    fixed: Optional[FixResult] = None  # with Job.fix: the fixed files and what was applied
    original: dict[str, str] = field(default_factory=dict)  # with Job.fix: the files as read
    directory: Optional[str] = None  # the directory the files were read from, when one
    context: dict = field(default_factory=dict)  # with Job.fix: a JSON bundle's keys besides files


def _prompt_version(bundle, job: Job) -> None:
    if job.prompt_version is None or job.prompt_version == bundle.prompt_version:
        return
    # --prompt-version beats what a prompt's text says; a configured one only fills a gap
    if bundle.prompt_version is None or job.prompt_version_origin == "--prompt-version":
        if bundle.prompt_version is not None:
            bundle.notes.append(f"prompt version {job.prompt_version} from --prompt-version "
                                f"(the prompt reads as {bundle.prompt_version})")
        else:
            bundle.notes.append(f"prompt version {job.prompt_version} from {job.prompt_version_origin}")
        bundle.prompt_version = job.prompt_version


def review_in_turn(job: Job) -> Result:
    """`review_one` in a process that reviews input after input with its collector off (the CLI
    and its workers, expreview.console): the cycles the previous input left are collected first,
    so memory stays flat over many inputs. (With the collector on, it does that itself.) The
    youngest generation is enough and costs little: it holds exactly what was made since the last
    input, and what survives moves on, so no input's objects are traversed twice."""
    if not gc.isenabled():
        gc.collect(0)
    return review_one(job)


def review_one(job: Job) -> Result:
    """Runs in the CLI process or in a worker; the process is expreview's, so the collector is paused."""
    try:
        with paused_gc():
            bundle = load_path(job.path, job.stdin_text)
            if job.note:
                bundle.notes.insert(0, job.note)
            if job.base_path:
                bundle.base = load_path(job.base_path)
                bundle.base.stage = base_stage()
            if job.run_variations is not None:
                bundle.run_variations = job.run_variations
            _prompt_version(bundle, job)
            # -o beats what a prompt says, which beats the repository's settings
            bundle.options = {**job.options, **bundle.options, **job.cli_options}
            decide_stage(bundle, job.stage, job.stage_origin)
            fixed = None
            if job.fix:
                fixed = fix_files(bundle.files, lambda current: review_bundle(
                    rebuilt(bundle, current), select=job.select, ignore=job.ignore, severities=job.severities,
                    baseline=job.baseline, baseline_key=job.baseline_key), job.unsafe_fixes)
                report = fixed.report
            else:
                report = review_bundle(bundle, select=job.select, ignore=job.ignore, severities=job.severities,
                                       baseline=job.baseline, baseline_key=job.baseline_key)
            entries = (baselines.entries(bundle, report.findings, job.entries_key or bundle.source)
                       if job.want_entries else [])
        directory = job.path if job.path != "-" and os.path.isdir(job.path) else None
        context = bundle_context(bundle) if fixed and directory is None else {}
        return Result(job.given, report, None, entries, fixed, dict(bundle.files) if fixed else {}, directory, context)
    except ReviewError as exc:
        return Result(job.given, None, str(exc))
    except OSError as exc:
        return Result(job.given, None, f"{exc.filename or job.path}: {exc.strerror or exc}")
