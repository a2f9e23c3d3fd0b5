"""The composite Action (action.yml), its steps run as the runner runs them: bash with `-e -o
pipefail`, inputs through the environment, a fake GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, and a
RUNNER_TEMP of its own. The install step really builds expreview's virtual environment there from a
copy of this checkout (offline, as CI installs)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="bash is not available")


def action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))


def step(step_id: str) -> dict:
    (found,) = [s for s in action()["runs"]["steps"] if s.get("id") == step_id]
    return found


def run_step(step_id: str, env: dict[str, str], cwd: Path, tmp: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """Run one step's script; returns the process and the outputs it wrote to GITHUB_OUTPUT."""
    script = tmp / f"{step_id}.sh"
    script.write_text(step(step_id)["run"], encoding="utf-8")
    output = tmp / f"{step_id}.out"
    output.write_text("")
    full = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "EXPREVIEW_"))}
    full.update(env, GITHUB_OUTPUT=str(output))
    proc = subprocess.run([BASH, "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=300)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return proc, outputs


def test_action_yml_declares_its_inputs_outputs_and_leaves_the_jobs_python_alone():
    spec = action()
    assert spec["runs"]["using"] == "composite"
    assert {k: v["default"] for k, v in spec["inputs"].items()} == {
        "path": ".", "stage": "auto", "args": "", "python-version": "3.11", "version": "", "sarif-file": ""}
    assert {k: v["value"] for k, v in spec["outputs"].items()} == {
        key: f"${{{{ steps.review.outputs.{key} }}}}" for key in ("ready", "errors", "warnings", "sarif")}
    setup = step("python")
    assert setup["uses"] == "actions/setup-python@v5"
    assert setup["with"] == {"python-version": "${{ inputs.python-version }}", "update-environment": False}
    assert step("install")["env"]["EXPREVIEW_PYTHON"] == "${{ steps.python.outputs.python-path }}"
    for script in (step("install")["run"], step("review")["run"]):
        assert "${{" not in script  # inputs reach the scripts only through the environment
        # nothing leaks into later steps of the user's job
        assert "GITHUB_ENV" not in script and "GITHUB_PATH" not in script


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The install step, run once: RUNNER_TEMP and the `bin` output it wrote."""
    tmp = tmp_path_factory.mktemp("action")
    checkout = tmp / "action"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    for name in filter(None, listed.stdout.split("\0")):
        if (REPO / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, checkout / name)
    runner_temp = tmp / "runner"
    runner_temp.mkdir()
    proc, outputs = run_step("install", {"EXPREVIEW_PYTHON": sys.executable, "EXPREVIEW_SPEC": "",
                                         "EXPREVIEW_ACTION_PATH": str(checkout), "RUNNER_TEMP": str(runner_temp)},
                             tmp, tmp)
    if proc.returncode != 0 and ("No matching distribution" in proc.stderr or "Could not find" in proc.stderr):
        pytest.skip(f"cannot install offline here: {proc.stderr.strip().splitlines()[-1]}")
    assert proc.returncode == 0, proc.stderr
    assert "expreview, version" in proc.stdout
    assert Path(outputs["bin"]).parent == runner_temp / "expreview-venv"
    return runner_temp, outputs["bin"]


@pytest.mark.parametrize("args, status, first, counts", [
    ("", 1, "::error file=base/pipe-deadlock/src/main.py,", True),
    ("--select 'RUN, DEP' -o \"orchestration=gpu-queue\"", 1, "::error file=base/pipe-deadlock/src/main.py,", True),
    ("--select DEP", 0, "expreview: 0 errors", True),
    ("-o \"note=a b\"", 2, "", False),  # one quoted argument, refused as an unknown option
    ("'unbalanced", 2, "", False),
    ("; touch injected", 2, "", False),
])
def test_review_step_outputs_and_exit_status(installed, variants, tmp_path, args, status, first, counts):
    runner_temp, bin_dir = installed
    variants("base", "pipe-deadlock")
    summary = tmp_path / "summary.md"
    sarif = tmp_path / "out" / "review.sarif"
    proc, outputs = run_step("review", {
        "EXPREVIEW_BIN": bin_dir, "RUNNER_TEMP": str(runner_temp), "GITHUB_STEP_SUMMARY": str(summary),
        "EXPREVIEW_PATH": "base/pipe-deadlock", "EXPREVIEW_STAGE": "base", "EXPREVIEW_ARGS": args,
        "EXPREVIEW_SARIF": str(sarif)}, variants.root, tmp_path)
    assert proc.returncode == status, proc.stderr
    assert proc.stdout.startswith(first)
    assert outputs["ready"] == ("true" if status == 0 else "false")
    assert not (variants.root / "injected").exists() and not (REPO / "injected").exists()
    if not counts:
        assert "errors" not in outputs and "sarif" not in outputs
        return
    log = json.loads(sarif.read_text())
    levels = [r["level"] for r in log["runs"][0]["results"]]
    assert outputs["sarif"] == str(sarif)
    assert (int(outputs["errors"]), int(outputs["warnings"])) == (levels.count("error"), levels.count("warning"))
    assert (int(outputs["errors"]) > 0) == (status == 1)
    annotations = [line for line in proc.stdout.splitlines() if line.startswith("::error")]
    assert len(annotations) == min(10, int(outputs["errors"]))
    assert summary.read_text().count("## expreview:") == 1  # the SARIF pass writes no second summary


def test_review_step_default_sarif_goes_to_runner_temp(installed, variants, tmp_path):
    runner_temp, bin_dir = installed
    variants("base", "pipe-deadlock")
    proc, outputs = run_step("review", {
        "EXPREVIEW_BIN": bin_dir, "RUNNER_TEMP": str(runner_temp), "EXPREVIEW_PATH": "base/pipe-deadlock",
        "EXPREVIEW_STAGE": "base", "EXPREVIEW_ARGS": "", "EXPREVIEW_SARIF": ""}, variants.root, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert outputs["sarif"] == str(runner_temp / "expreview.sarif") and Path(outputs["sarif"]).is_file()
