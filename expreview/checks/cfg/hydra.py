"""CFG: the Hydra config against the code: every `cfg.a.b` path exists in config.yaml merged with
the run configs, and nothing adds keys to the struct config outside open_dict (CFG006, CFG008)."""
from __future__ import annotations

from typing import Any, Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.conditions import always_reached, branch_tests, caught, under_branch
from expreview.facts.hydra_config import (ConfigUse, base_config, config_roots, config_uses, exists, hydra_main, in_ranges,
                                          merge_call, merged_configs, open_dict_statements, root_path, run_configs,
                                          struct_lifted)
from expreview.facts.hydra_compose import hydra_compositions
from expreview.facts.project_imports import project_module
from expreview.facts.run_trees import run_trees
from expreview.facts.values import resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource


_HYDRA_CONFIG = "defaults:\n  - _self_\nmode: full\nwandb:\n  entity: e\n  project: p\ntraining:\n  epochs: 2\n"
_RUN = "run_id: r1\nmethod: proposed\nmodel:\n  name: mlp\ndataset:\n  name: digits\ntraining:\n  lr: 0.01\noptuna:\n  n_trials: 0\nevaluation:\n  interval_steps: 10\n"
_GROUP_CONFIG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: outputs\nmode: full\n"
_GROUP_MAIN = (
    "import hydra\nfrom omegaconf import DictConfig\nfrom omegaconf.errors import ConfigAttributeError\n\n\n"
    "@hydra.main(config_path='../config', config_name='config', version_base=None)\n"
    "def main(cfg: DictConfig):\n    return cfg.training.lr\n\n\nif __name__ == '__main__':\n    main()\n"
)
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


def _scalar_at(trees: list[dict], path: tuple[str, ...]) -> Optional[str]:
    """The type name of the scalar at `path` when every tree holds one there (`cfg.run` a str)."""
    kinds = set()
    for tree in trees:
        node: Any = tree
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if node is None or isinstance(node, (dict, list)):
            return None
        kinds.add(type(node).__name__)
    return kinds.pop() if len(kinds) == 1 else None


def _linked_files(sources: tuple[PythonSource, ...]) -> dict[str, set[str]]:
    """Per file, the files that run in its process: itself and the project modules it imports or
    that import it."""
    linked = {s.path: {s.path} for s in sources}
    for source in sources:
        for imp in source.index.imports:
            module = project_module(imp)
            if module is None:
                continue
            for target in ("/".join(module.split(".")) + ".py",
                           "/".join(module.split(".") + [imp.name or ""]) + ".py"):
                if target in linked and target != source.path:
                    linked[source.path].add(target)
                    linked[target].add(source.path)
    return linked


def _elsewhere(trees: list[dict], path: tuple[str, ...]) -> Optional[tuple[str, ...]]:
    """Where the key really is when the code reads it under the wrong mount: `run.training.lr` for
    `training.lr`, or `training.lr` for `run.training.lr`."""
    candidates = [path[1:]] if len(path) > 1 else []
    for tree in trees:
        candidates += [(key,) + path for key, value in sorted(tree.items()) if isinstance(value, dict)]
    for candidate in candidates:
        if candidate and all(exists(t, candidate) for t in trees):
            return candidate
    return None


def _type_tested(use: ConfigUse, stmt: int) -> bool:
    """The read is under an `if` that tests what a part of its path holds: `isinstance(cfg.run, str)`,
    `hasattr(cfg.run, "x")`, `OmegaConf.is_dict(cfg.run)`."""
    name = dotted_name(use.node) if isinstance(use.node, cst.Attribute) else ""
    for test in branch_tests(use.source, stmt, use.scope):
        for node in iter_subtree(test):
            if isinstance(node, cst.Call) and node.args and dotted_name(node.func).split(".")[-1] in (
                    "isinstance", "hasattr", "is_dict", "is_list", "is_config", "callable"):
                tested = dotted_name(node.args[0].value)
                if tested and name.startswith(tested + "."):
                    return True
    return False


# What a `try` must catch to survive a missing key.
_CONFIG_ERRORS = ("ConfigAttributeError", "ConfigKeyError", "MissingMandatoryValue", "OmegaConfBaseException",
                  "AttributeError", "KeyError", "LookupError", "Exception", "BaseException")


@rule(
    code="CFG006", name="config-path-missing", severity=ERROR,
    consequence=CRASH,
    criterion="All parameters are loaded from run configs dynamically: every `cfg.a.b.c` path the "
              "code uses exists in the config that Hydra composes for each run (config/config.yaml, the "
              "defaults list, the run config at its mount), plus what the code itself merges into it.",
    rationale="OmegaConf raises ConfigAttributeError on a missing key the moment the line runs "
              "(seed 004: `cfg.training.evaluation.interval_steps`, where `evaluation` is top level). Composed "
              "with Hydra run by run: a key that only some runs have crashes the others when the line always runs.",
    invalid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN,
                            "src/train.py": _HYDRA_TRAIN.replace("cfg.evaluation.interval_steps", "cfg.training.evaluation.interval_steps")}),
             # Hydra mounts the run config at `cfg.run`; the code reads it at the root
             Example(files={"config/config.yaml": _GROUP_CONFIG, "config/run/r1.yaml": _RUN, "src/main.py": _GROUP_MAIN},
                     options={"runs_dir": "config/run"}, path="src/main.py", line=8,
                     message="the key is at `cfg.run.training.lr`"),
             # only the proposed run has `proposed`; the baseline run crashes on the line
             Example(files={"config/config.yaml": _GROUP_CONFIG, "config/run/r1.yaml": _RUN + "proposed:\n  alpha: 1\n",
                            "config/run/r2.yaml": _RUN, "src/main.py": _GROUP_MAIN.replace(
                                "cfg.training.lr", "cfg.run.training.lr, cfg.run.proposed.alpha")},
                     options={"runs_dir": "config/run"}, path="src/main.py", line=8, message="run `r2`"),
             # the group is mounted as `runs@run`; the command line's `run=<id>` then replaces cfg.run by a string
             Example(files={"config/config.yaml": _GROUP_CONFIG.replace("  - run: ???", "  - runs@run: r1"),
                            "config/runs/r1.yaml": _RUN, "src/main.py": _GROUP_MAIN.replace("cfg.training.lr", "cfg.run.run_id")},
                     path="src/main.py", line=8, message="which is the str value, not a mapping")],
    valid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN, "src/train.py": _HYDRA_TRAIN}),
           Example(files={"config/config.yaml": _GROUP_CONFIG, "config/run/r1.yaml": _RUN,
                          "src/main.py": _GROUP_MAIN.replace("cfg.training.lr", "cfg.run.training.lr")},
                   options={"runs_dir": "config/run"}),
           # `# @package _global_`: the run config is merged at the root
           Example(files={"config/config.yaml": _GROUP_CONFIG, "config/run/r1.yaml": "# @package _global_\n" + _RUN,
                          "src/main.py": _GROUP_MAIN}, options={"runs_dir": "config/run"}),
           # a key of one run only, read under a condition, behind a guard, or in a try
           Example(files={"config/config.yaml": _GROUP_CONFIG, "config/run/r1.yaml": _RUN + "proposed:\n  alpha: 1\n",
                          "config/run/r2.yaml": _RUN, "src/main.py": _GROUP_MAIN.replace(
                              "    return cfg.training.lr\n",
                              "    if cfg.run.method == 'proposed':\n        print(cfg.run.proposed.alpha)\n"
                              "    if 'proposed' in cfg.run:\n        print(cfg.run.proposed.alpha)\n"
                              "    try:\n        print(cfg.run.proposed.alpha)\n    except ConfigAttributeError:\n        pass\n")},
                   options={"runs_dir": "config/run"}),
           Example(files={"config/config.yaml": _GROUP_CONFIG.replace("  - run: ???", "  - runs@run: r1"),
                          "config/runs/r1.yaml": _RUN, "src/main.py": _GROUP_MAIN.replace(
                              "    return cfg.training.lr\n",
                              "    return cfg.run if isinstance(cfg.run, str) else None\n"
                              "    if isinstance(cfg.run, str):\n        return cfg.run\n    else:\n        return cfg.run.run_id\n")})],
)
def config_path_missing(bundle: Bundle) -> Iterator[Hit]:
    if base_config(bundle) is None:
        return
    composed = run_trees(bundle)
    trees = composed.all() if composed is not None else merged_configs(bundle)
    by_run = composed.trees if composed is not None else {}
    where = "the config Hydra composes" if composed is not None else "config/config.yaml merged with the run configs"
    sources = tuple(s for s in bundle.python_files() if s.ok)
    entries = [found[0] for s in sources if (found := hydra_main(s)) is not None]
    uses = [u for source in sources for u in config_uses(source, sources)]
    # A write defines its key when its parent exists (under open_dict or not: CFG008 judges that), for
    # the reads of its own process: its file and the project modules it imports or is imported by.
    defined: dict[str, set[tuple[str, ...]]] = {}
    for u in uses:
        if u.store and u.path and any(exists(t, u.path[:-1]) for t in trees):
            defined.setdefault(u.source.path, set()).add(u.path)
    linked = _linked_files(sources)
    reported = set()
    for use in uses:
        path = use.path[:-1] if use.store else use.path
        writes = {d for f in linked.get(use.source.path, {use.source.path}) for d in defined.get(f, ())}
        if not path or any(path[:len(d)] == d for d in writes):
            continue
        missing_in = sorted(run for run, run_trees_ in by_run.items() if not any(exists(t, path) for t in run_trees_))
        everywhere = not any(exists(t, path) for t in trees)
        if not everywhere and not missing_in:
            continue
        stmt = use.source.index.stmt_of.get(id(use.node), -1)
        missing = _first_missing(trees, path) if everywhere else _first_missing(
            [t for run in missing_in for t in by_run[run]], path)
        if path[missing] in _guard_keys(use.source) or caught(use.source, stmt, use.scope, _CONFIG_ERRORS) \
                or _type_tested(use, stmt):
            continue
        if not everywhere and (under_branch(use.source, stmt, use.scope)
                               or not always_reached(use.source, use.scope, sources, entries)):
            continue  # a key of some runs, read on a path that may be theirs only
        key = (use.source.path, path)
        if key in reported:
            continue
        reported.add(key)
        parent = ".".join(path[:missing]) or "the config root"
        if everywhere:
            real = _elsewhere(trees, path) if composed is not None else None
            fix = f"the key is at `cfg.{'.'.join(real)}`" if real else "use the path where the key really is"
            scalar = _scalar_at(trees, path[:missing])
            if scalar is not None and missing:
                parent = f"`cfg.{'.'.join(path[:missing])}`, which is the {scalar} value, not a mapping,"
            yield Hit(use.source.path, f"`cfg.{'.'.join(use.path)}`: there is no `{path[missing]}` under {parent} in "
                                       f"{where}, so OmegaConf raises ConfigAttributeError here; {fix}", use.node)
        else:
            runs = ", ".join(f"`{r}`" for r in missing_in[:5]) + (", …" if len(missing_in) > 5 else "")
            who = f"run {runs}" if len(missing_in) == 1 else f"runs {runs}"
            yield Hit(use.source.path, f"`cfg.{'.'.join(use.path)}`: the config Hydra composes for {who} has no "
                                       f"`{path[missing]}` under {parent}, and this line runs in every run, so "
                                       f"OmegaConf raises ConfigAttributeError there; add the key to every run "
                                       f"config, or read it with `cfg.get` or under a condition", use.node)


@rule(
    code="CFG008", name="struct-merge-new-key", severity=ERROR,
    consequence=CRASH,
    criterion="Proper configuration structure: code does not add keys to Hydra's struct config "
              "(OmegaConf.merge/update or assignment) without open_dict or set_struct(False).",
    rationale="@hydra.main hands over a struct config; merging a run config with keys it lacks "
              "raises `Key 'run_id' is not in struct` before training starts (seed 004).",
    invalid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN,
                            "src/train.py": _HYDRA_TRAIN.replace("    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n",
                                                                 "    cfg = OmegaConf.merge(cfg, run_cfg)\n")}),
             # every top-level key exists, but the run config fills an empty mapping of config.yaml
             Example(files={"config/config.yaml": _HYDRA_CONFIG + "optuna:\n  search_space: {}\n",
                            "config/runs/r1.yaml": "training:\n  lr: 0.1\noptuna:\n  search_space:\n    lr: {low: 0.1}\n",
                            "src/train.py": _HYDRA_TRAIN.replace("    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n",
                                                                 "    cfg.merge_with(run_cfg)\n").replace("cfg.evaluation.interval_steps, ", "")},
                     path="src/train.py", line=8, message="optuna.search_space.lr)"),
             # a default written into the struct config: `optimizer` is in no run's composed config
             Example(files={"config/config.yaml": _GROUP_CONFIG, "config/run/r1.yaml": _RUN, "src/main.py": _GROUP_MAIN.replace(
                 "    return cfg.training.lr\n", "    cfg.optimizer = cfg.get('optimizer', {})\n    return cfg.run.training.lr\n")},
                     options={"runs_dir": "config/run"}, path="src/main.py", line=8, message="`cfg.optimizer`")],
    valid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN, "src/train.py": _HYDRA_TRAIN}),
           # the key is in the composed config (the run config is mounted at `run`)
           Example(files={"config/config.yaml": _GROUP_CONFIG, "config/run/r1.yaml": _RUN, "src/main.py": _GROUP_MAIN.replace(
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
                                           "`with open_dict(cfg):` or add the keys to config/config.yaml", call.node)
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
        for use in config_uses(source, sources):
            if not use.store or not use.path or in_ranges(index.stmt_of.get(id(use.node), -1), lifted):
                continue
            parent = use.path[:-1]
            if any(exists(t, parent) for t in trees) and not any(exists(t, use.path) for t in trees):
                yield Hit(source.path, f"assigns `cfg.{'.'.join(use.path)}`, a key the struct config does not have; "
                                       "wrap the assignment in `with open_dict(cfg):`", use.node)


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
