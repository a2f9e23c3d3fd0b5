"""DEP001's hatchling claim against hatchling itself: for each DEP001 example whose project builds
with hatchling, build the editable wheel the way uv does (hatchling.build.build_editable, from the
project's directory) and check that hatchling refuses exactly the projects expreview says it will.
The guards that are uv's (`tool.uv.package = false`) or an older hatchling's (`hatchling<1.19`) are
left out: the installed hatchling would build, or refuse, those regardless."""
from __future__ import annotations

import pytest

from expreview.checks import load
from expreview.api import check
from expreview.rule import REGISTRY

hatchling_build = pytest.importorskip("hatchling.build")
pytest.importorskip("editables")

load(["DEP001"])
CASES = [(kind, n, e) for kind, examples in (("invalid", REGISTRY["DEP001"].invalid), ("valid", REGISTRY["DEP001"].valid))
         for n, e in enumerate(examples)
         if 'build-backend = "hatchling.build"' in e.files.get("pyproject.toml", "")
         and "package = false" not in e.files["pyproject.toml"] and "hatchling<" not in e.files["pyproject.toml"]]


def hatchling_refuses(files: dict[str, str], root, monkeypatch) -> bool:
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (root / "dist").mkdir()
    monkeypatch.chdir(root)
    try:
        hatchling_build.build_editable(str(root / "dist"))
    except ValueError as exc:
        assert "Unable to determine which files to ship" in str(exc)
        return True
    return False


def test_the_cases_hold_both_outcomes():
    assert {kind for kind, _, _ in CASES} == {"invalid", "valid"} and len(CASES) >= 5


@pytest.mark.parametrize("kind, number, example", CASES, ids=[f"{k}-{n}" for k, n, _ in CASES])
def test_hatchling_refuses_exactly_what_dep001_says_it_will(kind, number, example, tmp_path, monkeypatch):
    claimed = any("hatchling" in f.message for f in check(example.files, stage="base").findings if f.code == "DEP001")
    assert claimed == (kind == "invalid")
    assert hatchling_refuses(example.files, tmp_path, monkeypatch) == claimed
