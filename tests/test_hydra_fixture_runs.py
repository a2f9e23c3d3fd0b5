"""The hydra fixture that expreview passes really runs (where its libraries are installed)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import FIXTURES

for module in ("hydra", "omegaconf", "torch", "sklearn", "wandb", "optuna", "matplotlib"):
    pytest.importorskip(module, reason=f"{module} is not installed; the fixture cannot run here")


def test_good_hydra_fixture_runs_in_trial_mode(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "hydra" / "good", repo)
    env = dict(os.environ, WANDB_MODE="disabled", WANDB_SILENT="true", HOME=str(tmp_path),
               PYTHON=sys.executable, PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-u", "-m", "src.main", "run=proposed-mlp-digits", f"results_dir={tmp_path / 'out'}",
         "mode=trial"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "epoch 1/1" in proc.stdout and "done" in proc.stdout
