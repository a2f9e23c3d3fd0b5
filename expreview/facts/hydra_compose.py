"""What Hydra itself makes of a hydra-stage bundle's config directory, run by run.

Every run config (the files under the profile's `runs_dir`) is composed with hydra-core's compose
API, once per mode, with the overrides `python -u -m src.main run=<id> results_dir=<dir> mode=<mode>`
passes (`trial_mode=true|false` under the `trial_mode` flag). Hydra reads a private temporary copy
of the bundle's YAML files under config/ only: the reviewed code is never imported or run. A config
that names a `hydra.searchpath` or a `pkg://`/`file://` source would make Hydra read outside the
bundle; it is not composed, and the references are returned instead. Interpolations are never
resolved (compose leaves them as written). Hydra is imported here, lazily: only bundles that reach
this fact pay for it.
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Optional

import yaml

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.profiles import load_profile
from expreview.facts.hydra_config import CONFIG, hydra_main_config

MAIN = "src/main.py"
RESULTS_DIR = "/tmp/x"  # a fixed placeholder: the output must not depend on the machine
_MODES = {"mode": ("trial", "full"), "trial_mode": ("true", "false")}


def mode_values(bundle: Bundle) -> tuple[str, ...]:
    """The values the mode flag takes: the stage's `modes` option (role -> value: the template's
    sanity, pilot and full) when it has one, else trial and full (true and false for trial_mode)."""
    modes = bundle.option("modes")
    if isinstance(modes, dict) and modes:
        return tuple(str(v) for v in modes.values())
    return _MODES.get(str(bundle.option("mode_flag", "mode")), _MODES["mode"])
_OUTSIDE = ("pkg://", "file://")


@dataclass(frozen=True)
class Composition:
    """One `compose` call: the run, the mode, the overrides, and Hydra's message when it failed."""
    run_id: str
    run_path: str  # the run config the run id comes from
    mode: str
    overrides: tuple[str, ...]
    error: Optional[str] = None  # Hydra's message (its first line, and the next when that ends with ':')
    kind: Optional[str] = None  # the exception's class name
    full_key: Optional[str] = None  # the config key OmegaConf names (`full_key: hydra.foo`)
    # the composed application config as plain data (interpolations as written, no `hydra` key)
    config: Optional[dict] = field(default=None, compare=False)
    chdir: Optional[bool] = None  # the composed `hydra.job.chdir` (None: Hydra's version default)
    run_dir: Optional[str] = None  # the composed `hydra.run.dir`, unresolved


@dataclass
class Composed:
    compositions: list[Composition] = field(default_factory=list)
    # (path, key node) of config entries that would make Hydra read outside the bundle; when there
    # are any, nothing is composed
    outside: list[tuple[str, yaml.Node, str]] = field(default_factory=list)


def _config_name_ok(bundle: Bundle) -> bool:
    """src/main.py has `@hydra.main(..., config_name="config")`: what the compose call mirrors."""
    source = bundle.python(MAIN)
    found = hydra_main_config(source) if source is not None else None
    return found is not None and found[1] in ("config", "config.yaml")


def _outside_references(bundle: Bundle, paths: list[str]) -> list[tuple[str, yaml.Node, str]]:
    out = []
    for path in paths:
        doc = bundle.yaml(path)
        if doc is None:
            continue
        for entry in doc.entries():
            if entry.path[-2:] == ("hydra", "searchpath"):
                out.append((path, entry.key_node or entry.node, "hydra.searchpath"))
            elif isinstance(entry.node, yaml.ScalarNode) and str(entry.node.value).startswith(_OUTSIDE):
                out.append((path, entry.node, str(entry.node.value)))
    return out


def _message(exc: BaseException, tmp: str) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0]
    if text.endswith(":") and len(lines) > 1:
        text += " " + lines[1]
    return text.replace(tmp + os.sep, "").replace(tmp, "")


def _full_key(exc: BaseException) -> Optional[str]:
    found = re.search(r"full_key: (\S+)", str(exc))
    return found.group(1) if found else None


@bundle_fact
def hydra_compositions(bundle: Bundle) -> Optional[Composed]:
    """Each run config composed in each mode; None when the bundle is not composed at all (a stage
    whose profile does not ask for `compose: hydra`, no config/config.yaml, no `@hydra.main(config_name="config")` in src/main.py, a
    config YAML that does not parse: CFG001 reports that)."""
    if bundle.stage is None or not load_profile(bundle.stage).compose or not bundle.has(CONFIG) \
            or not _config_name_ok(bundle):
        return None
    paths = [p for p in bundle.paths() if p.startswith("config/") and p.endswith((".yaml", ".yml"))
             and ".." not in p.split("/") and p not in bundle.unreadable]
    for path in paths:
        doc = bundle.yaml(path)
        if doc is None or doc.problem is not None:
            return None
    result = Composed(outside=_outside_references(bundle, paths))
    if result.outside:
        return result
    runs_dir = str(bundle.option("runs_dir", "config/runs")).rstrip("/")
    runs = [(posixpath_stem(p), p) for p in paths if p.startswith(runs_dir + "/") and "/" not in p[len(runs_dir) + 1:]]
    if not runs:
        return result
    flag = str(bundle.option("mode_flag", "mode"))
    modes = mode_values(bundle)
    # The overrides of a key that is not a config group only set a value: when neither `run` nor the
    # mode flag names a group (config/run/, config/<flag>/), every run composes as the first one does
    # but for those values, so Hydra composes once and the others are derived from it; only parsing
    # each run's overrides (a run id Hydra cannot parse fails on its own) is done per run.
    values_only = not any(p.startswith((f"config/{flag}/", "config/run/")) for p in paths)

    # Imported here: hydra costs about 0.15 s to import, and only Hydra bundles with run configs need it
    # (tempfile too: with shutil and random it is 3 ms of every cold start).
    import tempfile

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    with tempfile.TemporaryDirectory(prefix="expreview-hydra-") as tmp:
        for path in paths:
            target = os.path.join(tmp, *path.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(bundle.files[path])
        config_dir = os.path.join(tmp, "config")
        GlobalHydra.instance().clear()
        try:
            with warnings.catch_warnings(), initialize_config_dir(version_base=None, config_dir=config_dir, job_name="expreview"):
                warnings.simplefilter("ignore")
                parser = OverridesParser.create()
                base: Optional[Composition] = None
                for run_id, run_path in runs:
                    for mode in modes:
                        overrides = (f"run={run_id}", f"results_dir={RESULTS_DIR}", f"{flag}={mode}")
                        if values_only:
                            try:
                                values = {o.key_or_group: o.value() for o in parser.parse_overrides(list(overrides))}
                            except HydraException as exc:
                                result.compositions.append(Composition(run_id, run_path, mode, overrides,
                                                                       _message(exc, tmp), type(exc).__name__))
                                continue
                            if base is not None:
                                result.compositions.append(_derived(base, run_id, run_path, mode, overrides, values))
                                continue
                        try:
                            cfg = compose(config_name="config", overrides=list(overrides), return_hydra_config=True)
                        except (HydraException, OmegaConfBaseException) as exc:
                            composition = Composition(run_id, run_path, mode, overrides, _message(exc, tmp),
                                                      type(exc).__name__, _full_key(exc))
                        except Exception:  # noqa: BLE001 - not Hydra's verdict (a YAML error: CFG001)
                            return None
                        else:
                            composition = _composed(run_id, run_path, mode, overrides, cfg)
                        base = composition
                        result.compositions.append(composition)
        finally:
            GlobalHydra.instance().clear()
    return result


def _composed(run_id: str, run_path: str, mode: str, overrides: tuple[str, ...], cfg) -> Composition:
    from omegaconf import OmegaConf

    data = OmegaConf.to_container(cfg, resolve=False)
    assert isinstance(data, dict)
    hydra = data.pop("hydra", None) or {}
    job, run = hydra.get("job") or {}, hydra.get("run") or {}
    chdir = job.get("chdir") if isinstance(job.get("chdir"), bool) else None
    run_dir = run.get("dir") if isinstance(run.get("dir"), str) else None
    return Composition(run_id, run_path, mode, overrides, config=data, chdir=chdir, run_dir=run_dir)


def _derived(base: Composition, run_id: str, run_path: str, mode: str, overrides: tuple[str, ...],
             values: dict) -> Composition:
    """`base` composed with other values for its value-only overrides (`run`, `results_dir`, the mode)."""
    config = None
    if base.config is not None:
        config = dict(base.config)
        config.update(values)
    return Composition(run_id, run_path, mode, overrides, base.error, base.kind, base.full_key,
                       config, base.chdir, base.run_dir)


def posixpath_stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0]
