"""The command-line contract: input forms, formats, exit codes, rules and explain."""
from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_cli
from fixture_variants import build_variant

GOOD = FIXTURES / "base" / "good"
PIPELINE_KEYS = {
    "src/train.py": "train_py", "src/evaluate.py": "evaluate_py", "src/preprocess.py": "preprocess_py",
    "src/model.py": "model_py", "src/main.py": "main_py", "pyproject.toml": "pyproject_toml",
    "config/smoke_test.yaml": "smoke_test_yaml", "config/full_experiment.yaml": "full_experiment_yaml",
}


def files_of(repo):
    return {p.relative_to(repo).as_posix(): p.read_text() for p in sorted(repo.rglob("*")) if p.is_file()
            and p.name != "README.md"}


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    """The base fixture with `[project.dependencies]` written as a table (DEP001 at pyproject.toml:7)."""
    return build_variant("base", "deps-table", tmp_path_factory.mktemp("variant") / "deps-table")


def test_text_format_lines_and_summary(bad):
    # paths are as seen from where the command runs, so an editor opens them from there
    proc = run_cli("check", bad.name, "--stage", "base", cwd=bad.parent)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("deps-table/pyproject.toml:7:1: DEP001 error (crash) [project.dependencies] is written as a table")
    assert lines[-1] == "1 error, 0 warnings (stage base from --stage; prompt version B7, the stage's newest): not ready"


def test_json_format_shape_and_order(bad):
    proc = run_cli("check", str(bad), "--stage", "base", "--format", "json")
    report = json.loads(proc.stdout)
    assert list(report) == ["stage", "prompt_version", "ready", "verdict", "findings"]
    assert report["stage"] == "base" and report["ready"] is False
    keys = ["code", "severity", "consequence", "path", "line", "column", "end_line", "end_column", "message", "fix"]
    assert all(list(f) == keys for f in report["findings"])
    order = [(f["path"], f["line"], f["code"]) for f in report["findings"]]
    assert order == sorted(order)


def test_verdict_format_is_the_pipeline_object(bad):
    proc = run_cli("check", str(bad), "--stage", "base", "--format", "verdict")
    verdict = json.loads(proc.stdout)
    assert list(verdict) == ["is_base_code_ready", "base_code_issue"]
    assert verdict["is_base_code_ready"] is False
    assert verdict["base_code_issue"].startswith("1. [crash] pyproject.toml:7: ")
    assert verdict["base_code_issue"].endswith("[DEP001]")


def test_json_bundle_with_pipeline_keys_and_files_map(tmp_path):
    files = files_of(GOOD)
    pipeline = {PIPELINE_KEYS[p]: t for p, t in files.items()}
    (tmp_path / "pipeline.json").write_text(json.dumps(pipeline))
    (tmp_path / "files.json").write_text(json.dumps({"files": files, "stage": "base"}))
    a = run_cli("check", str(tmp_path / "pipeline.json"), "--stage", "base", "--format", "json")
    b = run_cli("check", str(tmp_path / "files.json"), "--format", "json")
    assert a.returncode == b.returncode == 0, a.stdout + a.stderr + b.stdout + b.stderr
    assert json.loads(a.stdout) == json.loads(b.stdout)


def test_stdin_bundle(bad):
    files = files_of(bad)
    proc = run_cli("check", "-", "--stage", "base", "--format", "verdict", input_text=json.dumps({"files": files}))
    assert proc.returncode == 1
    assert "DEP001" in json.loads(proc.stdout)["base_code_issue"]


def test_auto_stage_undecidable_is_exit_2_with_one_line():
    proc = run_cli("check", str(GOOD))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "--stage" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_inputs_exit_2_with_one_line(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    (tmp_path / "notes.txt").write_text("hello\n")
    (tmp_path / "evil.json").write_text(json.dumps({"files": {"../escape.py": "x = 1\n"}}))
    for args in (["missing-dir"], [str(tmp_path / "x.json")], [str(tmp_path / "notes.txt")],
                 [str(tmp_path / "evil.json"), "--stage", "base"], [str(GOOD), "--select", "NOPE9"]):
        proc = run_cli("check", *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path.parent / "escape.py").exists()


def test_select_and_ignore(bad):
    only = json.loads(run_cli("check", str(bad), "--stage", "base", "--format", "json", "--select", "OUT").stdout)
    assert only["findings"] == [] and only["ready"] is True
    skip = run_cli("check", str(bad), "--stage", "base", "--ignore", "DEP001")
    assert skip.returncode == 0


def test_option_override_changes_profile():
    repo = FIXTURES / "base" / "good"
    proc = run_cli("check", str(repo), "--stage", "base", "-o", "orchestration=gpu-queue", "--format", "json")
    report = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert {f["code"] for f in report["findings"]} == {"RUN003"}


def test_output_is_deterministic(bad):
    runs = [run_cli("check", str(bad), "--stage", "base", "--format", "json").stdout for _ in range(2)]
    assert runs[0] == runs[1]


def test_rules_lists_every_rule():
    from expreview.engine import ENGINE_CODES
    from expreview.rule import REGISTRY
    proc = run_cli("rules")
    assert proc.returncode == 0
    listed = [line.split()[0] for line in proc.stdout.splitlines()]
    assert listed == sorted(REGISTRY) + sorted(ENGINE_CODES)
    # code, severity, consequence, stages
    columns = {line.split()[0]: line.split()[1:3] for line in proc.stdout.splitlines()}
    assert all(columns[code] == [r.severity, r.consequence] for code, r in REGISTRY.items())
    assert columns["INT001"] == ["error", "criterion"] and columns["SUP001"] == ["warning", "advice"]


def test_explain_shows_criterion_and_examples():
    from expreview.rule import REGISTRY
    proc = run_cli("explain", "DEP001")
    assert proc.returncode == 0
    for part in ("Criterion:", "Why it matters:", "Fails:", "Passes:", "[project.dependencies]"):
        assert part in proc.stdout
    assert proc.stdout.startswith("DEP001 (invalid-pyproject) - error (crash), stages: ")
    assert "Consequence:\n  crash: if a finding is true, the project will not install" in proc.stdout
    advice = next(r for r in REGISTRY.values() if r.consequence == "advice")
    assert "Consequence:\n  advice: worth fixing" in run_cli("explain", advice.code).stdout
    assert run_cli("explain", "XYZ999").returncode == 2
