"""Build a Bundle from a directory, a JSON bundle, or a logged reviewer prompt, and settle its stage.

The input kinds live in their own modules (directory, bundle_json, prompt; shared helpers in
files); this module picks one and re-exports the names callers use."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from expreview.bundle import Bundle
from expreview.inputs.bundle_json import files_from_json, load_json_bundle
from expreview.inputs.directory import load_directory
from expreview.inputs.files import LoadError, add_file, bundle_of, decode, safe_path
from expreview.inputs.prompt import is_prompt, load_prompt, prompt_runs
from expreview.profiles import profiles

__all__ = ["LoadError", "add_file", "bundle_of", "decide_stage", "decode", "files_from_json", "load_path",
           "load_text", "prompt_runs", "safe_path"]


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
    uses only unambiguous signals (each profile's `detect`)."""
    if requested != "auto":
        if bundle.stage is not None and bundle.stage != requested:
            bundle.notes.append(f"stage {requested} from {origin} (the input suggested {bundle.stage})")
        else:
            bundle.notes.append(f"stage {requested} from {origin}")
        bundle.stage = requested
        return
    if bundle.stage is not None:
        return
    known = profiles()
    # A file the bundle holds says more than a base bundle given with it; more signals say more
    # than fewer.
    for p in sorted(known, key=lambda p: -len(p.detect.signals)):
        if p.detect.holds(bundle.files):
            bundle.stage = p.stage
            bundle.notes.append(f"stage {p.stage} detected from {' and '.join(p.detect.signals)}")
            return
    if bundle.base is not None:
        for p in known:
            if p.detect.base:
                bundle.stage = p.stage
                bundle.notes.append(f"stage {p.stage} detected from the base bundle given with it")
                return
    missing = [f"no {' and '.join(p.detect.signals)}" for p in known if p.detect.signals]
    if any(p.detect.base for p in known):
        missing.append("no base bundle")
    missing.append("no prompt headers")
    choices = " or ".join(f"--stage {p.stage}" for p in known if not p.detect.signals)
    names = "|".join(p.stage for p in known)
    raise LoadError(f"{bundle.source or 'input'}: cannot decide the stage ({', '.join(missing)}); set "
                    f"stage = \"{names}\" in [tool.expreview] of the repository's pyproject.toml, or pass {choices}")
