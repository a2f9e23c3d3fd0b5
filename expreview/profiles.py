"""Stage profiles: which rules a stage runs and with which options (rules/*.yaml)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


class ProfileError(Exception):
    pass


@dataclass(frozen=True)
class Profile:
    stage: str
    ready_key: str
    issue_key: str
    options: dict[str, Any]
    rules: tuple[str, ...]


def _profile_dir() -> Path:
    # A wheel installs the top-level rules/ directory as expreview/profiles; a source
    # checkout (or an editable install) reads rules/ in place.
    installed = Path(__file__).resolve().parent / "profiles"
    if (installed / "base.yaml").is_file():
        return installed
    return Path(__file__).resolve().parent.parent / "rules"


def available_stages() -> list[str]:
    return sorted(p.name[:-5] for p in _profile_dir().iterdir() if p.name.endswith(".yaml"))


@lru_cache(maxsize=None)
def load_profile(stage: str) -> Profile:
    path = _profile_dir().joinpath(f"{stage}.yaml")
    if not path.is_file():
        raise ProfileError(f"no profile for stage {stage!r} (have: {', '.join(available_stages())})")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    verdict = data.get("verdict", {})
    return Profile(
        stage=data["stage"],
        ready_key=verdict["ready_key"],
        issue_key=verdict["issue_key"],
        options=dict(data.get("options") or {}),
        rules=tuple(data.get("rules") or ()),
    )
