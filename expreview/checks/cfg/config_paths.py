"""CFG006: every `cfg.a.b` path the code reads exists in the config that Hydra composes for each
run (facts.run_trees), or is written first in the same process, or is read behind a guard."""
from __future__ import annotations

from typing import Any, Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.cfg.hydra_examples import GROUP_CONFIG, GROUP_MAIN, HYDRA_CONFIG, HYDRA_TRAIN, RUN
from expreview.facts.conditions import always_reached, branch_tests, caught, under_branch
from expreview.facts.hydra_config import ConfigUse, base_config, config_uses, exists, hydra_main, merged_configs
from expreview.facts.project_imports import project_module
from expreview.facts.run_trees import run_trees
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource


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
    invalid=[Example(files={"config/config.yaml": HYDRA_CONFIG, "config/runs/r1.yaml": RUN,
                            "src/train.py": HYDRA_TRAIN.replace("cfg.evaluation.interval_steps", "cfg.training.evaluation.interval_steps")}),
             # Hydra mounts the run config at `cfg.run`; the code reads it at the root
             Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN, "src/main.py": GROUP_MAIN},
                     options={"runs_dir": "config/run"}, path="src/main.py", line=8,
                     message="the key is at `cfg.run.training.lr`"),
             # only the proposed run has `proposed`; the baseline run crashes on the line
             Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN + "proposed:\n  alpha: 1\n",
                            "config/run/r2.yaml": RUN, "src/main.py": GROUP_MAIN.replace(
                                "cfg.training.lr", "cfg.run.training.lr, cfg.run.proposed.alpha")},
                     options={"runs_dir": "config/run"}, path="src/main.py", line=8, message="run `r2`"),
             # the group is mounted as `runs@run`; the command line's `run=<id>` then replaces cfg.run by a string
             Example(files={"config/config.yaml": GROUP_CONFIG.replace("  - run: ???", "  - runs@run: r1"),
                            "config/runs/r1.yaml": RUN, "src/main.py": GROUP_MAIN.replace("cfg.training.lr", "cfg.run.run_id")},
                     path="src/main.py", line=8, message="which is the str value, not a mapping")],
    valid=[Example(files={"config/config.yaml": HYDRA_CONFIG, "config/runs/r1.yaml": RUN, "src/train.py": HYDRA_TRAIN}),
           Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN,
                          "src/main.py": GROUP_MAIN.replace("cfg.training.lr", "cfg.run.training.lr")},
                   options={"runs_dir": "config/run"}),
           # `# @package _global_`: the run config is merged at the root
           Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": "# @package _global_\n" + RUN,
                          "src/main.py": GROUP_MAIN}, options={"runs_dir": "config/run"}),
           # a key of one run only, read under a condition, behind a guard, or in a try
           Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN + "proposed:\n  alpha: 1\n",
                          "config/run/r2.yaml": RUN, "src/main.py": GROUP_MAIN.replace(
                              "    return cfg.training.lr\n",
                              "    if cfg.run.method == 'proposed':\n        print(cfg.run.proposed.alpha)\n"
                              "    if 'proposed' in cfg.run:\n        print(cfg.run.proposed.alpha)\n"
                              "    try:\n        print(cfg.run.proposed.alpha)\n    except ConfigAttributeError:\n        pass\n")},
                   options={"runs_dir": "config/run"}),
           # a key of no run, read after `.get` or `OmegaConf.select` tested for it
           Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN, "src/main.py": GROUP_MAIN.replace(
               "    return cfg.training.lr\n", "    if cfg.run.get('ablation') is not None:\n        print(cfg.run.ablation.depth)\n")},
                   options={"runs_dir": "config/run"}),
           Example(files={"config/config.yaml": GROUP_CONFIG, "config/run/r1.yaml": RUN, "src/main.py": GROUP_MAIN.replace(
               "    return cfg.training.lr\n", "    if OmegaConf.select(cfg, 'run.ablation') is not None:\n        print(cfg.run.ablation.depth)\n")
               .replace("from omegaconf import DictConfig", "from omegaconf import DictConfig, OmegaConf")},
                   options={"runs_dir": "config/run"}),
           Example(files={"config/config.yaml": GROUP_CONFIG.replace("  - run: ???", "  - runs@run: r1"),
                          "config/runs/r1.yaml": RUN, "src/main.py": GROUP_MAIN.replace(
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
