"""CFG009 against Hydra itself: for the hydra fixture and every one of its variants, compose each run
with hydra-core directly (not through expreview) the way `python -u -m src.main run=<id>
results_dir=<dir> mode=<mode>` does, and check that Hydra fails exactly for the runs that expreview's
CFG009 findings name."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest

from expreview.api import check
from fixture_variants import FIXTURES, read_tree, variant_files, variant_names

pytest.importorskip("hydra")

RUNS_DIR = "config/runs"  # the hydra fixtures are reviewed with no options: the profile's default
CASES = ["good"] + variant_names("hydra")


def fixture_files(name: str) -> dict[str, str]:
    return read_tree(FIXTURES / "hydra" / "good") if name == "good" else variant_files("hydra", name)


def write_configs(files: dict[str, str], tmp: str) -> None:
    """The bundle's config YAML files, under `tmp` as in the repository."""
    for path, text in files.items():
        if path.startswith("config/") and path.endswith((".yaml", ".yml")):
            target = Path(tmp, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")


def hydra_failures(files: dict[str, str]) -> dict[str, str]:
    """run id -> Hydra's error, for each run that Hydra cannot compose in some mode."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    runs = sorted(Path(p).stem for p in files if p.startswith(RUNS_DIR + "/") and p.endswith(".yaml"))
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        write_configs(files, tmp)
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(version_base=None, config_dir=str(Path(tmp, "config"))):
                for run in runs:
                    for mode in ("trial", "full"):
                        try:
                            compose(config_name="config", overrides=[f"run={run}", "results_dir=/tmp/x", f"mode={mode}"])
                        except Exception as exc:  # noqa: BLE001 - any failure stops the run
                            failures.setdefault(run, str(exc).splitlines()[0])
        finally:
            GlobalHydra.instance().clear()
    return failures


def reported_runs(files: dict[str, str]) -> set[str]:
    """The runs that expreview's CFG009 findings name (in backticks before the command)."""
    report = check(files)
    named: set[str] = set()
    for finding in report.findings:
        if finding.code == "CFG009" and finding.severity == "error":
            who = finding.message.split(": `python", 1)[0]
            named.update(re.findall(r"`([^`]+)`", who))
    return named


@pytest.mark.parametrize("name", CASES)
def test_cfg009_names_exactly_the_runs_hydra_cannot_compose(name):
    files = fixture_files(name)
    failures = hydra_failures(files)
    assert reported_runs(files) == set(failures), failures


def test_the_composition_variants_really_fail_in_hydra():
    """The check above is not vacuous: the variants made for CFG009 fail in Hydra, the good fixture not."""
    assert hydra_failures(fixture_files("good")) == {}
    for name in ("defaults-interpolation", "hydra-unknown-key", "run-id-parens", "run-key-and-group"):
        assert hydra_failures(fixture_files(name)), name
    assert set(hydra_failures(fixture_files("run-id-parens"))) == {"comparative-2-mlp-digits (no-smoothing)"}


def composed_with_run(files: dict[str, str], run: str):
    """Hydra's config for `run`, with the run config merged at the root as the fixture's
    load_run_config does (src/main.py), in struct mode as @hydra.main hands it over."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf, open_dict

    with tempfile.TemporaryDirectory() as tmp:
        write_configs(files, tmp)
        GlobalHydra.instance().clear()
        try:
            with initialize_config_dir(version_base=None, config_dir=str(Path(tmp, "config"))):
                cfg = compose(config_name="config", overrides=[f"run={run}", "results_dir=/tmp/x", "mode=full"])
        finally:
            GlobalHydra.instance().clear()
        with open_dict(cfg):
            cfg.merge_with(OmegaConf.load(Path(tmp, RUNS_DIR, f"{run}.yaml")))
    return cfg


@pytest.mark.parametrize("name", CASES)
def test_cfg006_paths_are_missing_in_what_hydra_composes(name):
    """Every path a CFG006 finding names really is missing from the config Hydra composes (plus the
    run config the fixture's code merges), and reading it raises OmegaConf's error."""
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    files = fixture_files(name)
    claims = [f for f in check(files).findings if f.code == "CFG006"]
    runs = sorted(Path(p).stem for p in files if p.startswith(RUNS_DIR + "/") and p.endswith(".yaml"))
    if not claims or not runs:
        return
    for finding in claims:
        path = re.match(r"`cfg\.([\w.]+)`", finding.message).group(1)
        for run in runs:
            node = composed_with_run(files, run)
            with pytest.raises((ConfigAttributeError, ConfigKeyError)):
                for key in path.split("."):
                    node = getattr(node, key)


def test_cfg006_check_is_not_vacuous():
    assert [f for f in check(fixture_files("cfg-path")).findings if f.code == "CFG006"]


def _child_cases():
    from expreview.checks import load
    from expreview.rule import REGISTRY

    load(["CFG009"])
    rule = REGISTRY["CFG009"]
    return [(kind, n, e) for kind, examples in (("invalid", rule.invalid), ("valid", rule.valid))
            for n, e in enumerate(examples) if "src/train.py" in e.files]


@pytest.mark.parametrize("kind, number, example", _child_cases(), ids=lambda v: str(v) if not hasattr(v, "files") else "")
def test_child_override_claims_match_what_hydra_does_with_them(kind, number, example, tmp_path):
    """A main passing `training.epochs=1` to a child @hydra.main: compose the child with real Hydra and
    those overrides (the literal ones), and check that it fails exactly where CFG009 says it will."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from expreview.api import make_bundle
    from expreview.facts.child_overrides import hydra_child_overrides

    bundle = make_bundle(example.files, options=example.options)
    passed = [o.text for o in hydra_child_overrides(bundle) if "{" not in o.text]
    claimed = any("is passed to src/train.py" in f.message for f in check(example.files).findings if f.code == "CFG009")
    assert claimed == (kind == "invalid")
    write_configs(example.files, str(tmp_path))
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(version_base=None, config_dir=str(tmp_path / "config")):
            try:
                compose(config_name="config", overrides=["run=r1", "results_dir=/tmp/x", "mode=trial", *passed])
                failed = False
            except Exception as exc:  # noqa: BLE001 - Hydra's verdict
                failed = "Could not override" in str(exc)
    finally:
        GlobalHydra.instance().clear()
    assert failed == claimed, passed
