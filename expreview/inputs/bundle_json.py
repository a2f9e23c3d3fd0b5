"""A bundle given as JSON: pipeline keys (train_py, ...) or a `files` object, with its context."""
from __future__ import annotations

import json
import re
from typing import Any

from expreview.bundle import PIPELINE_KEYS, Bundle
from expreview.inputs.files import LoadError, bundle_of, check_count, safe_path
from expreview.profiles import base_stage, stages


def files_from_json(data: dict[str, Any], where: str) -> dict[str, str]:
    """The {path: text} map of a JSON bundle (pipeline keys or a `files` object)."""
    files: dict[str, str] = {}
    mapping = data.get("files")
    if mapping is not None:
        if not isinstance(mapping, dict):
            raise LoadError(f"{where}: `files` must map paths to file contents")
        for path, text in mapping.items():
            if not isinstance(text, str):
                raise LoadError(f"{where}: the content of {path!r} is not a string")
            files[safe_path(path)] = text
    for key, value in data.items():
        if key in PIPELINE_KEYS:
            if not isinstance(value, str):
                raise LoadError(f"{where}: the value of {key!r} is not a string")
            files[PIPELINE_KEYS[key]] = value
        elif re.fullmatch(r"\w+_(py|yaml|yml|toml)", key) and isinstance(value, str):
            stem, suffix = key.rsplit("_", 1)
            folder = {"py": "src/", "yaml": "config/", "yml": "config/", "toml": ""}[suffix]
            files[safe_path(f"{folder}{stem}.{suffix}")] = value
    return files


_CONTEXT_KEYS = {"files", "stage", "prompt_version", "options", "run_variations", "base", "runs"}


def bundle_context(bundle: Bundle) -> dict[str, Any]:
    """The keys besides `files` that give a JSON bundle the context `bundle` was reviewed in (its
    stage, prompt version, options, run variations and base), so that the bundle written by `--fix`
    is reviewed the same way again."""
    out: dict[str, Any] = {}
    if bundle.stage:
        out["stage"] = bundle.stage
    if bundle.prompt_version:
        out["prompt_version"] = bundle.prompt_version
    options = {k: v for k, v in bundle.options.items() if _is_json(v)}
    if options:
        out["options"] = options
    if bundle.run_variations is not None:
        out["run_variations"] = list(bundle.run_variations)
    if bundle.base is not None:
        out["base"] = {"files": dict(bundle.base.files)}
    return out


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def load_json_bundle(text: str, where: str) -> Bundle:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoadError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(data, dict):
        raise LoadError(f"{where}: a JSON bundle must be an object of files")
    unknown = [k for k in data if k not in _CONTEXT_KEYS and k not in PIPELINE_KEYS
               and not re.fullmatch(r"\w+_(py|yaml|yml|toml)", k)]
    if unknown:
        raise LoadError(f"{where}: unknown bundle key(s) {', '.join(sorted(unknown)[:5])}; use pipeline keys "
                        "such as train_py, or a `files` object keyed by path")
    files = files_from_json(data, where)
    if not files:
        raise LoadError(f"{where}: the bundle holds no files")
    check_count(len(files), where)
    runs = data.get("runs") or {}
    if isinstance(runs, dict):
        for run_id, content in runs.items():
            if isinstance(content, str):
                files[safe_path(f"config/runs/{safe_path(str(run_id))}.yaml")] = content
    bundle = bundle_of(files, where)
    stage = data.get("stage")
    if stage is not None:
        if stage not in stages():
            raise LoadError(f"{where}: unknown stage {stage!r} (use one of {', '.join(stages())})")
        bundle.stage = stage
        bundle.notes.append(f"stage {stage} from the bundle's `stage` key")
    version = data.get("prompt_version")
    if version is not None:
        if not isinstance(version, str) or not version:
            raise LoadError(f"{where}: `prompt_version` must be a version group name such as \"B6\"")
        bundle.prompt_version = version  # the review checks the name
        bundle.notes.append(f"prompt version {version} from the bundle's `prompt_version` key")
    if isinstance(data.get("options"), dict):
        bundle.options.update(data["options"])
    if isinstance(data.get("run_variations"), list):
        bundle.run_variations = [str(v) for v in data["run_variations"]]
    base = data.get("base")
    if isinstance(base, dict):
        bundle.base = bundle_of(files_from_json(base, where + " (base)"), where, stage=base_stage())
    return bundle
