"""Where users meet expreview: configuration, suppressions, baselines, rule docs, plugins, pre-commit."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, run_cli
from fixture_variants import build_variant

GOOD = FIXTURES / "base" / "good"


def repo_copy(tmp_path, source=GOOD, name="repo"):
    repo = tmp_path / name
    shutil.copytree(source, repo)
    return repo


def add_config(repo: Path, text: str) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n" + text)


def report(proc):
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


# -- configuration ----------------------------------------------------------------

def test_tool_expreview_is_found_from_the_checked_path_upward(tmp_path):
    repo = repo_copy(tmp_path)
    add_config(repo, '[tool.expreview]\nstage = "base"\nignore = ["RUN003"]\n'
                     '[tool.expreview.options]\norchestration = "gpu-queue"\n'
                     '[tool.expreview.severity]\nFIG003 = "error"\n')
    (repo / "src" / "evaluate.py").write_text((repo / "src" / "evaluate.py").read_text().replace("ax.legend()", "pass"))
    # from a subdirectory: the config two levels up still applies (stage base, RUN003 ignored)
    found = report(run_cli("check", ".", "--format", "json", cwd=repo / "src"))
    codes = {(f["code"], f["severity"]) for f in found["findings"]}
    assert found["stage"] == "base"
    assert ("FIG003", "error") in codes and not any(c == "RUN003" for c, _ in codes)


def test_config_command_prints_values_and_origins(tmp_path):
    repo = repo_copy(tmp_path)
    add_config(repo, '[tool.expreview]\nstage = "base"\nselect = ["DEP", "PY"]\n'
                     '[tool.expreview.options]\norchestration = "gpu-queue"\n')
    proc = run_cli("config", str(repo))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    origin = f"{repo / 'pyproject.toml'} [tool.expreview]"
    assert any(l.startswith("stage") and "= base" in l and origin in l for l in lines), lines
    assert any(l.startswith("select") and "DEP, PY" in l for l in lines)
    assert any(l.startswith("options.orchestration") and "gpu-queue" in l and origin in l for l in lines)
    # what the review uses: the judged prompt version's options beat the profile's defaults
    assert any(l.startswith("options.figure_dir") and "prompt version B7 (the stage's newest)" in l for l in lines)
    assert any(l.startswith("options.config_loader") and "profile rules/base.yaml" in l for l in lines)


@pytest.mark.parametrize("table,named", [
    ('[tool.expreview]\nstagee = "base"\n', "stagee"),
    ('[tool.expreview]\nignore = ["NOPE001"]\n', "NOPE001"),
    ('[tool.expreview.severity]\nXYZ9 = "error"\n', "XYZ9"),
    ('[tool.expreview.severity]\nFIG003 = "fatal"\n', "fatal"),
    ('[tool.expreview.options]\norchestra = "x"\n', "orchestra"),
])
def test_unknown_key_or_code_is_exit_2_naming_it(tmp_path, table, named):
    repo = repo_copy(tmp_path)
    add_config(repo, table)
    proc = run_cli("check", str(repo), "--stage", "base")
    assert proc.returncode == 2 and named in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_explicit_config_file(tmp_path):
    cfg = tmp_path / "expreview.toml"
    cfg.write_text('stage = "base"\nselect = ["DEP001"]\n')
    repo = build_variant("base", "deps-table", tmp_path / "repo")
    found = report(run_cli("check", str(repo), "--config", str(cfg), "--format", "json"))
    assert {f["code"] for f in found["findings"]} == {"DEP001"}


# -- suppressions ---------------------------------------------------------------------

def test_suppressions_in_python_and_yaml_and_unused_ones(tmp_path):
    repo = build_variant("base", "yaml-float", tmp_path / "repo")
    smoke = repo / "config" / "smoke_test.yaml"
    smoke.write_text(smoke.read_text().replace("learning_rate: 1e-3", "learning_rate: 1e-3  # expreview: ignore[CFG003]"))
    train = repo / "src" / "train.py"
    train.write_text("# expreview: ignore[DEP002]\nimport pandas as pd\n" + train.read_text()
                     + "\nx = 1  # expreview: ignore[PY002]\n")
    found = report(run_cli("check", str(repo), "--stage", "base", "--format", "json"))
    codes = [(f["code"], f["path"], f["line"]) for f in found["findings"]]
    assert codes == [("SUP001", "src/train.py", len(train.read_text().splitlines()))], codes
    assert found["ready"] is True


def test_file_level_suppression(tmp_path):
    repo = build_variant("base", "undeclared-dep", tmp_path / "repo")
    evaluate = repo / "src" / "evaluate.py"
    evaluate.write_text("# expreview: ignore-file[DEP]\n" + evaluate.read_text())
    assert report(run_cli("check", str(repo), "--stage", "base", "--format", "json"))["findings"] == []


# -- baselines ---------------------------------------------------------------------------

def test_baseline_accepts_old_findings_survives_edits_and_reports_stale(tmp_path):
    repo = build_variant("base", "undeclared-dep", tmp_path / "repo")
    baseline = tmp_path / "baseline.json"
    first = run_cli("check", str(repo), "--stage", "base", "--write-baseline", str(baseline))
    assert first.returncode == 1 and json.loads(baseline.read_text())["entries"]
    # unrelated edit above the finding: the baseline still matches
    evaluate = repo / "src" / "evaluate.py"
    evaluate.write_text('"""Evaluation."""\n\n' + evaluate.read_text())
    again = report(run_cli("check", str(repo), "--stage", "base", "--format", "json", "--baseline", str(baseline)))
    assert again["findings"] == [] and again["ready"] is True
    # a new finding is reported; fixing the old one makes its entry stale
    evaluate.write_text(evaluate.read_text().replace("import pandas as pd", "import scipy as pd"))
    after = report(run_cli("check", str(repo), "--stage", "base", "--format", "json", "--baseline", str(baseline)))
    # `scipy as pd`: also PY008, for the pandas names read on scipy
    assert sorted({f["code"] for f in after["findings"]}) == ["BSL001", "DEP002", "PY008"]
    assert any("scipy" in f["message"] for f in after["findings"] if f["code"] == "DEP002")


def test_bad_baseline_is_exit_2(tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text("{}")
    proc = run_cli("check", str(GOOD), "--stage", "base", "--baseline", str(bad))
    assert proc.returncode == 2 and "baseline" in proc.stderr


# -- rule docs ---------------------------------------------------------------------------

def test_checked_in_rule_docs_are_current():
    from expreview.docs import rules_markdown

    checked_in = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    assert checked_in == rules_markdown(), "docs/rules.md is stale: run `expreview docs -o docs/rules.md`"


def test_rule_docs_carry_every_rule_with_examples():
    from expreview.docs import rules_markdown
    from expreview.rule import REGISTRY

    text = rules_markdown()
    for code, r in REGISTRY.items():
        section = text.split(f"### {code} ", 1)[1].split("\n### ", 1)[0]
        assert r.criterion in section and r.rationale in section
        assert "**Fails" in section and "**Passes" in section


# -- plugins -----------------------------------------------------------------------------

def test_plugin_rule_registers_through_entry_points_and_runs(tmp_path):
    site = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
                              str(REPO / "tests" / "plugin_example")], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    repo = repo_copy(tmp_path)
    (repo / "src" / "model.py").write_text((repo / "src" / "model.py").read_text() + "\nprint('built')\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    rules = run_cli("rules", env=env)
    assert any(line.startswith("XDEMO001") for line in rules.stdout.splitlines())
    found = report(run_cli("check", str(repo), "--stage", "base", "--format", "json", env=env))
    assert [f["code"] for f in found["findings"]] == ["XDEMO001"]
    ignored = report(run_cli("check", str(repo), "--stage", "base", "--format", "json", "--ignore", "XDEMO", env=env))
    assert ignored["findings"] == []


# -- pre-commit ----------------------------------------------------------------------------

PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


def _git(repo: Path, *args: str) -> None:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


def test_pre_commit_hook_definition():
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "expreview")
    # the changed files are passed; expreview reviews the experiment holding each, once
    assert (hook["entry"], hook["pass_filenames"], hook["require_serial"]) == ("expreview check", True, True)
    assert "python" in hook["types_or"] and "yaml" in hook["types_or"]


@pytest.mark.skipif(not PRE_COMMIT.exists() and shutil.which("pre-commit") is None, reason="pre-commit is not installed")
def test_pre_commit_try_repo_passes_good_and_fails_bad(tmp_path):
    exe = str(PRE_COMMIT) if PRE_COMMIT.exists() else shutil.which("pre-commit")
    hook_repo = tmp_path / "hook"
    shutil.copytree(REPO, hook_repo, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info",
                                                                  ".pytest_cache", ".hypothesis", "build"))
    _git(hook_repo, "init", "-q")
    _git(hook_repo, "add", "-A")
    _git(hook_repo, "commit", "-qm", "expreview")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "cache"))
    results = {}
    multi = tmp_path / "multi"  # two experiments in subfolders, one of them broken
    for part, make in (("one", lambda d: repo_copy(d.parent, GOOD, d.name)),
                       ("two", lambda d: build_variant("base", "deps-table", d))):
        add_config(make(multi / "exps" / part), '[tool.expreview]\nstage = "base"\n')
    for name in ("good", "bad", "multi"):
        if name == "multi":
            repo = multi
        else:
            repo = repo_copy(tmp_path, GOOD, name) if name == "good" else build_variant("base", "deps-table", tmp_path / name)
            add_config(repo, '[tool.expreview]\nstage = "base"\n')
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-qm", "fixture")
        proc = subprocess.run([exe, "try-repo", str(hook_repo), "expreview", "--all-files"], cwd=repo, env=env,
                              capture_output=True, text=True, timeout=900)
        results[name] = proc
    good, bad = results["good"], results["bad"]
    assert good.returncode == 0 and "Passed" in good.stdout, good.stdout + good.stderr
    assert bad.returncode == 1 and "Failed" in bad.stdout and "DEP001" in bad.stdout, bad.stdout + bad.stderr
    both = results["multi"]
    assert both.returncode == 1 and "exps/two/pyproject.toml:7:1: DEP001" in both.stdout, both.stdout + both.stderr
    assert "exps/one: 0 errors" in both.stdout and "exps/two: 1 error" in both.stdout, both.stdout


def test_a_derived_directory_can_name_its_base_and_variations(tmp_path):
    shutil.copytree(FIXTURES / "base" / "good", tmp_path / "base")
    repo = build_variant("derived", "missing-variation", tmp_path / "derived")
    add_config(repo, '[tool.expreview]\nstage = "derived"\nbase = "../base"\n'
                     'run_variations = ["baseline", "proposed", "proposed-no-warmup"]\n')
    found = report(run_cli("check", str(repo), "--format", "json"))
    assert found["stage"] == "derived"
    assert [f["code"] for f in found["findings"]] == ["CFG007"]
