"""Broken, hostile and huge input: findings or one-line errors, never a crash, a hang or execution."""
from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess

import pytest

from conftest import FIXTURES, expreview_cmd
from fixture_variants import variant_files
from expreview.engine import review_bundle
from expreview.rule import REGISTRY, Rule

GOOD = FIXTURES / "base" / "good"
MEMORY_LIMIT = 2 * 1024 ** 3  # the hostile inputs must fit well inside this


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def check(path, *args, cwd=None, stdin=None, env=None):
    """Run the CLI under a memory limit; a hang fails through the timeout, not a timing assertion."""
    return subprocess.run(expreview_cmd() + ["check", str(path), *args], capture_output=True, text=True,
                          cwd=cwd, input=stdin, env=env, timeout=60, preexec_fn=_limited)


def repo_copy(tmp_path, name="repo"):
    repo = tmp_path / name
    shutil.copytree(GOOD, repo)
    return repo


def findings(proc):
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)["findings"]


def one_line_error(proc):
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "Traceback" not in proc.stderr


# -- never execute -----------------------------------------------------------

def test_nothing_under_review_is_executed(tmp_path):
    repo = repo_copy(tmp_path)
    marker = tmp_path / "markers"
    marker.mkdir()
    plant = "import pathlib; pathlib.Path({!r}).joinpath({!r}).write_text('ran')\n"
    for rel in ("src/model.py", "src/train.py", "conftest.py", "setup.py", "sitecustomize.py", "usercustomize.py"):
        path = repo / rel
        path.write_text(plant.format(str(marker), rel.replace("/", "_")) + (path.read_text() if path.exists() else ""))
    (repo / "evil.pth").write_text(plant.format(str(marker), "pth"))
    (repo / "config" / "config.yaml").write_text("wandb: {entity: e, project: p}\n")
    for stage in ("auto", "base", "derived", "hydra"):
        for fmt in ("text", "json", "verdict"):
            extra = ["--base", str(repo)] if stage == "derived" else []
            proc = check(".", "--stage", stage, "--format", fmt, *extra, cwd=repo)
            assert proc.returncode in (0, 1), proc.stderr
    assert list(marker.iterdir()) == []


# -- broken input becomes findings --------------------------------------------

BROKEN = {
    "syntax": ("src/model.py", b"def build(:\n    pass\n", "PY001", 1),
    "yaml": ("config/smoke_test.yaml", b"runs:\n  - run_id: a\n   seed: 1\n", "CFG001", 3),
    "toml": ("pyproject.toml", b"[project\nname = 'x'\n", "DEP001", 1),
    "not-utf8": ("src/preprocess.py", "x = 'caf\u00e9'\n".encode("latin-1"), "LAY005", 1),
    "nul-byte": ("src/evaluate.py", b"import json\n\x00\n", "LAY005", 1),
    "binary": ("src/model.py", bytes(range(256)) * 4, "LAY005", 1),
    "empty": ("src/model.py", b"", "LAY003", 1),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_broken_file_is_a_finding_and_other_rules_still_run(tmp_path, kind):
    path, content, code, line = BROKEN[kind]
    repo = repo_copy(tmp_path)
    (repo / path).write_bytes(content)
    # a second, independent defect that must still be found
    main = repo / "src" / "main.py"
    main.write_text(main.read_text() + "\n\ndef _later():\n    return undefined_helper()\n")
    found = findings(check(repo, "--stage", "base", "--format", "json"))
    assert any(f["code"] == code and f["path"] == path and f["line"] == line and f["message"] for f in found), found
    assert any(f["code"] == "PY002" and f["path"] == "src/main.py" for f in found), found
    assert not any(f["code"] == "INT001" for f in found), found


@pytest.mark.parametrize("newline,bom", [("\r\n", ""), ("\n", "\ufeff"), ("\r\n", "\ufeff")])
def test_crlf_and_bom_keep_locations_right(tmp_path, newline, bom):
    repo = repo_copy(tmp_path)
    train = repo / "src" / "train.py"
    text = "import pandas as pd\n" + train.read_text()
    train.write_bytes((bom + text.replace("\n", newline)).encode("utf-8"))
    smoke = repo / "config" / "smoke_test.yaml"
    smoke.write_bytes((bom + smoke.read_text().replace("1.0e-3", "1e-3").replace("\n", newline)).encode())
    found = findings(check(repo, "--stage", "base", "--format", "json"))
    assert [(f["code"], f["line"], f["column"]) for f in found if f["path"] == "src/train.py"] == [("DEP002", 1, 8)]
    assert any(f["code"] == "CFG003" and f["path"] == "config/smoke_test.yaml" for f in found), found


# -- hostile input --------------------------------------------------------------

@pytest.mark.parametrize("path", ["../escape.py", "/etc/evil.py", "src/\u0000.py", "a/../../x.py"])
def test_hostile_paths_are_rejected_and_never_written(tmp_path, path):
    bundle = tmp_path / "b.json"
    bundle.write_text(json.dumps({"files": {path: "x = 1\n", "src/train.py": "import json\n"}}))
    one_line_error(check(bundle, "--stage", "base", cwd=tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]


def test_yaml_alias_bomb(tmp_path):
    repo = repo_copy(tmp_path)
    bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    previous = "a"
    for name in "bcdefghij":
        bomb += f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    (repo / "config" / "smoke_test.yaml").write_text(bomb)
    found = findings(check(repo, "--stage", "base", "--format", "json"))
    assert any(f["code"] == "CFG001" and "alias" in f["message"] for f in found), found


def test_python_nested_ten_thousand_levels(tmp_path):
    repo = repo_copy(tmp_path)
    (repo / "src" / "model.py").write_text("x = " + "[" * 10_000 + "]" * 10_000 + "\n")
    # indentation this deep must stay under the file-size limit: one space a level
    (repo / "src" / "preprocess.py").write_text("".join(" " * i + "if x:\n" for i in range(1_500)) + " " * 1_500 + "pass\n")
    found = findings(check(repo, "--stage", "base", "--format", "json"))
    assert {(f["code"], f["path"]) for f in found if f["code"] == "PY001"} == {
        ("PY001", "src/model.py"), ("PY001", "src/preprocess.py")}


def test_fifty_megabyte_file(tmp_path):
    repo = repo_copy(tmp_path)
    (repo / "src" / "model.py").write_text("x = 1\n" * (50 * 1024 * 1024 // 6))
    found = findings(check(repo, "--stage", "base", "--format", "json"))
    assert any(f["code"] == "LAY005" and f["path"] == "src/model.py" and "MB" in f["message"] for f in found)


def test_ten_thousand_files(tmp_path):
    bundle = {"files": {f"src/m{i}.py": "x = 1\n" for i in range(10_000)}}
    one_line_error(check("-", "--stage", "base", stdin=json.dumps(bundle)))
    repo = tmp_path / "many"
    (repo / "src").mkdir(parents=True)
    for i in range(10_000):
        (repo / "src" / f"m{i}.py").write_text("x = 1\n")
    one_line_error(check(repo, "--stage", "base"))


# -- determinism ------------------------------------------------------------------

def test_output_is_identical_across_hash_seeds_and_file_order(variants):
    repo = variants("hydra", "struct-merge")
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        for fmt in ("json", "text"):
            outputs.add((fmt, check(repo, "--format", fmt, env=env).stdout))
    assert len(outputs) == 2
    files = {p.relative_to(repo).as_posix(): p.read_text() for p in sorted(repo.rglob("*")) if p.is_file()}
    forward = json.dumps({"files": files})
    backward = json.dumps({"files": dict(reversed(list(files.items())))})
    a = check("-", "--format", "json", stdin=forward).stdout
    b = check("-", "--format", "json", stdin=backward).stdout
    assert a == b and json.loads(a)["findings"]


# -- a rule that fails is contained -------------------------------------------------

def test_a_failing_rule_costs_only_its_own_findings():
    from expreview.api import make_bundle

    files = variant_files("base", "deps-table")

    def explode(bundle):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    broken = Rule("OUT001", "train-json-stdout", ("base",), "error", "c", "r", explode, (), ())
    rules = [broken, REGISTRY["DEP001"]]
    report = review_bundle(make_bundle(files, "base"), rules=rules)
    codes = [f.code for f in report.findings]
    assert codes.count("DEP001") == 1 and "INT001" in codes
    internal = next(f for f in report.findings if f.code == "INT001")
    assert "OUT001" in internal.message and "boom" in internal.message
    assert report.ready is False and "INT001" in report.verdict()["base_code_issue"]
