"""The API snapshot PY008 reads: made from the real packages, shipped byte-stable, loaded lazily."""
from __future__ import annotations

from importlib import metadata, resources

import pytest
from packaging.version import Version

from expreview.api import make_bundle
from expreview.checks.py import make_api_snapshot
from expreview.facts import api_snapshot
from expreview.facts.api_versions import allows_earlier_series
from expreview.rule import REGISTRY

PYPROJECT = '[project]\nname = "exp"\nversion = "0.1.0"\ndependencies = [{}]\n'


def _project(*requirements: str) -> str:
    return PYPROJECT.format(", ".join(f'"{r}"' for r in requirements))


def _shipped() -> api_snapshot.ApiSnapshot:
    snapshot = api_snapshot.load()
    assert snapshot is not None, "api_snapshot.pack is not shipped"
    return snapshot


def test_omegaconf_regenerates_as_shipped():
    omegaconf = pytest.importorskip("omegaconf")
    snapshot = _shipped()
    recorded = snapshot.version("omegaconf")
    if recorded is None or metadata.version("omegaconf") != recorded:
        pytest.skip(f"omegaconf {metadata.version('omegaconf')} is installed, the snapshot has {recorded}")
    part = make_api_snapshot.snapshot_roots(["omegaconf"], "omegaconf")
    assert part["modules"]["omegaconf"] == snapshot.module("omegaconf")
    key = make_api_snapshot.type_key(omegaconf.OmegaConf)
    assert key == snapshot.module("omegaconf")["classes"]["OmegaConf"]
    assert part["types"][key] == snapshot.type_entry(key)
    assert make_api_snapshot.type_entry(omegaconf.OmegaConf) == snapshot.type_entry(key)
    attrs = snapshot.class_attrs(key)
    assert attrs is not None and {"create", "to_container", "merge", "__init__"} <= attrs and "deepcopy" not in attrs


def test_the_snapshot_loads_and_records_its_versions():
    snapshot = _shipped()
    data = snapshot.meta
    assert data["format"] == make_api_snapshot.FORMAT and data["python"]
    versions = snapshot.versions
    assert {"hydra-core", "omegaconf", "torch", "numpy"} <= set(versions)
    for name, version in versions.items():
        Version(version)  # a real version string
        assert name in make_api_snapshot.DISTRIBUTIONS or name.replace("-", "_") in make_api_snapshot.DISTRIBUTIONS
    assert snapshot.distribution("sklearn") == "scikit-learn" and snapshot.distribution("hydra.utils") == "hydra-core"
    assert set(data["missing"]).isdisjoint(versions)
    # sorted, compact, no timestamp: encoding what was loaded gives the shipped bytes back
    raw = resources.files(api_snapshot.SNAPSHOT_PACKAGE).joinpath(api_snapshot.SNAPSHOT_FILE).read_bytes()
    assert make_api_snapshot.encode(snapshot.everything()) == raw


def test_a_lookup_decompresses_only_the_buckets_it_needs():
    snapshot = api_snapshot.read(
        resources.files(api_snapshot.SNAPSHOT_PACKAGE).joinpath(api_snapshot.SNAPSHOT_FILE).read_bytes())
    assert snapshot.lookup("omegaconf.OmegaConf.deepcopy").kind == api_snapshot.MISSING
    loaded = set(snapshot._buckets)
    assert loaded and all(name.split(".")[0] in ("omegaconf", "builtins", "typing", "abc") for name in loaded), loaded
    assert len(loaded) < 20


def test_lookups_follow_modules_and_classes_only():
    snapshot = _shipped()
    assert snapshot.lookup("hydra.utils.get_original_cwd").kind == api_snapshot.OTHER
    missing = snapshot.lookup("hydra.utils.get_original_cli_args")
    assert (missing.kind, missing.owner, missing.name) == (api_snapshot.MISSING, "hydra.utils", "get_original_cli_args")
    assert snapshot.lookup("omegaconf.OmegaConf.deepcopy").kind == api_snapshot.MISSING
    assert snapshot.lookup("omegaconf.OmegaConf.create.anything").kind == api_snapshot.OTHER  # a function: not followed
    assert snapshot.lookup("torch.nn.Module.anything").kind == api_snapshot.UNKNOWN  # nn.Module has __getattr__
    assert snapshot.lookup("no_such_library.x").kind == api_snapshot.UNKNOWN


def _run(files: dict[str, str]):
    return REGISTRY["PY008"].run(make_bundle(files, stage="hydra"))


def test_py008_reports_the_missing_hydra_name_only():
    findings = _run({
        "src/main.py": "from hydra.utils import get_original_cli_args, get_original_cwd\n\n"
                       "ARGS = get_original_cli_args()\nCWD = get_original_cwd()\n",
        "pyproject.toml": _project("hydra-core>=1.3", "omegaconf>=2.3"),
    })
    assert [(f.line, f.severity) for f in findings] == [(1, "error")]
    assert "get_original_cli_args" in findings[0].message and "get_original_cwd" not in findings[0].message
    assert "`hydra-core>=1.3` allows" in findings[0].message


@pytest.mark.parametrize("requirement,reported", [
    ("numpy>=2.0", True), ("numpy==2.4.6", True), ("numpy~=2.0", True), ("numpy>=1.0,!=1.*", True),
    ("numpy>=1.20", False), ("numpy", False), ("numpy>1.99", False), ("numpy>=2,<2.3", False),
])
def test_the_declared_range_decides(requirement, reported):
    snapshot = _shipped()
    if not snapshot.version("numpy") or not snapshot.version("numpy").startswith("2.4"):
        pytest.skip("the cases are written for a numpy 2.4 snapshot")
    findings = _run({"src/train.py": "import numpy as np\n\nDTYPE = np.float_\n", "pyproject.toml": _project(requirement)})
    assert bool(findings) is reported, [f.message for f in findings]


def test_a_0x_minor_is_a_series():
    snapshot = _shipped()
    version = Version(snapshot.version("wandb") or "0")
    if version.major != 0 or version.minor < 2:
        pytest.skip("written for a 0.x wandb snapshot")
    earlier = _run({"src/train.py": "import wandb\nwandb.no_such_call()\n", "pyproject.toml": _project("wandb>=0.1")})
    same = _run({"src/train.py": "import wandb\nwandb.no_such_call()\n",
                 "pyproject.toml": _project(f"wandb>={version.major}.{version.minor}")})
    assert not earlier and len(same) == 1


def test_the_snapshot_is_read_only_for_a_bundle_that_imports_a_library():
    api_snapshot.load.cache_clear()
    assert not _run({"src/train.py": "import os\nimport json\n\nprint(os.sep, json.dumps({}))\n"})
    assert api_snapshot.load.cache_info().misses == 0
    _run({"src/train.py": "import numpy as np\n"})
    assert api_snapshot.load.cache_info().misses == 1


def test_the_earlier_series_probe():
    two = Version("2.13.0")
    from packaging.specifiers import SpecifierSet
    assert not allows_earlier_series(SpecifierSet(">=2.0"), two)
    assert allows_earlier_series(SpecifierSet(">=1.9"), two)
    assert allows_earlier_series(SpecifierSet(""), two)
    assert not allows_earlier_series(SpecifierSet(">=0.31"), Version("0.31.0"))
    assert allows_earlier_series(SpecifierSet(">=0.15"), Version("0.31.0"))
