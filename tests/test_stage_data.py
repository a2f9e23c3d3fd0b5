"""A stage is data: a throwaway stage defined only by a YAML file is reviewed end to end."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli

TOY = """\
# A throwaway stage: two required files, one detection file, one prompt header.
stage: toy
verdict:
  ready_key: is_toy_ready
  issue_key: toy_issue
detect:
  file: toy.cfg
prompt:
  header: "# Toy Code Under Review"
options:
  files:
    default: [src/run.py, pyproject.toml, toy.cfg]
  extra_files_allowed:
    default: []
  config_loader:
    default: pyyaml
    allowed: [pyyaml, omegaconf]
rules:
  - LAY001
  - LAY002
  - DEP001
"""

PYPROJECT_TABLE = '[project]\nname = "toy"\nversion = "0"\ndependencies = {numpy = "*"}\n'


@pytest.fixture
def toy_rules(tmp_path) -> dict[str, str]:
    """The environment that makes the built-in stages plus `toy` the stages of a run."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    (rules / "toy.yaml").write_text(TOY, encoding="utf-8")
    return {**os.environ, "EXPREVIEW_RULES_DIR": str(rules)}


def toy_repo(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "run.py").write_text("print('hello')\n", encoding="utf-8")
    (root / "src" / "extra.py").write_text("x = 1\n", encoding="utf-8")
    (root / "pyproject.toml").write_text(PYPROJECT_TABLE, encoding="utf-8")
    (root / "toy.cfg").write_text("a = 1\n", encoding="utf-8")
    return root


def test_a_stage_defined_only_in_yaml_is_detected_and_reviewed(tmp_path, toy_rules):
    repo = toy_repo(tmp_path / "repo")
    proc = run_cli("check", str(repo), "--format", "json", env=toy_rules)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["stage"] == "toy"
    assert "toy.cfg" in run_cli("check", str(repo), env=toy_rules).stdout  # says what it was detected from
    found = sorted((f["code"], f["path"]) for f in report["findings"])
    assert found == [("DEP001", "pyproject.toml"), ("LAY002", "src/extra.py")]

    verdict = json.loads(run_cli("check", str(repo), "--format", "verdict", env=toy_rules).stdout)
    assert set(verdict) == {"is_toy_ready", "toy_issue"} and verdict["is_toy_ready"] is False


def test_its_file_list_and_rule_set_come_from_the_yaml(tmp_path, toy_rules):
    repo = toy_repo(tmp_path / "repo")
    (repo / "src" / "run.py").unlink()
    report = json.loads(run_cli("check", str(repo), "--stage", "toy", "--format", "json", env=toy_rules).stdout)
    codes = {f["code"] for f in report["findings"]}
    assert "LAY001" in codes and codes <= {"LAY001", "LAY002", "DEP001"}
    listed = run_cli("rules", env=toy_rules).stdout
    assert "toy" in listed


def test_a_logged_prompt_with_its_header_is_a_toy_prompt(tmp_path, toy_rules):
    bundle = {"src/run.py": "print('hello')\n", "pyproject.toml": '[project]\nname = "toy"\nversion = "0"\n',
              "toy.cfg": "a = 1\n"}
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Input:\n# Instructions\nReview the code.\n\n# Toy Code Under Review\n"
                      + json.dumps({"files": bundle}) + "\n", encoding="utf-8")
    proc = run_cli("check", str(prompt), "--format", "verdict", env=toy_rules)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout) == {"is_toy_ready": True, "toy_issue": ""}


def test_without_the_yaml_the_stage_does_not_exist(tmp_path):
    repo = toy_repo(tmp_path / "repo")
    proc = run_cli("check", str(repo), "--stage", "toy")
    assert proc.returncode == 2 and "toy" in proc.stderr
