"""CFG010: two runs whose configs, as the code sees them (Hydra's composition plus what the code
merges), differ only in keys that no code reads compute the same thing: comparing them measures
nothing. A key counts as read when its name appears anywhere in the code (as CFG005 judges it), or
when the code hands a sub-tree holding it over whole (`**cfg.model`, `instantiate(cfg.model)`,
`cfg.training.items()`, `getattr(cfg.training, name)`)."""
from __future__ import annotations

import json
from typing import Any, Iterator, Optional

import libcst as cst
import yaml

from expreview.bundle import Bundle
from expreview.checks.cfg.unused_keys import CONSUMED_BY_TOOLS, names_the_code_uses
from expreview.facts.hydra_compose import hydra_compositions
from expreview.facts.hydra_config import config_uses
from expreview.facts.run_trees import run_trees
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.facts.values import resolve
from expreview.sources.index import dotted_name, iter_subtree

# Keys that label a run rather than configure it: they differ between any two runs.
_LABELS = {"run_id", "run", "id", "description", "notes", "tags", "comment", "paper", "method_description",
           "results_dir", "output_dir", "mode", "trial_mode"}
_WHOLE_CALLS = ("instantiate", "to_container", "to_object", "to_yaml", "dict", "vars", "asdict", "getattr",
                "select", "merge")
_WHOLE_METHODS = ("items", "values", "keys")


def _leaves(tree: Any, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], str]:
    if isinstance(tree, dict) and tree:
        out: dict[tuple[str, ...], str] = {}
        for key, value in tree.items():
            out.update(_leaves(value, prefix + (str(key),)))
        return out
    return {prefix: json.dumps(tree, sort_keys=True, default=str)} if prefix else {}


def _wholesale(bundle: Bundle) -> set[tuple[str, ...]]:
    """Config sub-trees the code reads whole: passed as `**x`, to instantiate/to_container/dict/
    getattr/select, or iterated with items()/values()/keys(); () when the root itself is iterated."""
    sources = tuple(s for s in bundle.python_files() if s.ok)
    out: set[tuple[str, ...]] = set()
    for source in sources:
        uses = {id(u.node): u.path for u in config_uses(source, sources)}
        if not uses:
            continue
        for call in source.index.calls:
            whole = call.name.split(".")[-1] in _WHOLE_CALLS
            for arg in call.node.args:
                if not (arg.star == "**" or whole):
                    continue
                # `**cfg.model`, or `**params` after `params = cfg.model` / `= OmegaConf.to_container(cfg.model)`
                value = resolve(source.index, arg.value, call.scope)
                if isinstance(value, cst.Call) and value.args and dotted_name(value.func).split(".")[-1] in _WHOLE_CALLS:
                    value = value.args[0].value
                for node in (arg.value, value):
                    if id(node) in uses:
                        out.add(uses[id(node)])
            func = call.node.func
            if isinstance(func, cst.Attribute) and func.attr.value in _WHOLE_METHODS:
                for node in iter_subtree(func.value):
                    if id(node) in uses:
                        out.add(uses[id(node)])
                        break
        # `cfg.training[name]`: a key chosen at run time
        for sub in source.index.subscripts:
            if len(sub.node.slice) == 1 and isinstance(sub.node.slice[0].slice, cst.Index) and \
                    not isinstance(sub.node.slice[0].slice.value, (cst.SimpleString, cst.Integer)):
                base = id(sub.node.value)
                if base in uses:
                    out.add(uses[base])
    return out


def _mounted(bundle: Bundle, path: str, flat: dict[tuple[str, ...], str]) -> bool:
    """Every leaf of the run config file is in the composed config, at one mount."""
    doc = bundle.yaml(path)
    if doc is None or not isinstance(doc.data, dict):
        return False
    own = _leaves({k: v for k, v in doc.data.items() if k != "defaults"})
    if not own:
        return True
    mounts = {leaf[:len(leaf) - len(key)] for key in own for leaf in flat if leaf[len(leaf) - len(key):] == key}
    return any(all(flat.get(mount + key) == value for key, value in own.items()) for mount in mounts)


def _is_label(path: tuple[str, ...]) -> bool:
    """A leaf that names or files a run (`run_id`, `description`, `results_dir`), or WandB's settings."""
    return path[-1] in _LABELS or "wandb" in path


def _key_node(bundle: Bundle, path: str, key: tuple[str, ...]) -> Optional[yaml.Node]:
    doc = bundle.yaml(path)
    if doc is None:
        return None
    best = None
    for entry in doc.entries():
        if entry.key_node is not None and tuple(entry.path) == key[-len(entry.path):] and entry.path:
            best = entry.key_node
            if len(entry.path) == len(key):
                return best
    return best


_CONFIG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: outputs\nmode: full\n"
_MAIN = '''
import hydra


@hydra.main(config_path="../config", config_name="config", version_base=None)
def main(cfg):
    print(cfg.run.run_id, cfg.run.training.lr)
'''
_BASELINE = "run_id: baseline\ntraining:\n  lr: 0.1\n"
_PROPOSED = "run_id: proposed\ntraining:\n  lr: 0.1\n  noise_ratio: 0.15\n"


def _files(**runs: str) -> dict[str, str]:
    files = {"config/config.yaml": _CONFIG, "src/main.py": _MAIN}
    files.update({f"config/run/{name}.yaml": text for name, text in runs.items()})
    return files


@rule(
    code="CFG010", name="runs-compute-the-same", severity=ERROR,
    consequence=CRITERION,
    criterion="Each run variation differs from the others in what the code uses: two runs whose configs "
              "differ only in keys that no code reads compute the same thing.",
    rationale="Seed 002's noisy run sets `noise_ratio`, which nothing reads, so the comparison it was made "
              "for compares a run with itself. Judged on each run's config as Hydra composes it.",
    invalid=[Example(files=_files(baseline=_BASELINE, proposed=_PROPOSED), options={"runs_dir": "config/run"},
                     path="config/run/proposed.yaml", line=4, message="training.noise_ratio`, which no code reads"),
             Example(files=_files(a=_BASELINE, b=_BASELINE.replace("baseline", "b")),
                     options={"runs_dir": "config/run"}, path="config/run/b.yaml", line=1,
                     message="identical apart from their labels")],
    valid=[Example(files=_files(baseline=_BASELINE, proposed=_PROPOSED.replace("lr: 0.1", "lr: 0.2")),
                   options={"runs_dir": "config/run"}),
           # the key is read (its name is in the code), or its sub-tree is handed over whole
           Example(files={**_files(baseline=_BASELINE, proposed=_PROPOSED),
                          "src/main.py": _MAIN + "    print(cfg.run.training.get('noise_ratio', 0))\n"},
                   options={"runs_dir": "config/run"}),
           Example(files={**_files(baseline=_BASELINE, proposed=_PROPOSED),
                          "src/main.py": _MAIN + "    train(**cfg.run.training)\n"},
                   options={"runs_dir": "config/run"}),
           Example(files={**_files(baseline=_BASELINE, proposed=_PROPOSED),
                          "src/main.py": _MAIN + "    params = OmegaConf.to_container(cfg.run.training)\n    train(**params)\n"},
                   options={"runs_dir": "config/run"}),
           Example(files=_files(only=_PROPOSED), options={"runs_dir": "config/run"})],
)
def runs_compute_the_same(bundle: Bundle) -> Iterator[Hit]:
    composed = run_trees(bundle)
    if composed is None or len(composed.trees) < 2:
        return
    used = names_the_code_uses(bundle)
    whole = _wholesale(bundle)
    if () in whole:
        return  # the code iterates the whole config: any key may be read

    def read(path: tuple[str, ...]) -> bool:
        return path[-1] in used or path[-1] in CONSUMED_BY_TOOLS or any(path[:len(w)] == w for w in whole)

    compositions = hydra_compositions(bundle)
    run_paths = {c.run_id: c.run_path for c in (compositions.compositions if compositions is not None else [])}
    leaves = {run: _leaves(trees[0]) for run, trees in sorted(composed.trees.items())}
    if not all(_mounted(bundle, run_paths.get(run, ""), flat) for run, flat in leaves.items()):
        return  # a run config that does not reach the config (CFG006 and CFG009 say why): not comparable
    groups: dict[frozenset, list[str]] = {}
    for run, flat in leaves.items():
        signature = frozenset((p, v) for p, v in flat.items() if not _is_label(p) and read(p))
        groups.setdefault(signature, []).append(run)
    for runs in groups.values():
        if len(runs) < 2:
            continue
        first = runs[0]
        for other in runs[1:]:
            keys = sorted(p for p in set(leaves[first]) | set(leaves[other])
                          if not _is_label(p) and leaves[first].get(p) != leaves[other].get(p))
            path = run_paths.get(other, "")
            where = _key_node(bundle, path, keys[0]) if keys else None
            if keys:
                shown = ", ".join(f"`cfg.{'.'.join(k)}`" for k in keys[:5]) + (", …" if len(keys) > 5 else "")
                what = f"they differ only in {shown}, which no code reads"
            else:
                what = "they are identical apart from their labels (run_id, description)"
            yield Hit(path, f"run `{other}` computes the same thing as run `{first}` ({run_paths.get(first)}): "
                            f"{what}, so comparing them measures nothing; make the code use the parameter, or "
                            "make the runs differ in what the code reads", where if where is not None else 1)
