"""The template fixture that expreview passes really runs (where its libraries are installed)."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES

for module in ("hydra", "omegaconf", "torch", "wandb", "optuna"):
    pytest.importorskip(module, reason=f"{module} is not installed; the fixture cannot run here")


def test_good_template_fixture_passes_its_sanity_validation(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "template" / "good", repo)
    env = dict(os.environ, WANDB_MODE="disabled", WANDB_SILENT="true", HOME=str(tmp_path),
               PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-u", "-m", "src.main", "run=proposed-mlp-synthetic", f"results_dir={tmp_path / 'out'}",
         "mode=sanity"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    lines = proc.stdout.splitlines()
    verdicts = [line for line in lines if line.startswith("SANITY_VALIDATION: ")]
    assert verdicts == ["SANITY_VALIDATION: PASS"], proc.stdout[-2000:]
    summaries = [line for line in lines if line.startswith("SANITY_VALIDATION_SUMMARY: ")]
    assert len(summaries) == 1, proc.stdout[-2000:]
    summary = json.loads(summaries[0].removeprefix("SANITY_VALIDATION_SUMMARY: "))
    assert summary["steps"] >= 5
    assert math.isfinite(summary["loss_start"]) and math.isfinite(summary["loss_end"])
    assert summary["loss_end"] <= summary["loss_start"]
    # The dataset is cached under .cache/ of the repository, the run's metrics under results_dir.
    assert list((repo / ".cache").glob("synthetic_*.pt"))
    assert (tmp_path / "out" / "proposed-mlp-synthetic" / "final_metrics_sanity.json").is_file()
