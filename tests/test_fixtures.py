"""The bundled example repositories: the good one passes, each bad one fails its one rule."""
from __future__ import annotations

import json
import shutil

import pytest

from conftest import FIXTURES, run_cli

BAD_BASE = {
    "bad-deps-table": ("DEP001", "pyproject.toml", 7),
    "bad-undeclared-dep": ("DEP002", "src/evaluate.py", 16),
    "bad-rich-json": ("OUT001", "src/train.py", 134),
    "bad-no-load": ("CKPT001", "src/train.py", 114),
    "bad-pipe-deadlock": ("RUN005", "src/main.py", 37),
    "bad-placeholder-in-train": ("PH001", "src/train.py", 88),
    "bad-yaml-float": ("CFG003", "config/smoke_test.yaml", 21),
    "bad-real-dataset": ("SPEC001", "src/preprocess.py", 41),
    "bad-figure-dir": ("FIG002", "src/evaluate.py", 52),
    "bad-cli-contract": ("CLI002", "src/main.py", 82),
    "bad-extra-file": ("LAY002", "src/utils.py", 1),
}


def review(path, *extra):
    proc = run_cli("check", str(path), "--stage", "base", "--format", "json", *extra)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


def test_good_base_fixture_passes():
    proc, report = review(FIXTURES / "base" / "good")
    assert proc.returncode == 0
    assert report["ready"] is True
    assert report["findings"] == []
    assert report["verdict"] == {"is_base_code_ready": True, "base_code_issue": ""}


@pytest.mark.parametrize("variant", sorted(BAD_BASE))
def test_bad_base_fixture_fails_its_rule(variant):
    code, path, line = BAD_BASE[variant]
    proc, report = review(FIXTURES / "base" / variant)
    assert proc.returncode == 1
    assert report["ready"] is False
    hits = [f for f in report["findings"] if f["code"] == code]
    assert any(f["path"] == path and f["line"] <= line <= f["end_line"] for f in hits), report["findings"]
    # one defect each: nothing else blocks
    assert {f["code"] for f in report["findings"] if f["severity"] == "error"} == {code}


def test_reviewed_code_is_never_executed(tmp_path):
    """src/model.py writes a marker file at import time; no stage or format may run it."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "base" / "bad-module-side-effect", repo)
    marker = "EXPREVIEW_EXECUTED_MARKER"
    assert marker in (repo / "src" / "model.py").read_text()
    for stage in ("base", "derived", "hydra", "auto"):
        for fmt in ("text", "json", "verdict"):
            extra = ["--base", str(repo)] if stage == "derived" else []
            proc = run_cli("check", ".", "--stage", stage, "--format", fmt, *extra, cwd=repo)
            assert proc.returncode in (0, 1, 2), proc.stderr
    assert not list(tmp_path.rglob(marker)), "reviewed code was executed"


BAD_HYDRA = {
    "bad-no-version-base": ("RUN007", "src/main.py", 54),
    "bad-cfg-path": ("CFG006", "src/train.py", 209),
    "bad-struct-merge": ("CFG008", "src/main.py", 27),
    "bad-argparse-evaluate": ("CLI003", "src/evaluate.py", 44),
    "bad-hardcoded-wandb": ("WB003", "src/evaluate.py", 189),
    "bad-metric-mismatch": ("WB002", "src/evaluate.py", 96),
    "bad-results-json": ("OUT003", "src/train.py", 248),
    "bad-main-calls-evaluate": ("RUN006", "src/main.py", 81),
    "bad-figure-name": ("FIG005", "src/evaluate.py", 120),
    "bad-no-cache-dir": ("HYD005", "src/preprocess.py", 31),
    "bad-mode-handling": ("HYD003", "src/main.py", 37),
}


def review_hydra(path):
    proc = run_cli("check", str(path), "--format", "json")  # auto: config/config.yaml means hydra
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


def test_good_hydra_fixture_passes():
    proc, report = review_hydra(FIXTURES / "hydra" / "good")
    assert (proc.returncode, report["stage"], report["findings"]) == (0, "hydra", [])
    assert report["verdict"] == {"is_code_ready": True, "code_issue": ""}


@pytest.mark.parametrize("variant", sorted(BAD_HYDRA))
def test_bad_hydra_fixture_fails_its_rule(variant):
    code, path, line = BAD_HYDRA[variant]
    proc, report = review_hydra(FIXTURES / "hydra" / variant)
    assert proc.returncode == 1
    assert any(f["code"] == code and f["path"] == path and f["line"] <= line <= f["end_line"]
               for f in report["findings"]), report["findings"]
    assert {f["code"] for f in report["findings"] if f["severity"] == "error"} == {code}


def test_wandb_in_objective_is_a_warning():
    proc, report = review_hydra(FIXTURES / "hydra" / "bad-wandb-in-objective")
    assert proc.returncode == 0
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [("WB004", "warning")]


DERIVED = FIXTURES / "derived"
VARIATIONS = "baseline,proposed,proposed-no-warmup"
BAD_DERIVED = {
    "bad-placeholder-left": ("PH003", "src/preprocess.py", 111, "error"),
    "bad-stub": ("PH004", "src/model.py", 81, "error"),
    "bad-shortcut-comment": ("PH005", "src/train.py", 68, "warning"),
    "bad-unhandled-name": ("CFG004", "config/full_experiment.yaml", 8, "error"),
    "bad-unused-key": ("CFG005", "config/full_experiment.yaml", 37, "warning"),
    "bad-missing-variation": ("CFG007", "config/smoke_test.yaml", None, "error"),
    "bad-missing-function": ("DRV001", "src/train.py", None, "error"),
    "bad-truncated": ("DRV002", "src/evaluate.py", None, "error"),
    "bad-unchanged-file": ("DRV003", "src/preprocess.py", 14, "error"),
    "bad-dropped-annotations": ("DRV004", "src/evaluate.py", None, "warning"),
}


def review_derived(path, *extra):
    proc = run_cli("check", str(path), "--base", str(DERIVED / "base"), "--run-variations", VARIATIONS,
                   "--format", "json", *extra)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


def test_good_derived_fixture_passes():
    proc, report = review_derived(DERIVED / "good")  # auto: a base bundle means derived
    assert (proc.returncode, report["stage"], report["findings"]) == (0, "derived", [])
    assert report["verdict"] == {"is_experiment_code_ready": True, "experiment_code_issue": ""}


@pytest.mark.parametrize("variant", sorted(BAD_DERIVED))
def test_bad_derived_fixture_fails_its_rule(variant):
    code, path, line, severity = BAD_DERIVED[variant]
    proc, report = review_derived(DERIVED / variant)
    assert any(f["code"] == code and f["path"] == path and f["severity"] == severity
               and (line is None or f["line"] <= line <= f["end_line"]) for f in report["findings"]), report["findings"]
    assert proc.returncode == (1 if severity == "error" else 0)


def test_derived_without_run_variations_skips_cfg007_only():
    proc, report = review_derived(DERIVED / "bad-missing-variation", "--run-variations", "")
    assert "CFG007" not in {f["code"] for f in report["findings"]}
