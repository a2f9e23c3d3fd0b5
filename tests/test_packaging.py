"""The wheel holds every package of the source tree and the data files the review reads."""
from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from conftest import REPO


def setuptools_table() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_directory_is_listed():
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "expreview").rglob("__init__.py")}
    listed = set(setuptools_table()["packages"])
    assert found - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == {"expreview.profiles"}  # rules/, mapped through package-dir


def test_data_files_are_package_data():
    data = setuptools_table()["package-data"]
    assert data["expreview.profiles"] == ["*.yaml"] and any((REPO / "rules").glob("*.yaml"))
    for package, patterns in data.items():
        if package == "expreview.profiles":
            continue
        root = REPO.joinpath(*package.split("."))
        assert all(list(root.glob(p)) for p in patterns), (package, patterns)
