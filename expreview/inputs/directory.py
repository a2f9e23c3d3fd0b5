"""A bundle read from a repository directory on disk."""
from __future__ import annotations

import os
import re
from pathlib import Path

from expreview.bundle import Bundle
from expreview.inputs.files import MAX_FILE_BYTES, add_file, check_count, too_large

# Directories that never hold the code under review.
SKIPPED_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "env", "node_modules", "__pycache__",
                ".mypy_cache", ".pytest_cache", ".ruff_cache", ".tox", ".nox", "build", "dist",
                ".eggs", "wandb", "outputs", "multirun", ".cache", "results"}
_READ_SUFFIXES = (".py", ".yaml", ".yml", ".toml", ".cfg")


def _wanted(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return rel.endswith(_READ_SUFFIXES) or rel.startswith(("src/", "config/")) or rel == "Dockerfile" \
        or re.fullmatch(r"requirements.*\.txt", name) is not None


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
            check_count(len(bundle.files) + 1, str(root))
            size = full.stat().st_size
            if size > MAX_FILE_BYTES:  # not even read
                bundle.files[rel] = ""
                bundle.unreadable[rel] = too_large(size)
                continue
            with open(full, "rb") as fh:
                add_file(bundle, rel, fh.read(MAX_FILE_BYTES + 1))
    return bundle
