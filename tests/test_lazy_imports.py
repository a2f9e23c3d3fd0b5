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
