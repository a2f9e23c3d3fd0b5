"""What each command-line path asks to review: the experiment it belongs to.

expreview's checks are cross-file, so it reviews whole experiments. A path may name one directly
(its directory, a JSON bundle, a logged prompt, `-`) or name a part of one:
- a directory inside an experiment's `src/` or `config/` (`expreview check .` run from `src/`):
  the experiment above it is reviewed;
- a file of an experiment (`src/train.py`, `config/run/a.yaml`, `pyproject.toml`, as pre-commit
  passes them): the experiment holding it is reviewed, once however many of its files are given.
  A file that belongs to no experiment is skipped (and said so), so a repository holding several
  experiments in subfolders can run the hook on its changed files.

An experiment root is the nearest directory at or above the file with a `pyproject.toml`, or the
parent of its `src/` or `config/` folder. The search stops at a repository root (`.git`)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# Files that are parts of an experiment rather than bundles of their own (a .json is a bundle, a
# .txt or .md a logged prompt, except requirements files).
_PART_SUFFIXES = (".py", ".yaml", ".yml", ".toml", ".cfg")
_PART_FOLDERS = ("src", "config")


@dataclass(frozen=True)
class Target:
    path: str  # what to load: the experiment's directory, or the input itself
    given: tuple[str, ...]  # the paths as typed that asked for it
    note: Optional[str] = None  # how a path was widened to its experiment


@dataclass(frozen=True)
class Skipped:
    given: str
    reason: str


def _is_part(path: Path) -> bool:
    name = path.name
    return name.endswith(_PART_SUFFIXES) or name == "Dockerfile" or \
        name.startswith("requirements") and name.endswith(".txt")


def _is_repository_root(directory: Path) -> bool:
    return (directory / ".git").exists()


def experiment_root(start: Path) -> Optional[Path]:
    """The experiment holding `start` (a file or a directory inside one), or None."""
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        if (directory / "pyproject.toml").is_file():
            return directory
        if directory.name in _PART_FOLDERS and directory.parent != directory:
            return directory.parent
        if _is_repository_root(directory):
            return None
    return None


def _shown(path: Path) -> str:
    """`path` relative to the working directory, as the user would type it (absolute on another drive)."""
    try:
        return Path(os.path.relpath(path, Path.cwd().resolve())).as_posix()
    except ValueError:
        return path.as_posix()


def _directory_target(given: str, directory: Path) -> tuple[str, Optional[str]]:
    if (directory / "pyproject.toml").is_file():
        return given, None
    resolved = directory.resolve()
    root = experiment_root(resolved)
    if root is None or root == resolved:
        return given, None
    inside = resolved.relative_to(root).parts
    if not inside or inside[0] not in _PART_FOLDERS:
        return given, None
    shown = _shown(root)
    return shown, f"reviewing the experiment at {shown} ({given} is its {'/'.join(inside)}/ folder)"


def _widen(raw: str) -> tuple[Optional[str], Optional[str], bool]:
    """(what to load, how it was widened, whether it is a file of an experiment) for one path;
    (None, reason, False) when it belongs to no experiment."""
    path = Path(raw)
    if raw == "-" or not path.exists():
        return raw, None, False  # the loader reports what is missing
    if path.is_dir():
        key, note = _directory_target(raw, path)
        return key, note, False
    if not _is_part(path):
        return raw, None, False
    root = experiment_root(path)
    if root is None:
        return None, (f"{raw}: belongs to no experiment (no pyproject.toml, src/ or config/ folder above it); "
                      "not reviewed"), False
    return _shown(root), None, True


def resolve_targets(paths: list[str]) -> tuple[list[Target], list[Skipped]]:
    """The experiments and inputs `paths` ask for, in the order first asked, each once."""
    found: dict[str, tuple[str, list[str], Optional[str], bool]] = {}  # identity -> key, given, note, part
    skipped: list[Skipped] = []
    for raw in paths:
        key, note, part = _widen(raw)
        if key is None:
            skipped.append(Skipped(raw, note or raw))
            continue
        identity = key if key == "-" else str(Path(key).resolve())
        if identity not in found:
            found[identity] = (key, [], note, part)
        found[identity][1].append(raw)
    targets = []
    for key, given, note, part in found.values():
        if part:
            held = ", ".join(given[:3]) + (f" and {len(given) - 3} more" if len(given) > 3 else "")
            note = f"reviewing the experiment at {key}, which holds {held}"
        targets.append(Target(key, tuple(given), note))
    return targets, skipped
