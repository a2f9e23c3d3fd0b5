"""DEP001's pre-compiled validate-pyproject validator: the library's own output, and it judges
as the library does."""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from expreview.checks.dep import make_pyproject_validator
from expreview.checks.dep.pyproject import pyproject_validator

SHIPPED = make_pyproject_validator.OUTPUT


def test_the_shipped_files_regenerate_from_the_installed_library(tmp_path):
    recorded = (SHIPPED / make_pyproject_validator.VERSION_FILE).read_text().split()[-1]
    installed = metadata.version("validate-pyproject")
    if installed != recorded:
        pytest.skip(f"validate-pyproject {installed} is installed; the shipped validator is from {recorded}")
    make_pyproject_validator.generate(tmp_path)
    assert make_pyproject_validator.differences(tmp_path, SHIPPED) == []


@pytest.mark.parametrize("data", [
    {"project": {"name": "x", "version": "1", "dependencies": {"torch": "*"}}},
    {"project": {"name": "x", "version": "1", "authors": "Jane"}},
    {"project": {"name": "bad name!", "version": "1"}},
    {"project": {"name": "x", "version": "1", "requires-python": ">=3.10", "license": 3}},
    {"project": {"name": "x", "version": "1", "dependencies": ["torch>=2"], "unknown": 1}},
    {"project": {"name": "x", "version": "1", "dependencies": ["torch>=2"]}},
    {"build-system": {"requires": "setuptools"}, "project": {"name": "x", "version": "1"}},
])
def test_it_judges_as_the_library_does(data):
    from validate_pyproject import api
    from validate_pyproject.errors import ValidationError as LibraryError

    from expreview.checks.dep.pyproject_validator import ValidationError

    def outcome(validate, error):
        try:
            validate(data)
        except error as exc:
            return exc.name, exc.message
        return None

    assert outcome(pyproject_validator(), ValidationError) == outcome(api.Validator(plugins=[]), LibraryError)


def test_a_base_review_does_not_compile_a_schema():
    import subprocess
    import sys

    probe = ("import sys, expreview\n"
             "files = {p: open(p).read() for p in ('pyproject.toml', 'src/main.py')}\n"
             "expreview.check(files, stage='base')\n"
             "print('fastjsonschema' in sys.modules, 'validate_pyproject' in sys.modules)\n")
    root = Path(__file__).resolve().parents[1] / "fixtures" / "base" / "good"
    out = subprocess.run([sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
