"""CFG008: nothing adds keys to Hydra's struct config outside open_dict: merges (judged key by key
against each run's composed config), OmegaConf.update, assignments, and Optuna parameters written
back by name."""
from __future__ import annotations

from functools import partial
from typing import Any, Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.edits import SAFE, Fix
from expreview.checks.cfg.hydra_examples import GROUP_CONFIG, GROUP_MAIN, HYDRA_CONFIG, HYDRA_TRAIN, RUN
from expreview.facts.conditions import branch_tests
from expreview.facts.hydra_compose import hydra_compositions
from expreview.facts.optuna_params import suggested_names, writes_study_params
from expreview.facts.hydra_config import (CONFIG_NAMES, base_config, config_roots, config_uses, exists, in_ranges, merge_call,
                                          merged_configs, open_dict_statements, root_path, run_configs,
                                          struct_lifted)
from expreview.facts.run_trees import run_trees
from expreview.facts.values import resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource
from expreview.sources.python_edits import import_edit, wrap_statement


_OPTUNA_WRITE = """

def tune(cfg, study):
    def objective(trial):
        return trial.suggest_float("lr", 1e-4, 1e-1) + trial.suggest_int("hidden_dim", 8, 64)
    study.optimize(objective, n_trials=2)
    for name, value in study.best_params.items():
        cfg.training[name] = value
"""


_TUNED_TRAIN = HYDRA_TRAIN.replace("    return cfg.evaluation", "    tune(cfg, None)\n    return cfg.evaluation") + _OPTUNA_WRITE


@rule(
    code="CFG008", name="struct-merge-new-key", severity=ERROR,
    consequence=CRASH, fixable=True,
    criterion="Proper configuration structure: code does not add keys to Hydra's struct config "
              "(OmegaConf.merge/update or assignment) without open_dict or set_struct(False).",
    rationale="@hydra.main hands over a struct config; merging a run config with keys it lacks "
              "raises `Key 'run_id' is not in struct` before training starts (seed 004).",
    invalid=[Example(files={"config/config.yaml": HYDRA_CONFIG, "config/runs/r1.yaml": RUN,
                            "src/train.py": HYDRA_TRAIN.replace("    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n",
                                                                 "    cfg = OmegaConf.merge(cfg, run_cfg)\n")}),
             # every top-level key exists, but the run config fills an empty mapping of config.yaml
             Example(files={"config/config.yaml": HYDRA_CONFIG + "optuna:\n  search_space: {}\n",
                            "config/runs/r1.yaml": "training:\n  lr: 0.1\noptuna:\n  search_space:\n    lr: {low: 0.1}\n",
                            "src/train.py": HYDRA_TRAIN.replace("    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n",
                                                                 "    cfg.merge_with(run_cfg)\n").replace("cfg.evaluation.interval_steps, ", "")},
                     path="src/train.py", line=8, message="optuna.search_space.lr)"),
             # a default written into the struct config: `optimizer` is in no run's composed config
             Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN, "src/main.py": GROUP_MAIN.replace(
                 "    return cfg.training.lr\n", "    cfg.optimizer = cfg.get('optimizer', {})\n    return cfg.run.training.lr\n")},
                     options={"runs_dir": "config/run"}, path="src/main.py", line=8, message="`cfg.optimizer`"),
             # the study's best parameters written back by name; `hidden_dim` is no key of `cfg.training`
             Example(files={"config/config.yaml": HYDRA_CONFIG.replace("  epochs: 2\n", "  epochs: 2\n  lr: 0.1\n"),
                            "config/runs/r1.yaml": RUN, "src/train.py": _TUNED_TRAIN},
                     path="src/train.py", line=20, message="`hidden_dim`")],
    valid=[Example(files={"config/config.yaml": HYDRA_CONFIG, "config/runs/r1.yaml": RUN, "src/train.py": HYDRA_TRAIN}),
           Example(files={"config/config.yaml": HYDRA_CONFIG.replace("  epochs: 2\n", "  epochs: 2\n  lr: 0.1\n  hidden_dim: 8\n"),
                          "config/runs/r1.yaml": RUN, "src/train.py": _TUNED_TRAIN}),
           # the loop writes only the names the config has
           Example(files={"config/config.yaml": HYDRA_CONFIG.replace("  epochs: 2\n", "  epochs: 2\n  lr: 0.1\n"),
                          "config/runs/r1.yaml": RUN, "src/train.py": _TUNED_TRAIN.replace(
                              "        cfg.training[name] = value", "        if name in cfg.training:\n            cfg.training[name] = value")}),
           # the key is in the composed config (the run config is mounted at `run`)
           Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN, "src/main.py": GROUP_MAIN.replace(
               "    return cfg.training.lr\n", "    cfg.run.training = cfg.run.get('training', {})\n    return cfg.run.training.lr\n")},
                   options={"runs_dir": "config/run"})],
)
def struct_merge_new_key(bundle: Bundle) -> Iterator[Hit]:
    base = base_config(bundle)
    if base is None:
        return
    run_keys: list[str] = []  # in file order: OmegaConf names the first new key it meets
    for _, run in run_configs(bundle):
        run_keys += [k for k in run if k not in run_keys]
    # The struct config that @hydra.main hands over: what Hydra composes for each run (config.yaml
    # alone when Hydra did not compose the bundle), and, for assignments, what the code merged into it.
    composed = hydra_compositions(bundle)
    by_run: dict[str, list[dict]] = {}
    for composition in composed.compositions if composed is not None else []:
        if composition.config is not None:
            by_run.setdefault(composition.run_path, []).append(composition.config)
    struct = [tree for trees_ in by_run.values() for tree in trees_] or [base]
    composed_trees = run_trees(bundle)
    trees = composed_trees.all() if composed_trees is not None else merged_configs(bundle)
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
            merge = merge_call(call)
            if merge is not None:
                target, values = merge
                base_path = root_path(source, target.split(".")[0], call.scope, roots)
                if base_path is None:
                    continue
                base_path += tuple(target.split(".")[1:])
                new: list[str] = []
                for value in values:
                    for added in _new_keys_of(bundle, source, value, call.scope, base_path, struct, by_run):
                        if added not in new:
                            new.append(added)
                if new:
                    yield Hit(source.path, f"merges keys that Hydra's struct config does not have ({', '.join(new[:5])}"
                                           f"{', …' if len(new) > 5 else ''}), which raises `Key "
                                           f"'{new[0].rsplit('.', 1)[-1]}' is not in struct`; merge inside "
                                           "`with open_dict(cfg):` or add the keys to config/config.yaml", call.node,
                              fix=partial(_open_dict_fix, source, call.stmt, target))
            elif call.name.endswith("OmegaConf.update") and len(call.node.args) >= 2:
                if call.keyword("force_add") is not None:
                    continue
                key = string_value(call.node.args[1].value)
                target = dotted_name(call.node.args[0].value)
                if key is None or not target or root_path(source, target.split(".")[0], call.scope, roots) is None:
                    continue
                if not any(exists(t, tuple(key.split("."))) for t in struct) and key.split(".")[0] not in set(run_keys):
                    yield Hit(source.path, f"`OmegaConf.update(…, {key!r})` adds a key that the struct config does not "
                                           "have; pass force_add=True or use open_dict", call.node)
        yield from _study_params_written(bundle, source, roots, lifted, struct)
        for use in config_uses(source, sources):
            if not use.store or not use.path or in_ranges(index.stmt_of.get(id(use.node), -1), lifted):
                continue
            parent = use.path[:-1]
            if any(exists(t, parent) for t in trees) and not any(exists(t, use.path) for t in trees):
                yield Hit(source.path, f"assigns `cfg.{'.'.join(use.path)}`, a key the struct config does not have; "
                                       "wrap the assignment in `with open_dict(cfg):`", use.node,
                          fix=partial(_open_dict_fix, source, index.stmt_of.get(id(use.node), -1), _root_name(use.node)))




def _suggested_keys(bundle: Bundle, tree: dict) -> list[str]:
    """The parameter names an Optuna search suggests, read against one composed config."""
    names = suggested_names(bundle)
    keys = list(names.literal)
    for dotted in names.from_loops:
        parts = dotted.split(".")
        if parts[0] in CONFIG_NAMES + ("args",):
            space = _subtree(tree, tuple(parts[1:]))
            if isinstance(space, dict):
                keys += [str(k) for k in space if str(k) not in keys]
    return keys


def _study_params_written(bundle: Bundle, source: PythonSource, roots: dict, lifted: list[tuple[int, int]],
                          struct: list[dict]) -> Iterator[Hit]:
    """`cfg.training[name] = value` / `setattr(cfg.training, name, value)` in a loop over a study's
    parameters, where some suggested name is not a key of the struct config there."""
    index = source.index
    targets: list[tuple[cst.CSTNode, str, str, Optional[Function], int]] = []  # node, target, name, scope, stmt
    for ordinal, statement in enumerate(index.statements):
        if not isinstance(statement, cst.Assign):
            continue
        for assigned in statement.targets:
            sub = assigned.target
            if not isinstance(sub, cst.Subscript) or len(sub.slice) != 1:
                continue
            slice_ = sub.slice[0].slice
            if isinstance(slice_, cst.Index) and isinstance(slice_.value, cst.Name) and dotted_name(sub.value):
                targets.append((sub, dotted_name(sub.value), slice_.value.value, index.scope_of(ordinal), ordinal))
    for call in index.calls:
        if call.name == "setattr" and len(call.node.args) == 3 and isinstance(call.node.args[1].value, cst.Name):
            target = dotted_name(call.node.args[0].value)
            if target:
                targets.append((call.node, target, call.node.args[1].value.value, call.scope, call.stmt))
    for node, target, name, scope, stmt in targets:
        if in_ranges(stmt, lifted) or not writes_study_params(source, stmt, name):
            continue
        if any(isinstance(n, cst.Name) and n.value == name
               for test in branch_tests(source, stmt, scope) for n in iter_subtree(test)):
            continue  # the code picks the keys it writes (`if hasattr(cfg.x, name)`, `if name in cfg.x`)
        base = root_path(source, target.split(".")[0], scope, roots)
        if base is None:
            continue
        path = base + tuple(target.split(".")[1:])
        new: list[str] = []
        for tree in struct:
            here = _subtree(tree, path)
            if isinstance(here, dict):
                new += [k for k in _suggested_keys(bundle, tree) if k not in here and k not in new]
        if new:
            shown = ", ".join(f"`{k}`" for k in new[:5]) + (", …" if len(new) > 5 else "")
            where = f"`cfg.{'.'.join(path)}`" if path else "the config root"
            yield Hit(source.path, f"writes the Optuna parameters back by name into {where}, and {shown} "
                                   "is not a key of Hydra's struct config there, so the assignment raises "
                                   "ConfigAttributeError; write them inside `with open_dict(cfg):` or add the keys "
                                   "to the config", node, fix=partial(_open_dict_fix, source, stmt, target))


def _root_name(node: cst.CSTNode) -> Optional[str]:
    """`cfg` of `cfg.a["b"].c`."""
    while isinstance(node, (cst.Attribute, cst.Subscript)):
        node = node.value
    return node.value if isinstance(node, cst.Name) else None


def _open_dict_fix(source: PythonSource, stmt: int, target: Optional[str]) -> Optional[Fix]:
    """The statement put under `with open_dict(<the config variable>):`, and open_dict imported
    from omegaconf when the file does not bind it yet. Safe: open_dict lifts the struct flag only
    for that block, which is what the write needs and nothing else."""
    root = (target or "").split(".")[0].split("[")[0]
    if not root.isidentifier():
        return None
    wrapped = wrap_statement(source, stmt, f"with open_dict({root}):")
    if wrapped is None:
        return None
    imported = import_edit(source, "from omegaconf import open_dict", "open_dict")
    return Fix(f"Write it inside `with open_dict({root}):`", SAFE, (wrapped, imported) if imported else (wrapped,))


def _new_keys(node: Any, data: Any, prefix: tuple[str, ...] = ()) -> list[str]:
    """Dotted keys of `data` that merging it into the struct config `node` would add (any depth)."""
    if not isinstance(node, dict) or not isinstance(data, dict):
        return []
    out = []
    for key, value in data.items():
        if key not in node:
            out.append(".".join(prefix + (str(key),)))
        else:
            out += _new_keys(node[key], value, prefix + (str(key),))
    return out


def _subtree(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        tree = tree.get(key) if isinstance(tree, dict) else None
    return tree


def _new_keys_of(bundle: Bundle, source: PythonSource, expr: cst.CSTNode, scope: Optional[Function],
                 base_path: tuple[str, ...], struct: list[dict], by_run: dict[str, list[dict]]) -> list[str]:
    """What merging `expr` at `base_path` adds: a dict literal's keys, or each run config's keys
    (a loaded YAML file) against the struct config composed for that run."""
    value = resolve(source.index, expr, scope)
    if isinstance(value, cst.Dict):
        keys = [string_value(e.key) for e in value.elements if isinstance(e, cst.DictElement)]
        return [k for k in keys if k and not any(exists(t, base_path + (k,)) for t in struct)]
    if isinstance(value, cst.Call) and dotted_name(value.func).endswith(("OmegaConf.load", "OmegaConf.create")):
        if dotted_name(value.func).endswith("OmegaConf.create") and value.args and \
                isinstance(resolve(source.index, value.args[0].value, scope), cst.Dict):
            return _new_keys_of(bundle, source, value.args[0].value, scope, base_path, struct, by_run)
        out: list[str] = []
        for path, data in run_configs(bundle):
            trees = by_run.get(path) or struct
            found = [_new_keys(_subtree(t, base_path), data) for t in trees]
            # new in every mode's composition of this run (a key one mode composes is not new)
            common = [k for k in found[0] if all(k in f for f in found[1:])] if found else []
            out += [k for k in common if k not in out]
        return out
    return []
