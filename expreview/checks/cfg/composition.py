"""CFG009: every run composes with Hydra the way `python -u -m src.main run=<id> results_dir=<dir>
mode=<mode>` composes it (facts.hydra_compose asks hydra-core itself). Runs that fail the same way
are one finding, on the YAML line responsible when the message tells it."""
from __future__ import annotations

import re
from typing import Iterator, Optional, Union

import yaml

from expreview.bundle import Bundle
from expreview.facts.child_overrides import hydra_child_overrides
from expreview.facts.hydra_compose import RESULTS_DIR, Composed, Composition, hydra_compositions
from expreview.facts.hydra_config import CONFIG
from expreview.findings import ADVICE, CRASH, ERROR, WARNING
from expreview.rule import Example, Hit, rule

_MAIN = '''
import hydra
from omegaconf import DictConfig


@hydra.main(config_path="../config", config_name="config", version_base=None)
def main(cfg: DictConfig) -> None:
    print(cfg.run, cfg.mode, cfg.results_dir)


if __name__ == "__main__":
    main()
'''
_CONFIG = '''
defaults:
  - _self_

run: r1
results_dir: outputs
mode: full
'''
_GROUP_CONFIG = '''
defaults:
  - _self_
  - run: ???

results_dir: outputs
mode: full
'''
_RUN = "run_id: r1\nmethod: proposed\n"
_PARENT = '''
import subprocess
import sys

import hydra


@hydra.main(config_path="../config", config_name="config", version_base=None)
def main(cfg):
    overrides = [f"run={cfg.run}", f"mode={cfg.mode}"]
    if cfg.mode == "trial":
        overrides += ["training.epochs=1"]
    cmd = [sys.executable, "-u", "-m", "src.train"] + overrides
    subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
'''
_CHILD = _MAIN


def _files(config: str, runs: Optional[dict[str, str]] = None, runs_dir: str = "config/runs") -> dict[str, str]:
    files = {"config/config.yaml": config, "src/main.py": _MAIN}
    for run_id, text in (runs or {"r1": _RUN}).items():
        files[f"{runs_dir}/{run_id}.yaml"] = text
    return files


Where = Union[None, int, yaml.Node]


def _top_key(bundle: Bundle, path: str, key: str) -> Optional[yaml.Node]:
    doc = bundle.yaml(path)
    if doc is None:
        return None
    for entry in doc.entries():
        if entry.path == (key,):
            return entry.key_node
    return None


def _key_node(bundle: Bundle, path: str, dotted: str) -> Optional[yaml.Node]:
    doc = bundle.yaml(path)
    if doc is None:
        return None
    wanted = tuple(dotted.split("."))
    best: Optional[yaml.Node] = None
    for entry in doc.entries():
        if entry.key_node is not None and wanted[:len(entry.path)] == entry.path:
            best = entry.key_node  # the deepest key of the path that the file writes
    return best


def _defaults_entry(bundle: Bundle, test) -> Optional[yaml.Node]:
    doc = bundle.yaml(CONFIG)
    if doc is None:
        return None
    for entry in doc.entries():
        if len(entry.path) == 2 and entry.path[0] == "defaults" and test(entry):
            return entry.node
    return None


def _scalar_texts(node: yaml.Node) -> list[str]:
    if isinstance(node, yaml.ScalarNode):
        return [str(node.value)]
    if isinstance(node, yaml.MappingNode):
        return [t for k, v in node.value for t in _scalar_texts(k) + _scalar_texts(v)]
    if isinstance(node, yaml.SequenceNode):
        return [t for v in node.value for t in _scalar_texts(v)]
    return []


def _group_of(key: str) -> str:
    """The group a defaults-list key selects: `override /runs@run` -> `runs`."""
    return key.split()[-1].lstrip("+~/").split("@")[0] if key.split() else ""


def _where(bundle: Bundle, failure: Composition) -> tuple[str, Where]:
    """The file and line that the failure comes from, when Hydra's message tells it."""
    error = failure.error or ""
    if failure.kind == "OverrideParseException":
        return failure.run_path, 1  # the run id is the file's name
    if "Error resolving interpolation" in error:
        node = _defaults_entry(bundle, lambda e: any("${" in t for t in _scalar_texts(e.node)))
        return CONFIG, node if node is not None else 1
    found = re.match(r"Could not override '([^']+)'\. No match in the defaults list", error)
    if found:
        node = _top_key(bundle, CONFIG, found.group(1).split(".")[0])
        return CONFIG, node if node is not None else _top_key(bundle, CONFIG, "defaults") or 1
    found = re.match(r"Could not override '([^']+)'\.$", error)
    if found:
        # neither a config key nor a group: the defaults entry that selects the run configs'
        # group under another name (`- runs: <id>` while the command says `run=<id>`)
        group = str(bundle.option("runs_dir", "config/runs")).rstrip("/").rsplit("/", 1)[-1]
        node = _defaults_entry(bundle, lambda e: isinstance(e.node, yaml.MappingNode) and any(
            _group_of(str(k.value)) == group for k, _ in e.node.value))
        return CONFIG, node if node is not None else 1
    found = re.search(r"Could not find '([^']+)/([^'/]+)'", error)
    if found:
        group, option = found.groups()
        node = _defaults_entry(bundle, lambda e: isinstance(e.node, yaml.MappingNode) and any(
            _group_of(str(k.value)) == group for k, _ in e.node.value))
        if node is not None:
            return CONFIG, node
        if option == failure.run_id:
            return failure.run_path, 1
        return CONFIG, 1
    if failure.full_key and failure.full_key.split(".")[0] == "hydra":
        node = _key_node(bundle, CONFIG, failure.full_key)
        if node is not None:
            return CONFIG, node
    return CONFIG, 1


def _has(config: object, key: str) -> bool:
    for part in key.split("."):
        if not isinstance(config, dict) or part not in config:
            return False
        config = config[part]
    return True


def _child_overrides(bundle: Bundle, composed: Composed) -> Iterator[Hit]:
    """Overrides a main passes to a child @hydra.main over the same config, of keys that no
    composition of any run in any mode has: Hydra refuses them whichever run and mode pass them."""
    configs = [c.config for c in composed.compositions if c.error is None and c.config is not None]
    if not configs or composed.outside:
        return
    reported = set()
    for override in hydra_child_overrides(bundle):
        top = override.key.split(".")[0]
        if top == "hydra" or any(p.startswith(f"config/{top}/") for p in bundle.paths()):
            continue  # Hydra's own settings, or a config group (selected, not overridden)
        if any(_has(config, override.key) for config in configs) or (override.target, override.key) in reported:
            continue
        reported.add((override.target, override.key))
        yield Hit(override.parent, f"`{override.text}` is passed to {override.target}, which Hydra composes from the same "
                                   f"config, and no run's composed config has `{override.key}`: Hydra stops the child "
                                   f"with \"Could not override '{override.key}'. To append to your config use "
                                   f"+{override.text}\" before it runs; add `{override.key}` to config/config.yaml, or "
                                   f"pass `+{override.text}`", override.node, stmt=override.stmt)


def _command(overrides: tuple[str, ...]) -> str:
    shown = [o.replace(f"={RESULTS_DIR}", "=<dir>") for o in overrides]
    return "python -u -m src.main " + " ".join(shown)


def _names(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(f"`{item}`" for item in items[:limit])
    return shown + (f", … ({len(items)} in all)" if len(items) > limit else "")


@rule(
    code="CFG009", name="hydra-cannot-compose", severity=ERROR,
    consequence=CRASH,
    criterion="Uses Hydra to manage all experiment configurations: Hydra composes the config of every "
              "run the way `python -u -m src.main run=<id> results_dir=<dir> mode=<mode>` asks for it.",
    rationale="A composition error stops the program before main starts, in every mode. Judged by "
              "composing a copy of config/ with hydra-core's compose API, run by run and mode by mode: an "
              "interpolation in the defaults list, a plain `run:` key next to a config/run/ group "
              "(\"Could not override 'run'. No match in the defaults list\"), unknown keys under `hydra:`, a "
              "run id that is no valid override value, a config the defaults list names that does not exist. "
              "Also the child a main starts as another @hydra.main over the same config (`python src/train.py "
              "run=<id> training.epochs=1`): an override of a key the composed config does not have stops it "
              "(\"Could not override 'training.epochs'\").",
    invalid=[
        Example(files=_files(_CONFIG.replace("  - _self_\n", "  - _self_\n  - runs: ${run}\n")), line=3,
                message="Error resolving interpolation '${run}'"),
        Example(files=_files(_CONFIG, runs_dir="config/run"), options={"runs_dir": "config/run"}, line=4,
                message="Could not override 'run'. No match in the defaults list"),
        Example(files=_files(_CONFIG + "hydra:\n  job:\n    chdir: false\n  output_subdir_x: null\n"), line=10,
                message="Key 'output_subdir_x' not in 'HydraConf'"),
        Example(files=_files(_CONFIG, runs={"r1": _RUN, "r2 (ablation)": _RUN}), path="config/runs/r2 (ablation).yaml",
                line=1, message="run `r2 (ablation)`"),
        Example(files=_files(_GROUP_CONFIG.replace("  - run: ???\n", "  - run: ???\n  - model: resnet\n"),
                             runs_dir="config/run"), options={"runs_dir": "config/run"}, line=4,
                message="Could not find 'model/resnet'"),
        Example(files=_files(_CONFIG.replace("mode: full\n", "")), line=1, message="Could not override 'mode'"),
        # the run configs' group selected as `runs` while the command overrides `run`
        Example(files=_files(_CONFIG.replace("  - _self_\n", "  - _self_\n  - runs: r1\n").replace("run: r1\n", "")),
                line=3, message="Could not override 'run'."),
        # not composed: Hydra would read outside the bundle (a warning, not a crash claim)
        Example(files=_files(_CONFIG + "hydra:\n  searchpath:\n    - pkg://shared_configs\n"), line=8,
                message="`hydra.searchpath` makes Hydra read configs from outside the repository"),
        # main starts train, itself a @hydra.main over the same config, overriding a key no config has
        Example(files={**_files(_CONFIG), "src/main.py": _PARENT, "src/train.py": _CHILD}, path="src/main.py",
                line=11, message="Could not override 'training.epochs'"),
        Example(files={**_files(_CONFIG), "src/main.py": _PARENT.replace('    cmd = [sys.executable, "-u", "-m", "src.train"] + overrides\n',
                                                                          '    cmd = [sys.executable, "-u", "-m", "src.train", *overrides]\n'),
                       "src/train.py": _CHILD}, path="src/main.py", line=11, message="`training.epochs=1`"),
    ],
    valid=[
        Example(files=_files(_CONFIG)),  # the good fixture's shape: the code loads config/runs/<run>.yaml
        # the key exists, is added (`+`), or the child composes another config (or none)
        Example(files={**_files(_CONFIG + "training:\n  epochs: 10\n"), "src/main.py": _PARENT, "src/train.py": _CHILD}),
        Example(files={**_files(_CONFIG), "src/main.py": _PARENT.replace('"training.epochs=1"', '"+training.epochs=1"'),
                       "src/train.py": _CHILD}),
        Example(files={**_files(_CONFIG), "src/main.py": _PARENT,
                       "src/train.py": _CHILD.replace('config_name="config"', 'config_name="train"')}),
        Example(files={**_files(_CONFIG), "src/main.py": _PARENT,
                       "src/train.py": "import argparse\n\nparser = argparse.ArgumentParser()\n"}),
        # the child selects the run config's group itself (`runs@run=<id>`): it composes another
        # config than the parent, whose run mounts no `run.optuna`
        Example(files={**_files(_CONFIG), "src/main.py": _PARENT.replace('f"run={cfg.run}"', 'f"runs@run={cfg.run}"').replace(
            '"training.epochs=1"', '"run.optuna.n_trials=0"'), "src/train.py": _CHILD}),
        # a string of that shape that never reaches the command
        Example(files={**_files(_CONFIG), "src/main.py": _PARENT.replace('"training.epochs=1"', '"mode=trial"').replace(
            "    subprocess.run(cmd, check=True)\n", '    print("training.epochs=1")\n    subprocess.run(cmd, check=True)\n'),
                       "src/train.py": _CHILD}),
        Example(files=_files(_GROUP_CONFIG, runs_dir="config/run"), options={"runs_dir": "config/run"}),
        Example(files=_files(_CONFIG, runs={"r1": _RUN, "r2-ablation_v1.5": _RUN})),
        Example(files=_files(_CONFIG.replace("  - _self_\n", "  - _self_\n  - runs: r1\n"))),
        Example(files=_files(_CONFIG + "hydra:\n  job:\n    chdir: false\n  run:\n    dir: .\n")),
        Example(files=_files(_CONFIG.replace("mode: full\n", "trial_mode: false\n")), options={"mode_flag": "trial_mode"}),
    ],
)
def hydra_cannot_compose(bundle: Bundle) -> Iterator[Hit]:
    composed = hydra_compositions(bundle)
    if composed is None:
        return
    yield from _child_overrides(bundle, composed)
    for path, node, what in composed.outside:
        yield Hit(path, f"`{what}` makes Hydra read configs from outside the repository; expreview does not "
                        "follow it, so whether every run composes was not checked", node,
                  severity=WARNING, consequence=ADVICE)
    if composed.outside:
        return
    groups: dict[tuple[str, str, str], list[Composition]] = {}
    places: dict[tuple[str, str, str], Where] = {}
    for failure in composed.compositions:
        if failure.error is None:
            continue
        path, where = _where(bundle, failure)
        line = where if isinstance(where, int) else (where.start_mark.line + 1 if where is not None else 0)
        key = (failure.error, path, str(line))
        groups.setdefault(key, []).append(failure)
        places.setdefault(key, where)
    all_runs = sorted({c.run_id for c in composed.compositions})
    all_modes = sorted({c.mode for c in composed.compositions})
    for key in sorted(groups, key=lambda k: (k[1], int(k[2]), k[0])):
        failures = groups[key]
        runs = sorted({f.run_id for f in failures})
        modes = sorted({f.mode for f in failures})
        if len(runs) == 1:
            who = f"run `{runs[0]}`"
        elif runs == all_runs:
            who = f"every run ({_names(runs)})"
        else:
            who = f"runs {_names(runs)}"
        when = "" if modes == all_modes else f" (only {failures[0].overrides[-1].split('=')[0]}={', '.join(modes)})"
        yield Hit(key[1], f"Hydra cannot compose the config of {who}{when}: `{_command(failures[0].overrides)}` "
                          f"fails with \"{key[0]}\" before main starts", places[key])
