from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from expreview import checks

# Reviews import only the families their stage runs; the tests enumerate every rule.
checks.load_all()

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
SHARED = REPO.parent / "shared"
SEEDS = SHARED / "seeds"


def expreview_cmd() -> list[str]:
    """The installed console script, else the module from this checkout."""
    exe = Path(sys.executable).parent / "expreview"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "expreview"]


def run_cli(*args: str, cwd=None, input_text=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(expreview_cmd() + list(args), capture_output=True, text=True, cwd=cwd,
                          input=input_text, env=env, timeout=120)


@pytest.fixture(scope="session")
def variants(tmp_path_factory):
    """Build fixture variants on demand: `variants("base", "pipe-deadlock")` is its directory,
    `<root>/<stage>/<name>`, built once per session (`variants.root` is the common root)."""
    from fixture_variants import build_variant

    root = tmp_path_factory.mktemp("variants")

    def build(stage: str, name: str) -> Path:
        target = root / stage / name
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            build_variant(stage, name, target)
        return target

    build.root = root  # type: ignore[attr-defined]
    return build


@pytest.fixture
def needs_shared():
    if not (SEEDS / "expected.json").is_file():
        pytest.skip("../shared (seeds and corpus) is not beside this checkout")
    return SHARED


def seed_file(prefix: str) -> Path:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip(f"seed {prefix} is not available")
    return matches[0]


def read_json(text: str):
    return json.loads(text)


__all__ = ["REPO", "FIXTURES", "SHARED", "SEEDS", "run_cli", "seed_file", "expreview_cmd", "os"]
