"""CFG: the Hydra config against the code: every `cfg.a.b` path exists in config.yaml merged with
the run configs, and nothing adds keys to the struct config outside open_dict (CFG006, CFG008)."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.hydra_config import (base_config, config_roots, config_uses, exists, in_ranges,
                                          merged_configs, open_dict_statements, root_path, run_configs,
                                          struct_lifted)
from expreview.facts.values import resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, dotted_name, string_value
from expreview.sources.pyfile import PythonSource


_HYDRA_CONFIG = "defaults:\n  - _self_\nmode: full\nwandb:\n  entity: e\n  project: p\ntraining:\n  epochs: 2\n"
_RUN = "run_id: r1\nmethod: proposed\nmodel:\n  name: mlp\ndataset:\n  name: digits\ntraining:\n  lr: 0.01\noptuna:\n  n_trials: 0\nevaluation:\n  interval_steps: 10\n"
_HYDRA_TRAIN = (
    "import hydra\nfrom omegaconf import DictConfig, OmegaConf, open_dict\n\n\n"
    "@hydra.main(config_path='../config', config_name='config', version_base=None)\n"
    "def main(cfg: DictConfig):\n    run_cfg = OmegaConf.load(f'config/runs/{cfg.run}.yaml')\n"
    "    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n"
    "    return cfg.evaluation.interval_steps, cfg.training.lr\n"
)


def _guard_keys(source: PythonSource) -> set[str]:
    """Keys the code tests for before using (`"x" in cfg`, hasattr, .get, OmegaConf.select)."""
    keys = set()
    index = source.index
    for s in index.strings:
        if id(s.node) in index.compared:
            keys.add(s.value)
    for call in index.calls:
        if call.name in ("hasattr", "getattr") or call.name.endswith((".get", "select")):
            for arg in call.node.args:
                value = string_value(arg.value)
                if value is not None:
                    keys.update(value.split("."))
    return keys


def _first_missing(trees: list[dict], path: tuple[str, ...]) -> int:
    """Index of the first key of `path` that no tree has."""
    for i in range(1, len(path) + 1):
        if not any(exists(t, path[:i]) for t in trees):
            return i - 1
    return len(path)


@rule(
    code="CFG006", name="config-path-missing", severity=ERROR,
    consequence=CRASH,
    criterion="All parameters are loaded from run configs dynamically: every `cfg.a.b.c` path the "
              "code uses exists in config/config.yaml merged with the run configs.",
    rationale="OmegaConf raises ConfigAttributeError on a missing key the moment the line runs "
              "(seed 004: `cfg.training.evaluation.interval_steps`, where `evaluation` is top level).",
    invalid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN,
                            "src/train.py": _HYDRA_TRAIN.replace("cfg.evaluation.interval_steps", "cfg.training.evaluation.interval_steps")})],
    valid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN, "src/train.py": _HYDRA_TRAIN})],
)
def config_path_missing(bundle: Bundle) -> Iterator[Hit]:
    if base_config(bundle) is None:
        return
    trees = merged_configs(bundle)
    sources = tuple(s for s in bundle.python_files() if s.ok)
    uses = [u for source in sources for u in config_uses(source, sources)]
    # A write defines its key when its parent exists (under open_dict or not: CFG008 judges that).
    defined = {u.path for u in uses if u.store and u.path and any(exists(t, u.path[:-1]) for t in trees)}
    reported = set()
    for use in uses:
        path = use.path[:-1] if use.store else use.path
        if not path or any(exists(t, path) for t in trees):
            continue
        if any(path[:len(d)] == d for d in defined):
            continue
        missing = _first_missing(trees, path)
        if path[missing] in _guard_keys(use.source):
            continue
        key = (use.source.path, path)
        if key in reported:
            continue
        reported.add(key)
        parent = ".".join(path[:missing]) or "the config root"
        yield Hit(use.source.path, f"`cfg.{'.'.join(use.path)}`: there is no `{path[missing]}` under {parent} in "
                                   "config/config.yaml merged with the run configs, so OmegaConf raises "
                                   "ConfigAttributeError here; use the path where the key really is", use.node)


@rule(
    code="CFG008", name="struct-merge-new-key", severity=ERROR,
    consequence=CRASH,
    criterion="Proper configuration structure: code does not add keys to Hydra's struct config "
              "(OmegaConf.merge/update or assignment) without open_dict or set_struct(False).",
    rationale="@hydra.main hands over a struct config; merging a run config with keys it lacks "
              "raises `Key 'run_id' is not in struct` before training starts (seed 004).",
    invalid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN,
                            "src/train.py": _HYDRA_TRAIN.replace("    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n",
                                                                 "    cfg = OmegaConf.merge(cfg, run_cfg)\n")})],
    valid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN, "src/train.py": _HYDRA_TRAIN})],
)
def struct_merge_new_key(bundle: Bundle) -> Iterator[Hit]:
    base = base_config(bundle)
    if base is None:
        return
    run_keys: list[str] = []  # in file order: OmegaConf names the first new key it meets
    for _, run in run_configs(bundle):
        run_keys += [k for k in run if k not in run_keys]
    sources = tuple(s for s in bundle.python_files() if s.ok)
    for source in sources:
        if struct_lifted(source):
            continue
        lifted = open_dict_statements(source)
        roots = config_roots(source, sources)
        index = source.index
        for call in index.calls:
            if in_ranges(call.stmt, lifted):
                continue
            if call.name.endswith("OmegaConf.merge") and len(call.node.args) >= 2:
                target = dotted_name(call.node.args[0].value)
                if not target:
                    continue
                base_path = root_path(source, target.split(".")[0], call.scope, roots)
                if base_path is None:
                    continue
                base_path += tuple(target.split(".")[1:])
                added: list[str] = []
                for arg in call.node.args[1:]:
                    added += [k for k in _merged_keys(source, arg.value, call.scope, run_keys) if k not in added]
                node = base
                for step in base_path:
                    node = node.get(step, {}) if isinstance(node, dict) else {}
                new = [k for k in added if not (isinstance(node, dict) and k in node)]
                if new:
                    yield Hit(source.path, f"merges keys that Hydra's struct config does not have ({', '.join(new[:5])}"
                                           f"{', …' if len(new) > 5 else ''}), which raises `Key '{new[0]}' is not in "
                                           "struct`; merge inside `with open_dict(cfg):` or add the keys to "
                                           "config/config.yaml", call.node)
            elif call.name.endswith("OmegaConf.update") and len(call.node.args) >= 2:
                if call.keyword("force_add") is not None:
                    continue
                key = string_value(call.node.args[1].value)
                target = dotted_name(call.node.args[0].value)
                if key is None or not target or root_path(source, target.split(".")[0], call.scope, roots) is None:
                    continue
                if not exists(base, tuple(key.split("."))) and key.split(".")[0] not in set(run_keys):
                    yield Hit(source.path, f"`OmegaConf.update(…, {key!r})` adds a key that the struct config does not "
                                           "have; pass force_add=True or use open_dict", call.node)
        trees = merged_configs(bundle)
        for use in config_uses(source, sources):
            if not use.store or not use.path or in_ranges(index.stmt_of.get(id(use.node), -1), lifted):
                continue
            parent = use.path[:-1]
            if any(exists(t, parent) for t in trees) and not any(exists(t, use.path) for t in trees):
                yield Hit(source.path, f"assigns `cfg.{'.'.join(use.path)}`, a key the struct config does not have; "
                                       "wrap the assignment in `with open_dict(cfg):`", use.node)


def _merged_keys(source: PythonSource, expr: cst.CSTNode, scope: Optional[Function],
                 run_keys: list[str]) -> list[str]:
    value = resolve(source.index, expr, scope)
    if isinstance(value, cst.Dict):
        keys = (string_value(e.key) for e in value.elements if isinstance(e, cst.DictElement))
        return [k for k in keys if k]
    if isinstance(value, cst.Call) and dotted_name(value.func).endswith(("OmegaConf.load", "OmegaConf.create")):
        return list(run_keys)
    return []
