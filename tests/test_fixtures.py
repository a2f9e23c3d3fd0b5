"""The bundled example repositories: each stage's good one passes, each variant fails its one rule.

The variants and their expected findings are `fixtures/<stage>/variants/*.diff` and
`fixtures/<stage>/variants.yaml` (see tests/fixture_variants.py)."""
from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, REPO, run_cli
from fixture_variants import STAGE_ARGS, STAGES, build_variant, manifest

VERDICTS = {
    "base": {"is_base_code_ready": True, "base_code_issue": ""},
    "derived": {"is_experiment_code_ready": True, "experiment_code_issue": ""},
    "hydra": {"is_code_ready": True, "code_issue": ""},
    "template": {"is_experiment_ready": True, "experiment_issue": ""},
}
# Variants with no expected findings are checked by their own tests (module-side-effect).
CASES = [(stage, name) for stage in STAGES for name, entry in manifest(stage).items() if entry["findings"]]


def review(stage, path, *extra):
    """`expreview check` as the stage's fixtures are reviewed; the stage itself is auto-detected
    for derived (a base bundle) and hydra (config/config.yaml)."""
    proc = run_cli("check", str(path), *STAGE_ARGS[stage](REPO), "--format", "json", *extra)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


@pytest.mark.parametrize("stage", STAGES)
def test_good_fixture_passes(stage):
    proc, report = review(stage, FIXTURES / stage / "good")
    assert (proc.returncode, report["stage"], report["ready"], report["findings"]) == (0, stage, True, [])
    assert report["verdict"] == VERDICTS[stage]


def matches(finding, expected):
    return (finding["code"], finding["path"], finding["severity"]) == (
        expected["code"], expected["path"], expected["severity"]) and (
        expected["line"] is None or finding["line"] <= expected["line"] <= finding["end_line"])


@pytest.mark.parametrize("stage, name", CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_variant_fails_its_rule(stage, name, tmp_path):
    entry = manifest(stage)[name]
    proc, report = review(stage, build_variant(stage, name, tmp_path / name))
    found = report["findings"]
    for expected in entry["findings"]:
        assert any(matches(f, expected) for f in found), (expected, found)
    errors = {f["code"] for f in entry["findings"] if f["severity"] == "error"}
    allowed = errors | {f["code"] for f in entry.get("side", []) if f["severity"] == "error"}
    # one defect each: nothing else blocks
    assert errors <= {f["code"] for f in found if f["severity"] == "error"} <= allowed, found
    assert proc.returncode == (1 if errors else 0)
    assert report["ready"] == (not errors)


def test_wandb_in_objective_is_a_warning(tmp_path):
    proc, report = review("hydra", build_variant("hydra", "wandb-in-objective", tmp_path / "repo"))
    assert proc.returncode == 0
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [("WB004", "warning")]


def test_reviewed_code_is_never_executed(tmp_path):
    """src/model.py writes a marker file at import time; no stage or format may run it."""
    repo = build_variant("base", "module-side-effect", tmp_path / "repo")
    marker = "EXPREVIEW_EXECUTED_MARKER"
    assert marker in (repo / "src" / "model.py").read_text()
    for stage in ("base", "derived", "hydra", "auto"):
        for fmt in ("text", "json", "verdict"):
            extra = ["--base", str(repo)] if stage == "derived" else []
            proc = run_cli("check", ".", "--stage", stage, "--format", fmt, *extra, cwd=repo)
            assert proc.returncode in (0, 1, 2), proc.stderr
    assert not list(tmp_path.rglob(marker)), "reviewed code was executed"


def test_derived_without_run_variations_skips_cfg007_only(tmp_path):
    repo = build_variant("derived", "missing-variation", tmp_path / "repo")
    proc, report = review("derived", repo, "--run-variations", "")
    assert "CFG007" not in {f["code"] for f in report["findings"]}
