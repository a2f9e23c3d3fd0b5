"""The Python API for pipelines: review a `{path: text}` map without touching the disk."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Union

from expreview.bundle import Bundle
from expreview.engine import Report, review_bundle
from expreview.profiles import base_stage, runs_directory
from expreview.inputs.loaders import LoadError, add_file, bundle_of, decide_stage, files_from_json, safe_path

Files = Mapping[str, str]


def _files(files: Files, where: str) -> dict[str, str]:
    if not isinstance(files, Mapping):
        raise LoadError(f"{where}: files must be a mapping of path to text")
    if "files" in files and isinstance(files["files"], Mapping):
        return files_from_json(dict(files), where)
    pipeline = files_from_json({k: v for k, v in files.items() if "/" not in k and "." not in k}, where)
    plain = {safe_path(k): v for k, v in files.items() if "/" in k or "." in k}
    for path, text in plain.items():
        if not isinstance(text, str):
            raise LoadError(f"{where}: the content of {path!r} is not a string")
    return {**pipeline, **plain}


def make_bundle(
    files: Files,
    stage: str = "auto",
    *,
    base: Optional[Union[Files, Bundle]] = None,
    run_variations: Optional[Iterable[str]] = None,
    options: Optional[Mapping[str, Any]] = None,
    runs: Optional[Mapping[str, str]] = None,
    prompt_version: Optional[str] = None,
) -> Bundle:
    bundle = bundle_of(_files(files, "files"), "<api>")
    if runs:
        runs_dir = runs_directory(stage, dict(options or {}))
        if runs_dir is None:
            raise LoadError(f"runs: stage {stage!r} reads no run configs given apart from the files")
        for run_id, content in runs.items():
            add_file(bundle, safe_path(f"{runs_dir}/{safe_path(str(run_id))}.yaml"), content)
    if base is not None:
        bundle.base = base if isinstance(base, Bundle) else bundle_of(_files(base, "base"), "<api>", stage=base_stage())
    if run_variations is not None:
        bundle.run_variations = [str(v) for v in run_variations]
    bundle.options.update(options or {})
    bundle.prompt_version = prompt_version  # None: the stage's newest (the review checks the name)
    decide_stage(bundle, stage)
    return bundle


def check(files: Files, stage: str = "auto", *, select: Iterable[str] = (), ignore: Iterable[str] = (),
          **context: Any) -> Report:
    """Review `files` and return the full report (findings, verdict, readiness)."""
    return review_bundle(make_bundle(files, stage, **context), select=select, ignore=ignore)


def review(files: Files, stage: str = "auto", **context: Any) -> dict:
    """Review `files` and return the pipeline's verdict object, e.g.
    `{"is_base_code_ready": False, "base_code_issue": "1. pyproject.toml:7: …"}`."""
    return check(files, stage, **context).verdict()
