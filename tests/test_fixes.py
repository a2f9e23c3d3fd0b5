"""Fixes: every fixable rule's failing examples, once fixed, lose that finding, gain no other, still
parse, and a second fix changes nothing; the engine orders and skips overlapping edits; the CLI's
--fix, --unsafe-fixes and --diff, and expreview.fix()."""
from __future__ import annotations

import ast
import json
import shutil
import tomllib
from collections import Counter
from dataclasses import replace

import pytest
import yaml
from conftest import FIXTURES, run_cli

import expreview
from expreview.edits import SAFE, UNSAFE, Edit, Fix, apply
from expreview.engine import review_bundle
from expreview.fixing import fix_files, rebuilt
from expreview.checks import load_all
from expreview.rule import REGISTRY

FIXABLE = sorted(code for code, rule in REGISTRY.items() if rule.fixable)
CASES = [pytest.param(REGISTRY[code], i, example, id=f"{code}-{i}")
         for code in FIXABLE for i, example in enumerate(REGISTRY[code].invalid)]


def test_some_rules_are_fixable_and_every_one_fixes_a_failing_example():
    assert {"CFG003", "RUN007"} <= set(FIXABLE)
    for code in FIXABLE:
        rule = REGISTRY[code]
        offered = [f for example in rule.invalid
                   for f in review_bundle(example.bundle(default_stage=rule.stages[0]), rules=[rule]).findings
                   if f.code == code and f.fix is not None]
        assert offered, f"{code} is declared fixable and fixes none of its failing examples"


def test_a_rule_not_declared_fixable_offers_no_fix():
    for code, rule in sorted(REGISTRY.items()):
        if rule.fixable:
            continue
        for example in rule.invalid:
            report = review_bundle(example.bundle(default_stage=rule.stages[0]), rules=[rule])
            assert all(f.fix is None for f in report.findings), code


def _parses(path: str, text: str) -> None:
    if path.endswith(".py"):
        ast.parse(text)
    elif path.endswith((".yaml", ".yml")):
        list(yaml.safe_load_all(text))
    elif path.endswith(".toml"):
        tomllib.loads(text)


@pytest.mark.parametrize("rule,index,example", CASES)
def test_a_fix_removes_its_finding_and_nothing_else_changes(rule, index, example):
    bundle = example.bundle(default_stage=rule.stages[0])
    # Every rule of the stage, whichever prompt version turns on: a fix must not cause another
    # rule's finding (and a rule that the newest version turns off still gets its fix tried).
    load_all()
    stage_rules = [r for _, r in sorted(REGISTRY.items()) if bundle.stage in r.stages]

    def review(files):
        return review_bundle(rebuilt(bundle, files), rules=stage_rules)

    before = review(bundle.files)
    mine = [f for f in before.findings if f.code == rule.code and f.fix is not None]
    if not mine:
        pytest.skip(f"{rule.code} offers no fix for this example")
    result = fix_files(bundle.files, review, unsafe=True)
    assert {a.code for a in result.applied} >= {rule.code}
    fixed_places = {(f.path, f.line) for f in mine}
    assert not [f for f in result.report.findings if f.code == rule.code and (f.path, f.line) in fixed_places]
    counted_before = Counter(f.code for f in before.findings)
    counted_after = Counter(f.code for f in result.report.findings)
    assert not counted_after - counted_before, "the fix introduced findings"
    for path in result.changed:
        _parses(path, result.files[path])
    again = fix_files(result.files, review, unsafe=True)
    assert again.changed == [] and again.applied == []


# -- the engine -------------------------------------------------------------------------------------

def test_edits_apply_by_position_and_refuse_overlaps():
    text = "a: 1e-3\nb: 2e-3\n"
    edits = [Edit("c.yaml", 2, 4, 2, 8, "2.0e-3"), Edit("c.yaml", 1, 4, 1, 8, "1.0e-3")]
    assert apply(text, edits) == "a: 1.0e-3\nb: 2.0e-3\n"
    with pytest.raises(ValueError):
        apply(text, [Edit("c.yaml", 1, 1, 1, 5, "x"), Edit("c.yaml", 1, 3, 1, 6, "y")])
    with pytest.raises(ValueError):
        Fix("nothing", SAFE, ())
    with pytest.raises(ValueError):
        Fix("x", "maybe", (edits[0],))


def test_overlapping_fixes_are_applied_once_in_a_stable_order_and_the_loop_ends():
    from expreview.engine import Report
    from expreview.findings import Finding

    def review(files):
        text = files["a.txt"]
        found = []
        if "x" in text:  # two rules offer edits on the same span; the lower code wins, then it is gone
            found.append(Finding("AAA001", "error", "a.txt", 1, 1, 1, 2, "x",
                                 offer=Fix("y", SAFE, (Edit("a.txt", 1, 1, 1, 2, "y"),))))
            found.append(Finding("BBB001", "error", "a.txt", 1, 1, 1, 2, "x too",
                                 offer=Fix("z", SAFE, (Edit("a.txt", 1, 1, 1, 2, "z"),))))
        if "y" in text:  # a fix that would flip forever: bounded by MAX_ROUNDS
            found.append(Finding("CCC001", "error", "a.txt", 1, 1, 1, 2, "y",
                                 offer=Fix("yy", UNSAFE, (Edit("a.txt", 1, 1, 1, 2, "yy"),))))
        return Report("base", found, "ready", "issue")

    safe = fix_files({"a.txt": "x\n"}, review)
    assert safe.files["a.txt"] == "y\n" and [a.code for a in safe.applied] == ["AAA001"]
    assert safe.conflicts == []  # BBB001 is no longer offered once AAA001's fix removed the x
    loop = fix_files({"a.txt": "y\n"}, review, unsafe=True)
    assert len(loop.applied) == 5  # MAX_ROUNDS, then it stops


# -- the API and the CLI ------------------------------------------------------------------------------

def _good_files() -> dict[str, str]:
    good = FIXTURES / "base" / "good"
    return {p.relative_to(good).as_posix(): p.read_text() for p in good.rglob("*") if p.is_file()
            and p.name != "README.md"}


def test_api_fix_returns_the_fixed_files_and_leaves_the_input_alone():
    files = _good_files()
    files["config/smoke_test.yaml"] = files["config/smoke_test.yaml"].replace("learning_rate: 1.0e-3",
                                                                              "learning_rate: 1e-3")
    given = dict(files)
    result = expreview.fix(files, stage="base")
    assert files == given
    assert result.changed == ["config/smoke_test.yaml"] and "learning_rate: 1.0e-3" in result.files[result.changed[0]]
    assert [a.code for a in result.applied] == ["CFG003"] and result.report.ready
    assert json.loads(json.dumps(result.as_dict()))["applied"][0]["applicability"] == "safe"
    # the JSON report carries the fix of a finding it did not apply
    finding = next(f for f in expreview.check(files, stage="base").as_dict()["findings"] if f["code"] == "CFG003")
    assert finding["fix"]["edits"][0]["content"] == "1.0e-3" and finding["fix"]["applicability"] == "safe"


@pytest.fixture
def broken(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "base" / "good", repo)
    smoke = repo / "config" / "smoke_test.yaml"
    smoke.write_text(smoke.read_text().replace("learning_rate: 1.0e-3", "learning_rate: 1e-3"))
    return repo


def test_cli_diff_changes_nothing_and_fix_writes_in_place(broken):
    smoke = broken / "config" / "smoke_test.yaml"
    before = smoke.read_text()
    diff = run_cli("check", "repo", "--stage", "base", "--diff", cwd=broken.parent)
    assert diff.returncode == 1 and smoke.read_text() == before
    assert "--- a/repo/config/smoke_test.yaml" in diff.stdout and "+      learning_rate: 1.0e-3" in diff.stdout
    fixed = run_cli("check", "repo", "--stage", "base", "--fix", cwd=broken.parent)
    assert fixed.returncode == 0, fixed.stderr
    assert "fixed 1 finding (repo/config/smoke_test.yaml)" in fixed.stderr
    assert smoke.read_text() == before.replace("learning_rate: 1e-3", "learning_rate: 1.0e-3")
    again = run_cli("check", "repo", "--stage", "base", "--diff", cwd=broken.parent)
    assert again.returncode == 0 and again.stdout == ""


def test_cli_fix_on_a_json_bundle_writes_the_fixed_bundle(broken, tmp_path):
    files = {p.relative_to(broken).as_posix(): p.read_text() for p in broken.rglob("*") if p.is_file()}
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"files": files}))
    refused = run_cli("check", str(bundle), "--stage", "base", "--fix")
    assert refused.returncode == 2 and "--output-file" in refused.stderr
    out = tmp_path / "fixed.json"
    done = run_cli("check", str(bundle), "--stage", "base", "--fix", "--output-file", str(out))
    assert done.returncode == 0, done.stderr
    assert "learning_rate: 1.0e-3" in json.loads(out.read_text())["files"]["config/smoke_test.yaml"]
    assert json.loads(bundle.read_text()) == {"files": files}  # the input is never edited
    assert run_cli("check", str(out), "--stage", "base").returncode == 0


def test_the_fixed_json_bundle_keeps_its_context(broken, tmp_path):
    files = {p.relative_to(broken).as_posix(): p.read_text() for p in broken.rglob("*") if p.is_file()}
    bundle = tmp_path / "bundle.json"
    given = {"files": files, "stage": "base", "prompt_version": "B6", "run_variations": ["baseline", "proposed"],
             "options": {"orchestration": "any"}}
    bundle.write_text(json.dumps(given))
    out = tmp_path / "fixed.json"
    done = run_cli("check", str(bundle), "--fix", "--output-file", str(out))
    assert done.returncode == 0, done.stderr
    written = json.loads(out.read_text())
    assert (written["stage"], written["prompt_version"], written["run_variations"]) == \
        ("base", "B6", ["baseline", "proposed"])
    assert written["options"]["orchestration"] == "any"
    again = run_cli("check", str(out), "--format", "json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "B6" in again.stdout


def test_a_json_bundle_names_its_prompt_version(tmp_path):
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"files": {"src/train.py": "print(1)\n"}, "stage": "base", "prompt_version": 6}))
    proc = run_cli("check", str(bundle))
    assert proc.returncode == 2 and "prompt_version" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("args", [["--fix", "--diff"], ["--unsafe-fixes"]])
def test_cli_refuses_fix_flags_that_do_not_go_together(args):
    proc = run_cli("check", str(FIXTURES / "base" / "good"), "--stage", "base", *args)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_run007_fix_is_unsafe_without_a_config_path():
    rule = REGISTRY["RUN007"]
    example = rule.invalid[0]
    files = dict(example.files)
    main = files["src/main.py"]
    assert "config_path=" in main
    safe = [f.fix for f in review_bundle(replace(example).bundle(default_stage="hydra"), rules=[rule]).findings
            if f.fix is not None]
    assert safe and safe[0].applicability == SAFE and "version_base=None" in safe[0].edits[0].content
    import re
    files["src/main.py"] = re.sub(r"config_path=[^,)]*,?\s*", "", main)
    unsafe = [f.fix for f in review_bundle(replace(example, files=files).bundle(default_stage="hydra"),
                                           rules=[rule]).findings if f.fix is not None]
    assert unsafe and unsafe[0].applicability == UNSAFE


@pytest.mark.parametrize("spec, expected", [
    ("*", "torch"), (">=2.0", "torch>=2.0"), ("2.1", "torch==2.1"), ("^1.2.3", "torch>=1.2.3,<2"),
    ("^0.2.3", "torch>=0.2.3,<0.3"), ("^0.0.3", "torch>=0.0.3,<0.0.4"), ("~1.2", "torch>=1.2,<1.3"),
    ("~1", "torch>=1,<2"), ("~=1.2", "torch~=1.2"), ({"version": "^2.0", "extras": ["cuda"]}, "torch[cuda]>=2.0,<3"),
    ({"git": "https://github.com/x/y"}, None), ({"version": "*", "markers": "sys_platform == 'linux'"}, None),
    ("^1.x", None), ("not a version!", None),
])
def test_dep001_converts_only_what_it_is_sure_of(spec, expected):
    from expreview.checks.dep.pyproject import _exact_requirement

    assert _exact_requirement("torch", spec) == expected


def test_dep001_fix_keeps_the_rest_of_the_file():
    text = ('[project]\nname = "x"  # the name\nversion = "0.1.0"\n\n[project.dependencies]\ntorch = "^2.1"\n'
            'numpy = "*"\n\n[tool.other]\nkeep = [1, 2]  # as written\n')
    result = expreview.fix({"pyproject.toml": text}, stage="base", select=["DEP001"])
    fixed = result.files["pyproject.toml"]
    assert tomllib.loads(fixed)["project"]["dependencies"] == ["torch>=2.1,<3", "numpy"]
    assert 'name = "x"  # the name' in fixed and "keep = [1, 2]  # as written" in fixed
    assert [a.code for a in result.applied] == ["DEP001"]


def test_smallest_edit_covers_only_what_differs():
    from expreview.edits import smallest_edit

    old, new = 'deps = ["torch"]\nx = 1\n', 'deps = ["torch", "numpy"]\nx = 1\n'
    edit = smallest_edit("p.toml", old, new)
    assert edit is not None and (edit.line, edit.end_line) == (1, 1) and edit.content == ', "numpy"'
    assert apply(old, [edit]) == new
    assert smallest_edit("p.toml", old, old) is None


def _source(text: str):
    from expreview.sources.pyfile import PythonSource

    return PythonSource("src/train.py", text)


def test_wrapping_refuses_a_statement_that_shares_its_line_or_holds_a_multiline_string():
    from expreview.sources.python_edits import wrap_statement

    def stmt_of(source, needle):
        return max(i for i, s in enumerate(source.index.statements) if needle in source.module.code_for_node(s))

    shared = _source("def main(cfg):\n    a = 1; cfg.x = 2\n")
    assert wrap_statement(shared, stmt_of(shared, "cfg.x"), "with open_dict(cfg):") is None
    text = 'def main(cfg):\n    cfg.doc = """a\nb"""\n'
    multiline = _source(text)
    assert wrap_statement(multiline, stmt_of(multiline, "cfg.doc"), "with open_dict(cfg):") is None
    alone = _source("def main(cfg):\n    cfg.x = [\n        1,\n    ]  # note\n")
    edit = wrap_statement(alone, stmt_of(alone, "cfg.x"), "with open_dict(cfg):")
    assert edit is not None
    assert apply(alone.text, [edit]) == ("def main(cfg):\n    with open_dict(cfg):\n        cfg.x = [\n"
                                         "            1,\n        ]  # note\n")


def test_an_import_goes_after_the_leading_imports_and_never_twice():
    from expreview.sources.python_edits import import_edit

    source = _source('"""Doc."""\nfrom __future__ import annotations\nimport os\n\nX = 1\nimport sys\n')
    edit = import_edit(source, "import json", "json")
    assert edit is not None
    assert apply(source.text, [edit]).splitlines()[:4] == ['"""Doc."""', "from __future__ import annotations",
                                                           "import os", "import json"]
    assert import_edit(_source("import json as json\n"), "import json", "json") is None
    assert import_edit(_source("def open_dict(c):\n    return c\n"), "from omegaconf import open_dict", "open_dict") is None
    no_newline = _source("import os")
    assert apply(no_newline.text, [import_edit(no_newline, "import json", "json")]) == "import os\nimport json\n"


def test_dep002_declares_every_missing_distribution_over_the_rounds():
    pyproject = '[project]\nname = "exp"\nversion = "0.1.0"\ndependencies = [\n    "torch>=2.0",  # the model\n]\n'
    code = "import torch\nimport numpy\nimport pandas\nimport scipy\nimport frobnicate_lab\n"
    result = expreview.fix({"pyproject.toml": pyproject, "src/train.py": code}, stage="base", select=["DEP002"])
    data = tomllib.loads(result.files["pyproject.toml"])
    assert data["project"]["dependencies"] == ["torch>=2.0", "numpy", "pandas", "scipy"]
    assert "# the model" in result.files["pyproject.toml"]
    # the unknown import is left to the reader, with no invented name
    assert [f.message for f in result.report.findings if f.code == "DEP002"][0].startswith("`frobnicate_lab`")


def test_dep002_offers_no_fix_where_the_dependencies_are_not_a_project_list():
    poetry = '[project]\nname = "exp"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\ntorch = "^2.1"\n'
    report = expreview.check({"pyproject.toml": poetry, "src/train.py": "import torch\nimport numpy\n"},
                              stage="base", select=["DEP002"])
    assert [f.code for f in report.findings] == ["DEP002"] and report.findings[0].fix is None


@pytest.mark.parametrize("authors,fixed", [
    ('["Jane Doe <jane@example.org>", { name = "B" }]',
     [{"name": "Jane Doe", "email": "jane@example.org"}, {"name": "B"}]),
    ('["<jane@example.org>"]', [{"email": "jane@example.org"}]),
    ('["Jane Doe, John Roe"]', None),  # two people in one string: not certain
])
def test_string_authors_become_tables_only_when_the_form_is_certain(authors, fixed):
    pyproject = (f'[project]\nname = "exp"\nversion = "0.1.0"\nauthors = {authors}\ndependencies = ["torch"]\n\n'
                 '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n')
    report = expreview.check({"pyproject.toml": pyproject, "src/train.py": "import torch\n"}, stage="base",
                              select=["DEP001"])
    assert [f.code for f in report.findings] == ["DEP001"]
    if fixed is None:
        assert report.findings[0].fix is None
        return
    result = expreview.fix({"pyproject.toml": pyproject, "src/train.py": "import torch\n"}, stage="base",
                           select=["DEP001"])
    assert tomllib.loads(result.files["pyproject.toml"])["project"]["authors"] == fixed
    assert not result.report.findings


def test_poetry_only_dependencies_are_declared_under_project_and_the_poetry_table_stays():
    pyproject = ('[project]\nname = "exp"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\npython = "^3.10"\n'
                 'torch = "^2.1"\nnumpy = { version = ">=1.20" }\n')
    result = expreview.fix({"pyproject.toml": pyproject, "src/train.py": "import torch\nimport numpy\n"},
                           stage="base", select=["DEP001"])
    data = tomllib.loads(result.files["pyproject.toml"])
    assert data["project"]["dependencies"] == ["torch>=2.1,<3", "numpy>=1.20"]
    assert data["tool"]["poetry"]["dependencies"]["torch"] == "^2.1"


def test_out001_rewrites_only_a_print_json_of_data_alone():
    def offered(call: str):
        code = f"from rich.console import Console\n\n\ndef main(metrics):\n    Console().{call}\n"
        report = expreview.check({"src/train.py": code}, stage="base", select=["OUT001"])
        return [f.fix for f in report.findings if f.code == "OUT001"]

    fixes = offered("print_json(data=metrics)")
    assert fixes and fixes[0] is not None and fixes[0].applicability == SAFE
    assert [e.content for e in fixes[0].edits] == ["print(json.dumps(metrics))", "import json\n"]
    assert offered("print_json(data=metrics, indent=4)") == [None]  # the indent is meant: not certain
    assert offered("print(metrics)") == [None]  # a rich print of any object: not JSON for certain


def test_cfg008_fix_puts_the_write_under_open_dict_and_imports_it():
    from expreview.checks.cfg.hydra_examples import GROUP_CONFIG, GROUP_MAIN, RUN

    main = GROUP_MAIN.replace("    return cfg.training.lr\n", "    cfg.optimizer = {}\n    return cfg.run.training.lr\n")
    files = {"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN, "src/main.py": main}
    result = expreview.fix(files, stage="hydra", select=["CFG008"], options={"runs_dir": "config/run"})
    fixed = result.files["src/main.py"]
    assert "from omegaconf import open_dict\n" in fixed
    assert "    with open_dict(cfg):\n        cfg.optimizer = {}\n" in fixed
    assert not [f for f in result.report.findings if f.code == "CFG008"]
    shared = dict(files, **{"src/main.py": main.replace("    cfg.optimizer = {}\n", "    a = 0; cfg.optimizer = {}\n")})
    report = expreview.check(shared, stage="hydra", select=["CFG008"], options={"runs_dir": "config/run"})
    assert [f.fix for f in report.findings if f.code == "CFG008"] == [None]


def test_py003_renames_the_import_only_for_the_calls_inside_the_shadowing_function():
    code = ("from datasets import load_dataset\n\n\ndef load_dataset(cfg):\n    return load_dataset(cfg['name'])\n\n\n"
            "def main(cfg):\n    return load_dataset(cfg)\n")
    result = expreview.fix({"src/preprocess.py": code}, stage="base", select=["PY003"], unsafe=True)
    fixed = result.files["src/preprocess.py"]
    assert "from datasets import load_dataset as datasets_load_dataset\n" in fixed
    assert "    return datasets_load_dataset(cfg['name'])\n" in fixed
    assert "    return load_dataset(cfg)\n" in fixed  # main still calls the local function, as before
    assert expreview.fix({"src/preprocess.py": code}, stage="base", select=["PY003"]).changed == []  # unsafe only
    # no call inside the function: nothing says which calls mean the library
    outside = "from datasets import load_dataset\n\n\ndef load_dataset(cfg):\n    return cfg\n\n\nload_dataset({})\n"
    report = expreview.check({"src/preprocess.py": outside}, stage="base", select=["PY003"])
    assert [f.fix for f in report.findings] == [None]


def test_a_fix_offered_lazily_is_computed_once_on_first_use_and_crosses_to_another_process():
    import pickle

    from expreview.findings import Finding

    calls = []

    def compute():
        calls.append(1)
        return Fix("y", SAFE, (Edit("a.txt", 1, 1, 1, 2, "y"),))

    finding = Finding("AAA001", "error", "a.txt", 1, 1, 1, 2, "x", offer=compute)
    assert calls == []  # a review that prints no fix never computes one
    assert finding.fix is not None and finding.fix.message == "y" and calls == [1]
    copied = pickle.loads(pickle.dumps(Finding("AAA001", "error", "a.txt", 1, 1, 1, 2, "x", offer=compute)))
    assert copied.fix == finding.fix and not callable(copied.offer)
