"""The config each run's code sees: what Hydra composes for the run (facts.hydra_compose: the
defaults list, the group mount, `# @package`), plus the run config that the code loads itself and
merges (`OmegaConf.merge(cfg, OmegaConf.load(...))`, `cfg.merge_with(run_cfg)`), at the place it
merges it. Hydra answers the first part; the second is the one thing Hydra cannot know, so it is
read from the code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.facts.hydra_compose import hydra_compositions
from expreview.facts.hydra_config import CONFIG_NAMES, config_roots, merge_call, root_path
from expreview.facts.values import resolve
from expreview.sources.index import dotted_name
from expreview.sources.pyfile import PythonSource

_LOADS = ("OmegaConf.load", "yaml.safe_load", "yaml.load", "yaml.full_load")


@dataclass(frozen=True)
class RunTrees:
    """Per run id, the config in each mode as the code sees it; `mounts` are the places where the
    code merges a config file it loads itself (() is the root)."""
    trees: dict[str, list[dict]]
    mounts: frozenset[tuple[str, ...]]

    def all(self) -> list[dict]:
        return [tree for trees in self.trees.values() for tree in trees]


def _is_load(source: PythonSource, expr: cst.CSTNode, scope, depth: int = 0) -> bool:
    """`expr` is (or names a value that is) a config file loaded by the code."""
    value = resolve(source.index, expr, scope)
    if isinstance(value, cst.Call):
        name = dotted_name(value.func)
        if name.endswith(_LOADS):
            return True
        if name.endswith(("OmegaConf.create", "OmegaConf.merge", "DictConfig")) and depth < 3:
            return any(_is_load(source, arg.value, scope, depth + 1) for arg in value.args)
    return False


def code_mounts(bundle: Bundle) -> frozenset[tuple[str, ...]]:
    """Where the code merges a config file it loads itself; a loaded file assigned to a config key
    (`cfg.run = OmegaConf.load(...)`) is that key's write, which CFG006 counts as a definition."""
    sources = tuple(s for s in bundle.python_files() if s.ok)
    mounts: set[tuple[str, ...]] = set()
    for source in sources:
        roots = config_roots(source, sources)
        for call in source.index.calls:
            merge = merge_call(call)
            if merge is None:
                continue
            target, values = merge
            if not any(_is_load(source, value, call.scope) for value in values):
                continue
            parts = target.split(".")
            base = root_path(source, parts[0], call.scope, roots)
            if base is None and parts[0] in CONFIG_NAMES:
                base = ()  # a config-named local that the code rebinds: the root, as written
            if base is not None:
                mounts.add(base + tuple(parts[1:]))
    return frozenset(mounts)


def _merged(tree: dict, other: Any) -> dict:
    """`other` merged into `tree` as OmegaConf merges, without changing either: only the dicts on
    the changed paths are new, the rest is shared (the trees are read, never written)."""
    if not isinstance(other, dict):
        return tree
    out = dict(tree)
    for key, value in other.items():
        current = out.get(key)
        out[key] = _merged(current, value) if isinstance(value, dict) and isinstance(current, dict) else value
    return out


def _mounted(tree: dict, mount: tuple[str, ...], data: Any) -> dict:
    if not mount:
        return _merged(tree, data)
    child = tree.get(mount[0])
    return {**tree, mount[0]: _mounted(child if isinstance(child, dict) else {}, mount[1:], data)}


@bundle_fact
def run_trees(bundle: Bundle) -> Optional[RunTrees]:
    """None when Hydra did not compose the bundle (facts.hydra_compose says when); the runs that
    Hydra cannot compose (CFG009) have no tree."""
    composed = hydra_compositions(bundle)
    if composed is None or composed.outside or not composed.compositions:
        return None
    mounts = code_mounts(bundle)
    trees: dict[str, list[dict]] = {}
    for composition in composed.compositions:
        if composition.config is None:
            continue
        tree = composition.config
        doc = bundle.yaml(composition.run_path)
        data = doc.data if doc is not None else None
        for mount in sorted(mounts):
            tree = _mounted(tree, mount, data)
        trees.setdefault(composition.run_id, []).append(tree)
    if not trees:
        return None
    return RunTrees(trees, mounts)
