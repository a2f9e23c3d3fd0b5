"""The package type-checks: mypy, with the settings in pyproject.toml, reports no error."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_mypy_reports_no_error():
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert "No module named mypy" not in proc.stderr, "mypy is part of the test extras: pip install '.[test]'"
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
