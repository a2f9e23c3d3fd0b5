"""CFG011: a config value interpolates a resolver that nothing registers (`${optuna:batch_size}`),
and the code reads that value, or resolves the whole config. OmegaConf raises
UnsupportedInterpolationType the moment the value is resolved.

Registered are OmegaConf's own resolvers and Hydra's (asked of the installed libraries, after
Hydra's `setup_globals`, which a Hydra app runs before main), plus every
`OmegaConf.register_new_resolver("name", …)` of the bundle."""
from __future__ import annotations

import re
from typing import Any, Iterator, Optional

import libcst as cst
import yaml

from expreview.bundle import Bundle
from expreview.checks.cfg.hydra_examples import GROUP_CONFIG
from expreview.facts.hydra_compose import hydra_compositions
from expreview.facts.hydra_config import config_roots, config_uses, root_path
from expreview.facts.run_trees import run_trees
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import string_value

_RESOLVER = re.compile(r"\$\{\s*([A-Za-z_][\w.]*)\s*:")
_REGISTER = ("register_new_resolver", "register_resolver", "legacy_register_resolver")
# Calls that resolve every interpolation of the config they are given.
_RESOLVE_ALL = ("OmegaConf.resolve", "OmegaConf.to_object")
_RESOLVE_IF_ASKED = ("OmegaConf.to_container", "OmegaConf.to_yaml")


def _library_knows(name: str) -> bool:
    """OmegaConf or Hydra registers `name` before a Hydra app's main runs."""
    from hydra.core.utils import setup_globals  # imported only for a bundle whose config interpolates
    from omegaconf import OmegaConf

    setup_globals()  # Hydra's `now`, `hydra`, `python_version`; idempotent (replace=True)
    return bool(OmegaConf.has_resolver(name))


def _bundle_registers(bundle: Bundle) -> Optional[set[str]]:
    """The resolver names the bundle registers; None when one is registered under a name that is
    not a literal (then any name may be registered)."""
    names: set[str] = set()
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in source.index.calls:
            if call.method not in _REGISTER:
                continue
            given = call.positional(0) or call.keyword("name")
            value = string_value(given) if given is not None else None
            if value is None:
                return None
            names.add(value)
    return names


def _leaves(tree: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _leaves(value, path + (str(key),))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _leaves(value, path + (i,))
    elif isinstance(tree, str) and "${" in tree:
        yield path, tree


def _yaml_place(bundle: Bundle, path: tuple, text: str, first: Optional[str]) -> Optional[tuple[str, yaml.Node]]:
    """The YAML entry that writes `text` at (a suffix of) the composed `path`: in the file `first`
    (the run's own config) when it has one, else the longest match in any file."""
    best = None
    for doc in bundle.yaml_files():
        for entry in doc.entries():
            node = entry.node
            if not isinstance(node, yaml.ScalarNode) or node.value != text:
                continue
            keys = tuple(entry.path)
            if not keys or path[-len(keys):] != keys:
                continue
            rank = (doc.path == first, len(keys))
            if best is None or rank > best[2]:
                best = (doc.path, node, rank)
    return (best[0], best[1]) if best else None


_CONFIG_HEAD = re.compile(r"(?i)(^|_)(cfg|conf|config|hparams)$")


def _config_chains(sources: tuple) -> set[tuple[tuple[str, ...], bool]]:
    """(keys, store) of every attribute chain on a name that says it holds a config (`cfg`,
    `self.cfg`, `trial_cfg`): the reads that config_uses cannot root (a config passed on by callers
    that disagree, or rebound by a merge)."""
    out = set()
    for source in sources:
        for attr in source.index.attributes:
            parts = attr.name.split(".")
            if parts[0] == "self" and len(parts) > 1:
                parts = parts[1:]
            if len(parts) > 1 and _CONFIG_HEAD.search(parts[0]):
                out.add((tuple(parts[1:]), attr.store))
    return out


def _chain_at(chains: set[tuple[tuple[str, ...], bool]], path: tuple, store: bool) -> bool:
    """Some config chain reads (or writes) the composed `path`, below the root or below a mount:
    its keys are the last keys of `path`, at least two of them (one key alone says too little)."""
    keys = tuple(str(k) for k in path)
    return any(stored == store and len(chain) >= min(2, len(keys)) and keys[-len(chain):] == chain
               for chain, stored in chains)


@rule(
    code="CFG011", name="config-resolver-unregistered", severity=ERROR, consequence=CRASH,
    criterion="Code is immediately executable: every interpolation the code resolves can be resolved.",
    rationale="`${optuna:batch_size}` asks OmegaConf for a resolver named `optuna`; unless the code registers "
              "one (OmegaConf.register_new_resolver), reading the value raises UnsupportedInterpolationType. "
              "OmegaConf's and Hydra's own resolvers (`oc.env`, `now`, `hydra`, …) are asked of the installed "
              "libraries. Silent for values nothing reads or that the code overwrites before reading, and when "
              "the code registers a resolver under a name that is not a literal.",
    invalid=[Example(files={"src/main.py": """
        import hydra


        @hydra.main(config_path='../config', config_name='config', version_base=None)
        def main(cfg):
            return cfg.run.training.batch_size
        """, "config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": """
        run_id: r1
        training:
          batch_size: ${optuna:batch_size}
        """}, options={"runs_dir": "config/run"}, path="config/run/r1.yaml", line=3, message="`optuna`"),
             # the whole config resolved for WandB
             Example(files={"src/main.py": """
                 import hydra
                 from omegaconf import OmegaConf


                 @hydra.main(config_path='../config', config_name='config', version_base=None)
                 def main(cfg):
                     return OmegaConf.to_container(cfg, resolve=True)
                 """, "config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": """
                 run_id: r1
                 optuna:
                   lr: ${search:loguniform,1e-5,1e-3}
                 """}, options={"runs_dir": "config/run"}, path="config/run/r1.yaml", line=3, message="`search`")],
    valid=[Example(files={"src/main.py": """
        import hydra
        from omegaconf import OmegaConf

        OmegaConf.register_new_resolver('optuna', lambda name: 8)


        @hydra.main(config_path='../config', config_name='config', version_base=None)
        def main(cfg):
            return cfg.run.training.batch_size, cfg.run.out, cfg.run.home
        """, "config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": """
        run_id: r1
        training:
          batch_size: ${optuna:batch_size}
        out: outputs/${now:%Y-%m-%d}
        home: ${oc.env:HOME,/tmp}
        """}, options={"runs_dir": "config/run"}),
           # never read, or overwritten before it is read
           Example(files={"src/main.py": """
               import hydra


               @hydra.main(config_path='../config', config_name='config', version_base=None)
               def main(cfg):
                   cfg.run.training.lr = 0.1
                   return cfg.run.training.lr
               """, "config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": """
               run_id: r1
               training:
                 lr: ${optuna:lr}
                 batch_size: ${optuna:batch_size}
               """}, options={"runs_dir": "config/run"})],
)
def config_resolver_unregistered(bundle: Bundle) -> Iterator[Hit]:
    composed = run_trees(bundle)
    if composed is None:
        return
    # Per run, its composed interpolations, each looked for first in the run's own config file.
    run_paths = {c.run_id: c.run_path for c in composed_runs.compositions} if (composed_runs := hydra_compositions(bundle)) else {}
    found: dict[tuple, tuple[str, Optional[str]]] = {}
    for run_id, trees in sorted(composed.trees.items()):
        for tree in trees:
            for path, text in _leaves(tree):
                found.setdefault((run_id,) + path, (text, run_paths.get(run_id)))
    interpolated = {key: (text, names, where) for key, (text, where) in found.items()
                    if (names := sorted(set(_RESOLVER.findall(text))))}
    if not interpolated:
        return
    registered = _bundle_registers(bundle)
    if registered is None:
        return
    sources = tuple(s for s in bundle.python_files() if s.ok)
    uses = [u for s in sources for u in config_uses(s, sources)]
    written = {u.path for u in uses if u.store}
    read = {u.path for u in uses if not u.store}
    chains = _config_chains(sources)
    resolved_below: list[tuple] = []  # config sub-trees the code resolves whole
    for source in sources:
        roots = config_roots(source, sources)
        for call in source.index.calls:
            asked = call.keyword("resolve")
            resolves = call.qualname.endswith(_RESOLVE_ALL) or call.qualname.endswith(_RESOLVE_IF_ASKED) and \
                isinstance(asked, cst.Name) and asked.value == "True"
            arg = call.positional(0)
            if not resolves or not isinstance(arg, cst.Name):
                continue
            base = root_path(source, arg.value, call.scope, roots)
            if base is not None:
                resolved_below.append(base)
    reported = set()
    for key, (text, names, run_path) in sorted(interpolated.items(), key=lambda item: str(item[0])):
        path = key[1:]
        unknown = [n for n in names if n not in registered and not _library_knows(n)]
        if not unknown or path in written or _chain_at(chains, path, True):
            continue
        how = ("the code reads it" if path in read or _chain_at(chains, path, False) else
               next((f"the code resolves {'the whole config' if not b else '`' + '.'.join(b) + '`'}"
                     for b in resolved_below if path[:len(b)] == b), None))
        if how is None:
            continue
        place = _yaml_place(bundle, path, text, run_path)
        if place is None or id(place[1]) in reported:
            continue
        reported.add(id(place[1]))
        shown = ", ".join(f"`{n}`" for n in unknown)
        yield Hit(place[0], f"`{text}` calls the resolver {shown}, which neither OmegaConf, Hydra nor the code "
                            f"registers, and {how} (`cfg.{'.'.join(map(str, path))}`): OmegaConf raises "
                            f"UnsupportedInterpolationType there. Write the value itself, or register the resolver "
                            f"(OmegaConf.register_new_resolver(\"{unknown[0]}\", …)) before main reads the config",
                  place[1])
