"""The Python API pipelines call instead of the LLM reviewer."""
from __future__ import annotations

from conftest import FIXTURES

import expreview

GOOD = FIXTURES / "base" / "good"


def good_files():
    return {p.relative_to(GOOD).as_posix(): p.read_text() for p in GOOD.rglob("*") if p.is_file()}


def test_review_returns_the_verdict_object():
    assert expreview.review(good_files(), stage="base") == {"is_base_code_ready": True, "base_code_issue": ""}


def test_review_with_pipeline_keys_reports_blocking_findings():
    files = good_files()
    pipeline = {"train_py": files["src/train.py"], "pyproject_toml": files["pyproject.toml"].replace(
        "dependencies = [", "dependencies = [\"pyyaml^6.0\", ")}
    verdict = expreview.review(pipeline, stage="base")
    assert verdict["is_base_code_ready"] is False
    assert "pyproject.toml" in verdict["base_code_issue"] and "LAY001" in verdict["base_code_issue"]


def test_check_returns_findings_and_options_apply():
    report = expreview.check(good_files(), stage="base", options={"orchestration": "gpu-queue"})
    assert not report.ready
    assert {f.code for f in report.findings} == {"RUN003"}
    assert report.as_dict()["verdict"] == report.verdict()
