"""What a new user hits first (issue "What a new user hits first"): the configured stage, the Python
API's argument checks and exceptions, derived reviews without a base, several inputs in one call,
paths, options, and the ruff-like CLI contract."""
from __future__ import annotations

import gc
import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, SEEDS, run_cli

import expreview
from expreview.errors import LoadError, ProfileError, ReviewError, SettingsError

GOOD = FIXTURES / "base" / "good"
CONFIGURED = '[tool.expreview]\nstage = "base"\n'


def good_files() -> dict[str, str]:
    return {p.relative_to(GOOD).as_posix(): p.read_text() for p in GOOD.rglob("*") if p.is_file()
            and p.name != "README.md"}


def configured_repo(tmp_path: Path, extra: str = "", name: str = "repo") -> Path:
    repo = tmp_path / name
    shutil.copytree(GOOD, repo)
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n" + CONFIGURED + extra)
    return repo


# --- 1. the configured stage ------------------------------------------------------------------------

def test_stage_auto_uses_the_configured_stage(tmp_path):
    repo = configured_repo(tmp_path)
    proc = run_cli("check", str(repo), "--stage", "auto")  # what the Action passes by default
    assert proc.returncode == 0, proc.stderr
    assert "stage base from " in proc.stdout and "repo/pyproject.toml [tool.expreview]" in proc.stdout


def test_an_undecidable_stage_points_at_the_configuration(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(GOOD, repo)
    proc = run_cli("check", str(repo))
    assert proc.returncode == 2
    assert "[tool.expreview]" in proc.stderr and "stage" in proc.stderr


# --- 2. the Python API --------------------------------------------------------------------------------

def test_a_string_of_codes_is_codes_not_letters(variants):
    files = {p.relative_to(variants("base", "rich-json")).as_posix(): p.read_text()
             for p in variants("base", "rich-json").rglob("*") if p.is_file()}
    report = expreview.check(files, stage="base", ignore="OUT002")  # letter by letter it hid OUT001 too
    assert [f.code for f in report.errors] == ["OUT001"]
    assert expreview.check(files, stage="base", ignore="OUT001,PH").ready


def test_unknown_or_lower_case_codes(variants):
    with pytest.raises(SettingsError, match="NOPE"):
        expreview.check(good_files(), stage="base", select=["NOPE"])
    report = expreview.check(good_files(), stage="base", options={"orchestration": "gpu-queue"}, select=["run003"])
    assert {f.code for f in report.findings} == {"RUN003"}


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(options={"nonsense": 1}), SettingsError, "unknown option 'nonsense'"),
    (dict(options={"orchestration": "bogus"}), SettingsError, "not one of"),
    (dict(stage="bse"), SettingsError, "'bse' is not one of"),
    (dict(prompt_version="B99"), ProfileError, "B99"),
    (dict(severity={"DEP001": "fatal"}), SettingsError, "'fatal'"),
])
def test_the_api_refuses_what_it_cannot_use(kwargs, error, words):
    kwargs = {"stage": "base", **kwargs}
    with pytest.raises(error, match=words) as caught:
        expreview.review(good_files(), **kwargs)
    assert isinstance(caught.value, expreview.ReviewError)


def test_an_unknown_key_is_not_dropped():
    files = {**good_files(), "readme": "hello"}
    with pytest.raises(LoadError, match="unknown key 'readme'"):
        expreview.review(files, stage="base")


def test_the_exceptions_are_one_exported_hierarchy():
    for name in ("ReviewError", "LoadError", "SettingsError", "ProfileError", "BaselineError"):
        assert name in expreview.__all__ and issubclass(getattr(expreview, name), ReviewError)
    assert (Path(expreview.__file__).parent / "py.typed").is_file()


def test_a_review_leaves_the_hosts_collector_alone(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "disable", lambda: calls.append("disable"))
    assert expreview.review(good_files(), stage="base")["is_base_code_ready"] is True
    assert calls == [] and gc.isenabled()


# --- 3. derived reviews -----------------------------------------------------------------------------

def test_a_derived_review_needs_its_base(tmp_path):
    with pytest.raises(LoadError, match="no base was given"):
        expreview.review(good_files(), stage="derived", run_variations=["baseline"])
    proc = run_cli("check", str(GOOD), "--stage", "derived", "--format", "verdict")
    assert proc.returncode == 2 and "pass --base" in proc.stderr and proc.stdout == ""


def _derived_prompt_with(tmp_path: Path, bundle_text: str) -> Path:
    seed = next(SEEDS.glob("002_*.txt"), None) if SEEDS.is_dir() else None
    if seed is None:
        pytest.skip("../shared/seeds is not beside this checkout")
    text = seed.read_text()
    header = "# Derived Experiment Code (To be validated)\n\n"
    start = text.index(header) + len(header)
    _, end = json.JSONDecoder().raw_decode(text, start)
    path = tmp_path / "prompt.txt"
    path.write_text(text[:start] + bundle_text + text[end:])
    return path


@pytest.mark.parametrize("empty", ["", "null", "{}", '""'])
def test_an_empty_derived_bundle_is_not_ready(tmp_path, empty):
    proc = run_cli("check", str(_derived_prompt_with(tmp_path, empty)), "--format", "verdict")
    assert proc.returncode == 1, proc.stderr
    verdict = json.loads(proc.stdout)
    assert verdict["is_experiment_code_ready"] is False and "LAY001" in verdict["experiment_code_issue"]


# --- 4. several inputs --------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["verdict", "json"])
def test_several_inputs_give_one_entry_each_failures_included(tmp_path, fmt):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    inputs = [str(GOOD), str(broken), str(FIXTURES / "base" / "good")]
    proc = run_cli("check", str(GOOD), str(broken), "--stage", "base", "--format", fmt)
    assert proc.returncode == 2
    out = json.loads(proc.stdout)
    assert isinstance(out, list) and [e["input"] for e in out] == inputs[:2]
    assert "error" in out[1] and "not valid JSON" in out[1]["error"]
    assert "error" not in out[0]
    ready = out[0]["is_base_code_ready"] if fmt == "verdict" else out[0]["ready"]
    assert ready is True


# --- 5. paths ---------------------------------------------------------------------------------------

def test_run_from_src_reviews_the_experiment(tmp_path):
    repo = configured_repo(tmp_path)
    proc = run_cli("check", cwd=repo / "src")  # `.` is the default path
    assert proc.returncode == 0, proc.stderr
    assert "reviewing the experiment at .." in proc.stdout


def test_files_one_by_one_review_their_experiments_once_each(tmp_path):
    configured_repo(tmp_path / "exps", name="one")
    two = configured_repo(tmp_path / "exps", name="two")
    (two / "src" / "train.py").write_text((two / "src" / "train.py").read_text().replace(
        "import json", "import json\nimport frobnicate_lab", 1))
    outside = tmp_path / "exps" / "notes.py"
    outside.write_text("x = 1\n")
    (tmp_path / "exps" / ".git").mkdir()
    files = ["one/src/train.py", "one/src/main.py", "one/pyproject.toml", "two/src/train.py", "notes.py"]
    proc = run_cli("check", *files, "--format", "json", cwd=tmp_path / "exps")
    assert proc.returncode == 1, proc.stderr
    reports = json.loads(proc.stdout)
    assert [r["input"] for r in reports] == ["one", "two"]
    assert reports[0]["ready"] is True and reports[1]["ready"] is False
    assert "notes.py: belongs to no experiment" in proc.stderr
    # text paths are as seen from the working directory, for editor links
    text = run_cli("check", "two/src/train.py", cwd=tmp_path / "exps")
    assert text.stdout.startswith("two/src/train.py:"), text.stdout


# --- 6. options -------------------------------------------------------------------------------------

@pytest.mark.parametrize("pair, words", [("nonsense=1", "unknown option 'nonsense'"),
                                          ("orchestration=bogus", "not one of")])
def test_bad_options_are_refused(pair, words):
    proc = run_cli("check", str(GOOD), "--stage", "base", "-o", pair)
    assert proc.returncode == 2 and words in proc.stderr and proc.stdout == ""


def test_an_explicit_option_beats_what_the_input_says(tmp_path):
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"files": good_files(), "stage": "base",
                                  "options": {"orchestration": "gpu-queue"}}))
    assert run_cli("check", str(bundle)).returncode == 1  # the input asks for a GPU queue
    proc = run_cli("check", str(bundle), "-o", "orchestration=sequential")
    assert proc.returncode == 0, proc.stdout


def test_config_shows_the_options_the_review_uses(tmp_path):
    repo = configured_repo(tmp_path, '[tool.expreview.options]\norchestration = "gpu-queue"\n')
    lines = run_cli("config", str(repo), "-o", "figure_dir=any").stdout.splitlines()
    assert any(l.startswith("options.orchestration") and "gpu-queue" in l and "[tool.expreview]" in l for l in lines)
    assert any(l.startswith("options.figure_dir") and "= any" in l and "# -o" in l for l in lines)
    assert any(l.startswith("prompt_version") and "B7" in l for l in lines)


# --- 7. the CLI contract ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    from fixture_variants import build_variant
    return build_variant("base", "deps-table", tmp_path_factory.mktemp("variant") / "deps-table")


def test_output_format_output_file_and_exit_zero(bad, tmp_path):
    target = tmp_path / "out" / "report.json"
    proc = run_cli("check", str(bad), "--stage", "base", "--output-format", "json", "--output-file", str(target),
                   "--exit-zero")
    assert proc.returncode == 0 and proc.stdout == ""
    assert json.loads(target.read_text())["ready"] is False


def test_statistics_quiet_and_silent(bad):
    stats = run_cli("check", str(bad), "--stage", "base", "--statistics")
    assert stats.returncode == 1 and stats.stdout.split()[:3] == ["1", "DEP001", "error"]
    quiet = run_cli("check", str(bad), "--stage", "base", "-q")
    assert quiet.stdout.splitlines()[-1].endswith("under [project]") and "not ready" not in quiet.stdout
    silent = run_cli("check", str(bad), "--stage", "base", "-qq")
    assert silent.returncode == 1 and silent.stdout == ""


def test_color_on_request_and_never_with_no_color(bad):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    assert "\x1b[" in run_cli("check", str(bad), "--stage", "base", "--color", "always", env=env).stdout
    assert "\x1b[" not in run_cli("check", str(bad), "--stage", "base", env={**env, "NO_COLOR": "1",
                                                                               "FORCE_COLOR": "1"}).stdout
    assert "\x1b[" in run_cli("check", str(bad), "--stage", "base", env={**env, "FORCE_COLOR": "1"}).stdout
    assert "\x1b[" not in run_cli("check", str(bad), "--stage", "base", "--output-format", "json",
                                  "--color", "always", env=env).stdout


def test_select_all_extend_select_and_extend_ignore(tmp_path):
    repo = configured_repo(tmp_path, 'select = ["ALL"]\nextend-ignore = ["RUN003"]\n'
                                     '[tool.expreview.options]\norchestration = "gpu-queue"\n')
    assert run_cli("check", str(repo)).returncode == 0  # RUN003 is ignored by the configuration
    repo2 = configured_repo(tmp_path, 'select = ["DEP"]\nextend-select = ["RUN"]\n'
                                      '[tool.expreview.options]\norchestration = "gpu-queue"\n', name="repo2")
    proc = run_cli("check", str(repo2), "--format", "json")
    assert {f["code"] for f in json.loads(proc.stdout)["findings"]} == {"RUN003"}


def test_a_command_line_ignore_adds_to_the_configured_one(tmp_path, variants):
    repo = configured_repo(tmp_path, 'ignore = ["RUN003"]\n[tool.expreview.options]\norchestration = "gpu-queue"\n')
    (repo / "pyproject.toml").write_text((repo / "pyproject.toml").read_text().replace(
        'dependencies = [', 'dependencies = ["pyyaml^6.0", ', 1))
    proc = run_cli("check", str(repo), "--ignore", "DEP001", "--format", "json")
    codes = [f["code"] for f in json.loads(proc.stdout)["findings"]]
    assert "RUN003" not in codes and "DEP001" not in codes, codes


@pytest.mark.parametrize("command", ["rule", "explain"])
@pytest.mark.parametrize("code", ["DEP001", "SUP001", "int001"])
def test_rule_and_explain_know_every_listed_code(command, code):
    proc = run_cli(command, code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(code.upper())


# --- 8. suppressions, baselines, fingerprints -------------------------------------------------------

def _undeclared(comment: str) -> dict[str, str]:
    """The good files with an undeclared import (DEP002 on it) carrying `comment`."""
    files = good_files()
    files["src/model.py"] += f"\nimport pandas as pd{comment}\nprint(pd)\n"
    return files


def _codes(files: dict[str, str]) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in expreview.check(files, stage="base").findings]


def test_an_unknown_code_in_a_suppression_is_reported_and_silences_nothing():
    files = _undeclared("  # expreview: ignore[DEP0002]")
    line = files["src/model.py"].splitlines().index("import pandas as pd  # expreview: ignore[DEP0002]") + 1
    assert sorted(_codes(files)) == [("DEP002", line), ("SUP002", line)]
    # a known code next to it still works; a family prefix is known, a lone letter is not
    assert _codes(_undeclared("  # expreview: ignore[DEP002, XYZ001]")) == [("SUP002", line)]
    assert _codes(_undeclared("  # expreview: ignore[DEP]")) == []
    assert sorted(_codes(_undeclared("  # expreview: ignore[D]"))) == [("DEP002", line), ("SUP002", line)]
    (finding,) = [f for f in expreview.check(_undeclared("  # expreview: ignore[XYZ001]"), stage="base").findings
                  if f.code == "SUP002"]
    assert "XYZ001" in finding.message and finding.severity == "warning" and finding.consequence == "advice"


def test_empty_brackets_silence_nothing_and_are_reported():
    files = _undeclared("  # expreview: ignore[]")
    line = files["src/model.py"].splitlines().index("import pandas as pd  # expreview: ignore[]") + 1
    found = expreview.check(files, stage="base").findings
    assert sorted((f.code, f.line) for f in found) == [("DEP002", line), ("SUP001", line)]
    assert "names no code" in next(f.message for f in found if f.code == "SUP001")
    assert _codes(_undeclared("  # expreview: ignore")) == []  # a bare ignore still silences every code


def test_the_baseline_applies_from_any_directory_and_names_moved_bundles(tmp_path):
    repo = tmp_path / "work" / "repo"
    repo.parent.mkdir()
    shutil.copytree(GOOD, repo)
    (repo / "src" / "model.py").write_text((repo / "src" / "model.py").read_text() + "\nimport pandas as pd\n")
    baseline = tmp_path / "ci" / "deep" / "baseline.json"  # a folder that does not exist yet
    first = run_cli("check", "repo", "--stage", "base", "--write-baseline", str(baseline), cwd=repo.parent)
    assert first.returncode == 1 and "internal error" not in first.stderr, first.stderr
    assert {e["bundle"] for e in json.loads(baseline.read_text())["entries"]} == {"../../work/repo"}
    for cwd, path in ((repo, "."), (tmp_path, "work/repo"), (repo / "src", "..")):
        again = run_cli("check", path, "--stage", "base", "--format", "json", "--baseline", str(baseline), cwd=cwd)
        assert again.returncode == 0 and json.loads(again.stdout)["findings"] == [], (cwd, again.stdout)
    shutil.move(str(repo), str(tmp_path / "moved"))
    moved = run_cli("check", "moved", "--stage", "base", "--baseline", str(baseline), cwd=tmp_path)
    assert moved.returncode == 1 and "../../work/repo, which does not exist" in moved.stderr


def test_a_baseline_that_cannot_be_written_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run_cli("check", str(GOOD), "--stage", "base", "--write-baseline", str(blocker / "b.json"))
    assert proc.returncode == 2 and "cannot write the baseline" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def _shifted(files: dict[str, str], count: int) -> dict[str, str]:
    """`files` with `count` comment lines before the first line of every non-empty file that has
    comments (an empty file stays empty: that is what LAY003 judges)."""
    commented = (".py", ".yaml", ".yml", ".toml", ".txt", "Dockerfile", ".cfg")
    return {p: ("# moved\n" * count + t if p.endswith(commented) and t.strip() else t) for p, t in files.items()}


def test_fingerprints_ignore_the_line_numbers_in_messages():
    from expreview.output.sarif import fingerprint_text

    assert fingerprint_text("`f` (src/model.py:12) returns 3 values; the call at line 40 and 41") == \
        "`f` (src/model.py:#) returns 3 values; the call at line #"
    assert fingerprint_text("expects 3 arguments, gets 2 (cuda:0)") == "expects 3 arguments, gets 2 (cuda:0)"


def test_fingerprints_survive_lines_added_above_every_failing_example():
    from expreview.engine import review_bundle
    from expreview.output.sarif import sarif_log
    from expreview.rule import REGISTRY

    from dataclasses import replace

    def prints(files, base, example, rule):
        bundle = replace(example, files=files, base=base).bundle(default_stage=rule.stages[0])
        report = review_bundle(bundle, rules=[rule])
        run = sarif_log([report])["runs"][0]
        return sorted((r["ruleId"], r["partialFingerprints"]["expreview/v1"]) for r in run["results"])

    moved = []
    for code, rule in sorted(REGISTRY.items()):
        for example in rule.invalid:
            before = prints(example.files, example.base, example, rule)
            after = prints(_shifted(example.files, 3), example.base and _shifted(example.base, 3), example, rule)
            if before != after:
                moved.append(code)
    assert moved == []


# --- 10. dependencies by import name --------------------------------------------------------------

@pytest.mark.parametrize("module, made_up, real", [("google", '"google"', None), ("Bio", '"Bio"', '"biopython"'),
                                                    ("multipart", '"multipart"', '"python-multipart"')])
def test_no_message_suggests_a_distribution_that_does_not_exist(module, made_up, real):
    files = good_files()
    files["src/model.py"] += f"\nimport {module}\n"
    (finding,) = [f for f in expreview.check(files, stage="base", select=["DEP002"]).findings]
    assert made_up not in finding.message
    if real:
        assert real in finding.message
    else:
        assert "does not know which distribution provides it" in finding.message
