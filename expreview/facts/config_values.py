"""What a config path the code reads (`cfg.training.batch_size`, `self.cfg.dataset.name`) holds in
every run: read from the configs Hydra composes (facts.run_trees), else config.yaml merged with the
run configs. Two rule families ask it: DATA001 (a DataLoader's batch size) and DATA002 (the dataset
a run loads)."""
from __future__ import annotations

from typing import Any, Optional

from expreview.bundle import Bundle
from expreview.facts.hydra_config import CONFIG_NAMES, base_config, config_roots, merged_configs, root_path
from expreview.sources.index import Function
from expreview.sources.pyfile import PythonSource


def config_values(bundle: Bundle, source: PythonSource, name: str, scope: Optional[Function]) -> Optional[set]:
    """The values of a config path (`cfg.training.batch_size`, `self.cfg.…`) in every run's config."""
    parts = name.split(".")
    if parts[0] == "self":
        parts = parts[1:]
    if not parts:
        return None
    base = root_path(source, parts[0], scope, config_roots(source, tuple(bundle.python_files())))
    if base is None and parts[0] not in CONFIG_NAMES:
        return None
    path = (base or ()) + tuple(parts[1:])
    if base_config(bundle) is None:
        return None  # no config.yaml: nothing for Hydra to compose, and no reason to import it
    from expreview.facts.run_trees import run_trees  # Hydra's composition, only where there is a config

    composed = run_trees(bundle)
    trees = composed.all() if composed is not None else merged_configs(bundle)
    values = set()
    for tree in trees:
        node: Any = tree
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            return None
        values.add(node)
    return values or None
