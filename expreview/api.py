"""The Python API for pipelines: review a `{path: text}` map without touching the disk.

Every argument is checked before the review: a wrong one raises a `ReviewError` subclass
(expreview.errors) naming it, never a silently different review. The host's garbage collector is
left alone (the CLI, which owns its process, pauses it for speed; see engine.paused_gc)."""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional, Union

from expreview.bundle import PIPELINE_KEYS, Bundle
from expreview.engine import Report, review_bundle
from expreview.errors import LoadError, SettingsError
from expreview.findings import SEVERITIES
from expreview.fixing import FixResult, fix_files, rebuilt
from expreview.inputs.loaders import add_file, bundle_of, decide_stage, files_from_json, safe_path
from expreview.profiles import base_stage, runs_directory, stages
from expreview.settings import check_codes, check_option

Files = Mapping[str, str]
Codes = Union[str, Iterable[str]]

# A key without "/" or "." is a pipeline key (train_py), a <stem>_<suffix> name (utils_py), or a
# file whose name has no suffix.
_KEY_NAME = re.compile(r"\w+_(py|yaml|yml|toml)")
_PLAIN_NAMES = {"Dockerfile"}


def _files(files: Files, where: str) -> dict[str, str]:
    if not isinstance(files, Mapping):
        raise LoadError(f"{where}: files must be a mapping of path to text, not {type(files).__name__}")
    if "files" in files and isinstance(files["files"], Mapping):
        return files_from_json(dict(files), where)
    keys = {k: v for k, v in files.items() if isinstance(k, str) and "/" not in k and "." not in k
            and k not in _PLAIN_NAMES}
    for key in keys:
        if key not in PIPELINE_KEYS and not _KEY_NAME.fullmatch(key):
            raise LoadError(f"{where}: unknown key {key!r}; use a path such as 'src/train.py' or a pipeline key "
                            f"such as {', '.join(sorted(PIPELINE_KEYS)[:3])}")
    for path, text in files.items():
        if not isinstance(path, str):
            raise LoadError(f"{where}: the path {path!r} is not a string")
        if not isinstance(text, str):
            raise LoadError(f"{where}: the content of {path!r} is not a string")
    pipeline = files_from_json(keys, where)
    plain = {safe_path(k): v for k, v in files.items() if k not in keys}
    return {**pipeline, **plain}


def _codes(codes: Codes, where: str) -> list[str]:
    """Codes as the CLI reads them: a string is a comma-separated list (`"OUT001,PH"`), never letters."""
    if isinstance(codes, str):
        codes = [c for c in codes.split(",") if c.strip()]
    try:
        codes = list(codes)
    except TypeError:
        raise SettingsError(f"{where}: must be rule codes, not {type(codes).__name__}") from None
    return check_codes(codes, where)


def _stage(stage: Any) -> str:
    if stage not in ("auto",) + stages():
        raise SettingsError(f"stage: {stage!r} is not one of auto, {', '.join(stages())}")
    return stage


def _options(options: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise SettingsError(f"options: must be a mapping of option name to value, not {type(options).__name__}")
    for name, value in options.items():
        check_option(name, value, "options")
    return dict(options)


def _severities(severity: Optional[Mapping[str, str]]) -> dict[str, str]:
    if severity is None:
        return {}
    if not isinstance(severity, Mapping):
        raise SettingsError("severity: must be a mapping of rule code to 'error' or 'warning'")
    out = {}
    for code, level in severity.items():
        (checked,) = check_codes([code], "severity")
        if level not in SEVERITIES:
            raise SettingsError(f"severity: {code} must be 'error' or 'warning', not {level!r}")
        out[checked] = level
    return out


def make_bundle(
    files: Files,
    stage: str = "auto",
    *,
    base: Optional[Union[Files, Bundle]] = None,
    run_variations: Optional[Codes] = None,
    options: Optional[Mapping[str, Any]] = None,
    runs: Optional[Mapping[str, str]] = None,
    prompt_version: Optional[str] = None,
) -> Bundle:
    """The Bundle `check` reviews; raises a ReviewError subclass for any argument it cannot use."""
    stage = _stage(stage)
    chosen = _options(options)
    bundle = bundle_of(_files(files, "files"), "<api>")
    if runs:
        if not isinstance(runs, Mapping) or not all(isinstance(v, str) for v in runs.values()):
            raise LoadError("runs: must be a mapping of run id to the run config's YAML text")
        runs_dir = runs_directory(stage, chosen)
        if runs_dir is None:
            raise LoadError(f"runs: stage {stage!r} reads no run configs given apart from the files")
        for run_id, content in runs.items():
            add_file(bundle, safe_path(f"{runs_dir}/{safe_path(str(run_id))}.yaml"), content)
    if base is not None:
        bundle.base = base if isinstance(base, Bundle) else bundle_of(_files(base, "base"), "<api>", stage=base_stage())
    if run_variations is not None:
        if isinstance(run_variations, str):
            run_variations = [v.strip() for v in run_variations.split(",") if v.strip()]
        bundle.run_variations = [str(v) for v in run_variations]
    if prompt_version is not None and (not isinstance(prompt_version, str) or not prompt_version):
        raise SettingsError(f"prompt_version: must be a version group name such as 'B6', not {prompt_version!r}")
    bundle.options.update(chosen)
    bundle.prompt_version = prompt_version  # None: the stage's newest (the review checks the name)
    decide_stage(bundle, stage, "the stage argument")
    return bundle


def check(files: Files, stage: str = "auto", *, select: Codes = (), ignore: Codes = (),
          severity: Optional[Mapping[str, str]] = None, **context: Any) -> Report:
    """Review `files` and return the full report (findings, verdict, readiness).

    `select`/`ignore` take rule codes or prefixes (a list, or one comma-separated string; "ALL" in
    select is every rule); `severity` maps codes to "error" or "warning"; `context` is what
    `make_bundle` takes (base, run_variations, options, runs, prompt_version)."""
    chosen = _codes(select, "select")
    if "ALL" in chosen:
        chosen = []
    skipped = _codes(ignore, "ignore")
    levels = _severities(severity)
    return review_bundle(make_bundle(files, stage, **context), select=chosen, ignore=skipped, severities=levels)


def fix(files: Files, stage: str = "auto", *, unsafe: bool = False, select: Codes = (), ignore: Codes = (),
        severity: Optional[Mapping[str, str]] = None, **context: Any) -> FixResult:
    """Apply the fixes the review offers (safe ones; unsafe ones too with `unsafe=True`), reviewing
    again until none applies. Returns the fixed files (keyed by path: `src/train.py`, also for files
    given by pipeline key), the fixes applied, the ones skipped for a conflict, and the report of
    what is left. Takes what `check` takes; the files given are never changed."""
    chosen = _codes(select, "select")
    if "ALL" in chosen:
        chosen = []
    skipped = _codes(ignore, "ignore")
    levels = _severities(severity)
    bundle = make_bundle(files, stage, **context)
    return fix_files(bundle.files, lambda current: review_bundle(rebuilt(bundle, current), select=chosen,
                                                                 ignore=skipped, severities=levels), unsafe)


def review(files: Files, stage: str = "auto", **context: Any) -> dict:
    """Review `files` and return the pipeline's verdict object, e.g.
    `{"is_base_code_ready": False, "base_code_issue": "1. pyproject.toml:7: …"}`."""
    return check(files, stage, **context).verdict()
