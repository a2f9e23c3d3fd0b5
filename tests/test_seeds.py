"""The reference reviews in ../shared/seeds (skipped where ../shared is absent)."""
from __future__ import annotations

import json

import pytest

from conftest import SEEDS, run_cli


def expected():
    path = SEEDS / "expected.json"
    if not path.is_file():
        pytest.skip("../shared/seeds is not beside this checkout")
    return {k: v for k, v in json.loads(path.read_text()).items() if not k.startswith("_")}


def _matches(f, code, path, line):
    if f["code"] != code or f["path"] != path:
        return False
    return line is None or f["line"] <= line <= max(f["line"], f["end_line"])


@pytest.mark.parametrize("prefix", ["000", "001", "003"])
def test_base_seed(prefix):
    name, exp = next((k, v) for k, v in expected().items() if k.startswith(prefix))
    proc = run_cli("check", str(SEEDS / name), "--format", "json")
    report = json.loads(proc.stdout)
    assert report["stage"] == exp["stage"]
    assert report["ready"] is exp["ready"] and proc.returncode == 1
    findings = report["findings"]
    for kind in ("errors", "warnings"):
        for code, path, line in exp[kind]:
            assert any(_matches(f, code, path, line) for f in findings), f"missing {code} {path}:{line}"
    for code, path, line in exp["absent"]:
        assert not any(_matches(f, code, path, line) for f in findings), f"wrongly reported {code} {path}:{line}"
