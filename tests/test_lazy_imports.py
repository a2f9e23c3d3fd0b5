"""A cold start loads what the review needs and no more: a base-stage review never imports Hydra,
OmegaConf, validate-pyproject's schema compiler, importlib.metadata (no plugin is declared), a
process pool, or the families its stage does not run; and the process exits without tearing the
interpreter down, yet loses no output."""
from __future__ import annotations

import json
import subprocess
import sys

from conftest import FIXTURES

NOT_FOR_A_BASE_REVIEW = [
    "hydra", "omegaconf", "fastjsonschema", "validate_pyproject", "importlib.metadata", "concurrent.futures",
    "multiprocessing", "tempfile", "hashlib", "difflib",
    "expreview.checks.hyd", "expreview.checks.wb", "expreview.checks.eval", "expreview.checks.drv",
    # within the families a base review does run, the modules of the rules it does not
    "expreview.checks.cfg.composition", "expreview.checks.cfg.config_paths", "expreview.checks.cfg.struct_writes",
    "expreview.checks.run.hydra_cwd", "expreview.checks.tpl.dockerfile", "expreview.facts.hydra_compose",
]

# click's own main, not click.testing (which imports tempfile); the report goes to a file
PROBE = """
import io, json, sys
import expreview.cli
report = sys.argv.pop()
sys.stdout = io.StringIO()
try:
    expreview.cli.main(sys.argv[1:], standalone_mode=False)
    code = 0
except SystemExit as exc:
    code = exc.code
loaded = sorted(m for m in %r if m in sys.modules)
open(report, "w").write(json.dumps({"exit": code, "loaded": loaded}))
""" % (NOT_FOR_A_BASE_REVIEW,)


def probe(*args: str) -> dict:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run([sys.executable, "-c", PROBE, *args, str(report)], capture_output=True,
                       text=True, timeout=120, check=True)
        return json.loads(report.read_text())


def test_a_base_review_imports_nothing_it_does_not_need():
    found = probe("check", str(FIXTURES / "base" / "good"), "--stage", "base", "--format", "json")
    assert found == {"exit": 0, "loaded": []}


def test_the_probe_sees_what_a_hydra_review_loads():
    # the guard of the test above: the same probe on a Hydra bundle does see Hydra and its families
    found = probe("check", str(FIXTURES / "hydra" / "good"), "--stage", "hydra", "--format", "json")
    assert {"hydra", "omegaconf", "expreview.checks.hyd", "expreview.checks.wb"} <= set(found["loaded"])


def test_listing_the_rules_still_loads_every_family():
    from conftest import run_cli
    from expreview.rule import REGISTRY

    listed = [line.split()[0] for line in run_cli("rules").stdout.splitlines()]
    assert set(REGISTRY) <= set(listed)


def test_the_fast_exit_flushes_large_output(tmp_path):
    from conftest import run_cli

    big = run_cli("docs")  # the whole rule reference through a pipe
    assert big.returncode == 0 and big.stdout.count("\n") > 500 and big.stdout.rstrip().endswith("|")
    proc = run_cli("check", str(FIXTURES / "base" / "good"), "--stage", "base", "--format", "sarif")
    assert proc.returncode == 0 and json.loads(proc.stdout)["runs"][0]["tool"]["driver"]["rules"]
    usage = run_cli("check", "--format", "nope")
    assert usage.returncode == 2 and "nope" in usage.stderr


CONSOLE_PROBE = """
import gc, sys
import expreview
lazy = "expreview.api" not in sys.modules and "libcst" not in sys.modules
from expreview import review, ReviewError  # imported on first use
import expreview.cli
seen = []
expreview.cli.run = lambda: seen.append((gc.isenabled(), gc.get_freeze_count() > 0))
from expreview.console import main
main()
print(lazy, review.__module__, ReviewError.__module__, seen)
"""


def test_the_console_entry_turns_the_collector_off_before_importing_the_rest():
    proc = subprocess.run([sys.executable, "-c", CONSOLE_PROBE], capture_output=True, text=True, timeout=120)
    assert proc.stdout.split() == ["True", "expreview.api", "expreview.errors", "[(False,", "True)]"], proc.stderr


def test_the_package_names_an_unknown_attribute():
    import pytest

    import expreview

    with pytest.raises(AttributeError, match="no_such_name"):
        expreview.no_such_name  # noqa: B018
    assert set(expreview.__all__) <= set(dir(expreview))


def test_an_input_reviewed_in_turn_first_collects_what_the_previous_one_left(monkeypatch):
    import gc
    import weakref

    from expreview.jobs import Job, review_in_turn

    class Cycle:
        pass

    enabled = gc.isenabled()
    gc.disable()
    try:
        left = Cycle()
        left.me = left  # only the cyclic collector frees it
        gone = weakref.ref(left)
        del left
        result = review_in_turn(Job(str(FIXTURES / "base" / "good"), "good", "base", "--stage", {}, [], [], {}))
        assert gone() is None and result.report is not None
    finally:
        if enabled:
            gc.enable()


def test_the_rule_module_table_is_what_the_modules_register():
    from expreview import checks
    from expreview.rule import REGISTRY

    checks.load_all()
    built_in = {code: rule.check.__module__ for code, rule in REGISTRY.items()
                if rule.check.__module__.startswith("expreview.checks.")}
    assert {code: f"expreview.checks.{module}" for code, module in checks.RULE_MODULES.items()} == built_in


def test_loading_a_rule_imports_its_module_and_not_its_familys_others():
    code = ("import sys\nfrom expreview import checks\nfrom expreview.rule import REGISTRY\n"
            "checks.load(['CFG003'])\nprint('CFG003' in REGISTRY, 'CFG009' in REGISTRY, "
            "'expreview.checks.cfg.composition' in sys.modules)\n"
            "checks.load(['HYD'])\nprint(sorted(c for c in REGISTRY if c.startswith('HYD')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.stdout.splitlines() == [
        "True False False", str(sorted(c for c in __import__("expreview.checks", fromlist=["RULE_MODULES"]).RULE_MODULES
                                    if c.startswith("HYD")))], proc.stderr
