"""Build a Bundle from a directory, a JSON bundle, or a logged reviewer prompt."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any, Optional

from expreview.bundle import PIPELINE_KEYS, STAGES, Bundle
from expreview.inputs.limits import MAX_FILE_BYTES, MAX_FILES, text_reason, too_large, unreadable_reason


class LoadError(Exception):
    """Input that cannot be reviewed; the CLI prints it on one line and exits 2."""


# Directories that never hold the code under review.
SKIPPED_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "__pycache__",
                ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", "build", "dist",
                ".eggs", "wandb", "outputs", "multirun", ".cache", "results"}
_READ_SUFFIXES = (".py", ".yaml", ".yml", ".toml", ".cfg")


def _wanted(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return rel.endswith(_READ_SUFFIXES) or rel.startswith(("src/", "config/")) \
        or re.fullmatch(r"requirements.*\.txt", name) is not None


def safe_path(path: str) -> str:
    """A bundle path: relative, POSIX, inside the bundle. Anything else is rejected."""
    if not isinstance(path, str) or not path or "\0" in path:
        raise LoadError(f"bundle path {path!r} is empty or contains a NUL byte")
    posix = path.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        raise LoadError(f"bundle path {path!r} is absolute; paths must be relative to the repository root")
    parts = [p for p in PurePosixPath(posix).parts if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise LoadError(f"bundle path {path!r} leaves the bundle ('..'); paths must stay inside the repository")
    if not parts:
        raise LoadError(f"bundle path {path!r} names no file")
    return "/".join(parts)


def decode(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def add_file(bundle: Bundle, path: str, content) -> None:
    """Put one file into the bundle: as text, or as unreadable (binary, not UTF-8, too large)."""
    reason = unreadable_reason(content) if isinstance(content, bytes) else text_reason(content)
    if reason is not None:
        bundle.files[path] = ""
        bundle.unreadable[path] = reason
        return
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    bundle.files[path] = text[1:] if text.startswith("\ufeff") else text


def _check_count(count: int, where: str) -> None:
    if count > MAX_FILES:
        raise LoadError(f"{where}: more than {MAX_FILES} files; an experiment bundle has about 8, so this is not "
                        "one (point expreview at the repository root of a single experiment)")


def _relative_root(root: Path) -> str:
    try:
        return Path(os.path.relpath(root.resolve(), Path.cwd().resolve())).as_posix()
    except ValueError:  # another drive
        return root.resolve().as_posix()


def load_directory(root: Path) -> Bundle:
    bundle = Bundle(files={}, source=str(root), root=_relative_root(root))
    root_real = root.resolve()
    for current, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")
                         and not d.endswith(".egg-info") and not os.path.islink(os.path.join(current, d)))
        for name in sorted(names):
            full = Path(current, name)
            rel = full.relative_to(root).as_posix()
            if not _wanted(rel):
                continue
            if full.is_symlink():
                try:
                    full.resolve().relative_to(root_real)
                except ValueError:
                    continue  # a link out of the checked tree is not followed
            if not full.is_file():
                continue
            _check_count(len(bundle.files) + 1, str(root))
            size = full.stat().st_size
            if size > MAX_FILE_BYTES:  # not even read
                bundle.files[rel] = ""
                bundle.unreadable[rel] = too_large(size)
                continue
            with open(full, "rb") as fh:
                add_file(bundle, rel, fh.read(MAX_FILE_BYTES + 1))
    return bundle


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


_CONTEXT_KEYS = {"files", "stage", "options", "run_variations", "base", "runs"}


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
    _check_count(len(files), where)
    runs = data.get("runs") or {}
    if isinstance(runs, dict):
        for run_id, content in runs.items():
            if isinstance(content, str):
                files[safe_path(f"config/runs/{safe_path(str(run_id))}.yaml")] = content
    bundle = bundle_of(files, where)
    stage = data.get("stage")
    if stage is not None:
        if stage not in STAGES:
            raise LoadError(f"{where}: unknown stage {stage!r} (use one of {', '.join(STAGES)})")
        bundle.stage = stage
        bundle.notes.append(f"stage {stage} from the bundle's `stage` key")
    if isinstance(data.get("options"), dict):
        bundle.options.update(data["options"])
    if isinstance(data.get("run_variations"), list):
        bundle.run_variations = [str(v) for v in data["run_variations"]]
    base = data.get("base")
    if isinstance(base, dict):
        bundle.base = bundle_of(files_from_json(base, where + " (base)"), where, stage="base")
    return bundle


def bundle_of(files: dict[str, str], source: str, stage: Optional[str] = None) -> Bundle:
    """A bundle of text files that arrived as strings, each judged as the loaders judge bytes."""
    bundle = Bundle(files={}, stage=stage, source=source)
    for path, text in files.items():
        add_file(bundle, path, text)
    return bundle


# -- logged reviewer prompts ------------------------------------------------

_HEADERS = {
    "base": "# Generated Base Code Files",
    "derived": "# Derived Experiment Code (To be validated)",
    "hydra": "# Generated Experiment Code (To be validated)",
}
_BASE_HEADER = "# Base Code (Reference Foundation)"
_VERDICT_KEYS = {"is_base_code_ready": "base", "is_experiment_code_ready": "derived", "is_code_ready": "hydra"}


def is_prompt(text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith("Input:") or "# Instructions" in text[:5000]


def _input_part(text: str) -> str:
    """The prompt without the LLM's answer: everything before the last `Output:` line."""
    matches = list(re.finditer(r"^Output:\s*$", text, re.M))
    return text[: matches[-1].start()] if matches else text


def _json_after(text: str, header: str) -> Optional[dict]:
    start = text.find(header)
    if start < 0:
        return None
    rest = text[start + len(header):]
    brace = rest.find("{")
    if brace < 0:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(rest[brace:])
    except json.JSONDecodeError as exc:
        raise LoadError(f"the bundle under `{header}` is not valid JSON ({exc.msg})") from None
    return value if isinstance(value, dict) else None


def prompt_stage(text: str) -> Optional[str]:
    found = {stage for stage, header in _HEADERS.items() if header in text}
    if _BASE_HEADER in text:
        found.add("derived")
        found.discard("base")
    if len(found) == 1:
        return found.pop()
    keys = {stage for key, stage in _VERDICT_KEYS.items() if f"`{key}`" in text or f'"{key}"' in text}
    return keys.pop() if len(keys) == 1 else None


def prompt_options(text: str, stage: str) -> dict[str, Any]:
    instructions = text.split("# Current Research Method")[0]
    options: dict[str, Any] = {}
    if stage in ("base", "derived"):
        if re.search(r"1 GPU per run variation|queueing runs", instructions, re.I):
            options["orchestration"] = "gpu-queue"
        elif re.search(r"sequential", instructions, re.I):
            options["orchestration"] = "sequential"
        if stage == "base":
            options["figure_dir"] = "results_dir/images" if "{results_dir}/images/" in instructions else "any"
    files = re.search(r"EXACTLY these (\d+) required files.*?\n((?:\s*\*\s*`[^`]+`\s*\n)+)", instructions, re.S)
    if files:
        options["files"] = re.findall(r"`([^`]+)`", files.group(2))
    if stage == "hydra":
        options["runs_dir"] = "config/run" if "config/run/*.yaml" in instructions or "config/run/{" in instructions \
            else "config/runs"
        options["mode_flag"] = "trial_mode" if "trial_mode=true" in instructions else "mode"
        # Older hydra prompts asked less of evaluate and of figure names; their checks follow them.
        if "best_proposed" in instructions:
            options["eval_outputs"] = "aggregated"
        elif "aggregated_metrics.json" in instructions:
            options["eval_outputs"] = "files"
        else:
            options["eval_outputs"] = "none"
        options["figure_names"] = "unique" if "GLOBALLY UNIQUE" in instructions else "topic"
        options["wandb_summary"] = "wandb.summary" in instructions
    return options


def prompt_runs(text: str) -> dict[str, str]:
    """Hydra run configs under `# Experiment Runs`: `- Run ID: X … Config Content:` + fenced YAML."""
    section = text.split("# Experiment Runs", 1)
    if len(section) < 2:
        return {}
    body = section[1].split("# Generated Experiment Code", 1)[0]
    runs = {}
    for match in re.finditer(r"- Run ID:\s*(\S+).*?Config Content:\s*\n\s*```ya?ml\n(.*?)\n\s*```", body, re.S):
        run_id, content = match.group(1), match.group(2)
        lines = content.split("\n")
        if lines:  # only the first line of each block is indented (by the prompt's list)
            lines[0] = lines[0].lstrip()
        runs[run_id] = "\n".join(lines).rstrip() + "\n"
    return runs


def load_prompt(text: str, where: str) -> Bundle:
    text = _input_part(text)
    stage = prompt_stage(text)
    if stage is None:
        raise LoadError(f"{where}: cannot tell the review stage from this prompt (no known section header or "
                        "verdict key); pass --stage")
    header = _HEADERS[stage]
    data = _json_after(text, header)
    if data is None:
        raise LoadError(f"{where}: found no JSON bundle under `{header}`")
    bundle = bundle_of(files_from_json(data, where), where, stage=stage)
    bundle.notes.append(f"stage {stage} detected from the prompt's section headers")
    bundle.options.update(prompt_options(text, stage))
    if stage == "derived":
        base = _json_after(text, _BASE_HEADER)
        if base is not None:
            bundle.base = bundle_of(files_from_json(base, where + " (base)"), where, stage="base")
        variations = re.search(r"^- Run Variations:\s*(\[.*\])\s*$", text, re.M)
        if variations:
            bundle.run_variations = re.findall(r"'([^']*)'|\"([^\"]*)\"", variations.group(1))
            bundle.run_variations = [a or b for a, b in bundle.run_variations]
    if stage == "hydra":
        runs_dir = bundle.options.get("runs_dir", "config/runs")
        for run_id, content in prompt_runs(text).items():
            add_file(bundle, safe_path(f"{runs_dir}/{run_id}.yaml"), content)
    return bundle


def load_text(text: str, where: str) -> Bundle:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return load_json_bundle(text, where)
    if is_prompt(text):
        return load_prompt(text, where)
    raise LoadError(f"{where}: not a JSON bundle or a logged reviewer prompt")


def load_path(path: str, stdin_text: Optional[str] = None) -> Bundle:
    if path == "-":
        return load_text(stdin_text or "", "<stdin>")
    p = Path(path)
    if p.is_dir():
        return load_directory(p)
    if not p.exists():
        raise LoadError(f"{path}: no such file or directory")
    if not p.is_file():
        raise LoadError(f"{path}: not a regular file or directory")
    return load_text(decode(p.read_bytes()), path)


def decide_stage(bundle: Bundle, requested: str, origin: str = "--stage") -> None:
    """Settle the stage: an explicit stage (--stage, or the configuration: `origin`) wins; `auto`
    uses only unambiguous signals."""
    if requested != "auto":
        if bundle.stage is not None and bundle.stage != requested:
            bundle.notes.append(f"stage {requested} from {origin} (the input suggested {bundle.stage})")
        else:
            bundle.notes.append(f"stage {requested} from {origin}")
        bundle.stage = requested
        return
    if bundle.stage is not None:
        return
    if "config/config.yaml" in bundle.files:
        bundle.stage = "hydra"
        bundle.notes.append("stage hydra detected from config/config.yaml")
    elif bundle.base is not None:
        bundle.stage = "derived"
        bundle.notes.append("stage derived detected from the base bundle given with it")
    else:
        raise LoadError(f"{bundle.source or 'input'}: cannot decide the stage (no config/config.yaml, no base bundle, "
                        "no prompt headers); pass --stage base or --stage derived")
