"""HYD: Hydra wiring, run configs, mode handling, caches and WandB settings (hydra stage)."""
from __future__ import annotations

from typing import Iterator

import posixpath
import re

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.hydra_config import CONFIG, base_config, hydra_main, run_configs
from expreview.facts.literals import literal
from expreview.facts.pretrained import loads_local_directory
from expreview.findings import CRASH, CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import dotted_name, keyword_argument, string_value

MAIN = "src/main.py"
_CONFIG = "defaults:\n  - _self_\nrun: null\nmode: full\nresults_dir: outputs\nwandb:\n  entity: me\n  project: exp\n  mode: online\n"
_MAIN = (
    "import hydra\nfrom omegaconf import DictConfig, open_dict\n\n\n"
    "@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)\n"
    "def main(cfg: DictConfig) -> None:\n    with open_dict(cfg):\n        if cfg.mode == \"trial\":\n"
    "            cfg.wandb.mode = \"disabled\"\n            cfg.optuna.n_trials = 0\n            cfg.training.epochs = 1\n"
    "        elif cfg.mode == \"full\":\n            cfg.wandb.mode = \"online\"\n"
    "    run_cfg = f\"config/runs/{cfg.run}.yaml\"\n    return run_cfg\n"
)
_RUN = "run_id: r1\nmethod: proposed\nmodel:\n  name: mlp\ndataset:\n  name: digits\ntraining:\n  epochs: 3\noptuna:\n  n_trials: 0\n"


@rule(
    code="HYD001", name="hydra-entry-point", severity=ERROR,
    consequence=CRASH,
    criterion="Uses Hydra to manage all experiment configurations: src/main.py has `@hydra.main` "
              "whose config_path/config_name resolve to config/config.yaml from src/.",
    rationale="`python -m src.main run=… results_dir=… mode=…` only works through Hydra; a wrong "
              "config_path fails with MissingConfigException before anything runs.",
    invalid=[Example(files={MAIN: _MAIN.replace('"../config"', '"config"'), CONFIG: _CONFIG}, line=5),
             Example(files={MAIN: """
                 import argparse
                 p = argparse.ArgumentParser()
                 """, CONFIG: _CONFIG}, line=1)],
    valid=[Example(files={MAIN: _MAIN, CONFIG: _CONFIG})],
)
def hydra_entry_point(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.python(MAIN)
    if source is None or not source.ok:
        return
    found = hydra_main(source)
    if found is None:
        yield Hit(MAIN, "src/main.py has no `@hydra.main`; decorate main with "
                        "`@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)`")
        return
    fn, deco = found
    config_path = literal(keyword_argument(deco.decorator, "config_path"))
    config_name = literal(keyword_argument(deco.decorator, "config_name"))
    if config_path is None and isinstance(deco.decorator, cst.Call) and deco.decorator.args \
            and deco.decorator.args[0].keyword is None:
        config_path = literal(deco.decorator.args[0].value)
    if not isinstance(config_path, str) or not isinstance(config_name, str):
        yield Hit(MAIN, "`@hydra.main` does not name config_path and config_name; pass "
                        "config_path=\"../config\", config_name=\"config\"", deco)
        return
    resolved = posixpath.normpath(posixpath.join("src", config_path, config_name if config_name.endswith(".yaml")
                                                 else config_name + ".yaml"))
    if resolved != CONFIG:
        yield Hit(MAIN, f"`@hydra.main(config_path={config_path!r}, config_name={config_name!r})` resolves to "
                        f"{resolved} from src/, not {CONFIG}; use config_path=\"../config\", config_name=\"config\"",
                  deco)


@rule(
    code="HYD002", name="run-configs-location", severity=ERROR,
    consequence=CRASH,
    criterion="Uses Hydra to manage all experiment configurations from `config/runs/*.yaml` "
              "(profile option `runs_dir`).",
    rationale="`run={run_id}` must select `{runs_dir}/{run_id}.yaml`; run configs anywhere else are "
              "never loaded.",
    invalid=[Example(files={MAIN: _MAIN.replace("config/runs/", "configs/"), CONFIG: _CONFIG, "config/runs/r1.yaml": _RUN}, line=1)],
    valid=[Example(files={MAIN: _MAIN, CONFIG: _CONFIG, "config/runs/r1.yaml": _RUN}),
           Example(files={MAIN: _MAIN.replace("    run_cfg = f\"config/runs/{cfg.run}.yaml\"\n", "    run_cfg = cfg.run\n"),
                          CONFIG: _CONFIG.replace("  - _self_\n", "  - _self_\n  - runs@run: r1\n"),
                          "config/runs/r1.yaml": _RUN})],
)
def run_configs_location(bundle: Bundle) -> Iterator[Hit]:
    runs_dir = bundle.option("runs_dir", "config/runs")
    group = runs_dir.rsplit("/", 1)[-1]
    misplaced = [p for p in bundle.paths() if re.match(r"config/runs?/[^/]+\.ya?ml$", p) and not p.startswith(runs_dir + "/")]
    for path in misplaced:
        yield Hit(path, f"{path} is outside {runs_dir}/, where run configs belong under this profile; move it")
    doc = bundle.yaml(CONFIG)
    defaults = doc.data.get("defaults") if doc is not None and isinstance(doc.data, dict) else None
    if isinstance(defaults, list):
        for item in defaults:
            keys = [str(k) for k in item] if isinstance(item, dict) else [str(item)]
            if any(k.split("@")[0].lstrip("/").split("/")[0] == group for k in keys):
                return  # the run configs are a Hydra config group
    for source in bundle.python_files():
        for s in source.index.strings:
            if f"{runs_dir}/" in s.value or re.search(rf"(^|/){re.escape(group)}/?$", s.value) or s.value == group:
                return
    yield Hit(MAIN, f"no file loads the run configs from {runs_dir}/ (neither a `{group}` config group in "
                    f"config/config.yaml nor a path to {runs_dir}/{{run}}.yaml); `run=<id>` selects nothing")


_OVERRIDE = re.compile(r"^\+{0,2}([A-Za-z_][\w.]*)=(\S*)$")


def _override_value(text: str):
    try:
        return int(text)
    except ValueError:
        return text.strip("'\"")


_EPOCH_KEYS = ("epochs", "num_epochs", "n_epochs", "max_epochs", "epoch", "total_steps", "max_steps")


def _assignments(bundle: Bundle):
    """(dotted target, value) for every attribute assignment in the bundle."""
    for source in bundle.python_files():
        if not source.ok:
            continue
        for statement in source.index.statements:
            if isinstance(statement, cst.Assign):
                for target in statement.targets:
                    name = dotted_name(target.target)
                    if name:
                        yield name, literal(statement.value)
        for call in source.index.calls:
            if call.name.endswith("OmegaConf.update") and len(call.node.args) >= 3:
                key = string_value(call.node.args[1].value)
                if key:
                    yield "cfg." + key, literal(call.node.args[2].value)
        for s in source.index.strings:  # Hydra overrides handed to a child: "wandb.mode=disabled"
            match = _OVERRIDE.match(s.value)
            if match:
                yield "cfg." + match.group(1), _override_value(match.group(2))


@rule(
    code="HYD003", name="mode-handling", severity=ERROR,
    consequence=CRITERION,
    criterion="Code must automatically configure based on mode: `mode == \"trial\"` sets "
              "`wandb.mode=\"disabled\"`, `optuna.n_trials=0` and one epoch; `mode == \"full\"` sets "
              "`wandb.mode=\"online\"` (older prompts: `trial_mode=true`).",
    rationale="The pipeline's trial run checks that the code runs; without the overrides it trains "
              "for hours, logs to WandB and runs the whole Optuna study.",
    invalid=[Example(files={MAIN: _MAIN.replace("            cfg.wandb.mode = \"disabled\"\n", ""), CONFIG: _CONFIG}, line=8)],
    valid=[Example(files={MAIN: _MAIN, CONFIG: _CONFIG})],
)
def mode_handling(bundle: Bundle) -> Iterator[Hit]:
    flag = bundle.option("mode_flag", "mode")
    texts = {s.value for source in bundle.python_files() if source.ok for s in source.index.strings}
    if flag == "mode" and "trial" not in texts:
        yield Hit(MAIN, "no file checks `cfg.mode == \"trial\"`; handle the trial mode (wandb disabled, "
                        "optuna.n_trials=0, one epoch)")
        return
    assigned = list(_assignments(bundle))
    where = _mode_branch(bundle)
    env_disabled = any("WANDB_MODE" in t for t in texts) and "disabled" in texts

    def sets(suffix, value=None):
        return any(name.endswith(suffix) and (value is None or v == value) for name, v in assigned)

    missing = []
    if not (sets("wandb.mode", "disabled") or env_disabled):
        missing.append('wandb.mode = "disabled"')
    if flag == "mode":  # the older trial_mode prompts ask only for WandB to be disabled
        if not sets("optuna.n_trials", 0):
            missing.append("optuna.n_trials = 0")
        if not any(name.rsplit(".", 1)[-1] in _EPOCH_KEYS for name, _ in assigned):
            missing.append("epochs = 1")
    if missing:
        when = 'cfg.mode == "trial"' if flag == "mode" else "cfg.trial_mode is true"
        them = "them" if len(missing) > 1 else "it"
        yield Hit(where[0], f"the trial mode does not set {', '.join(missing)}; set {them} when {when}", where[1])
    if flag == "mode" and not sets("wandb.mode", "online"):
        yield Hit(where[0], "the full mode does not set wandb.mode = \"online\"; set it when cfg.mode == \"full\"",
                  where[1])


def _mode_branch(bundle: Bundle):
    """(path, node) of the first `… == "trial"` test (or any mention of trial_mode), else main."""
    for source in bundle.python_files():
        if not source.ok:
            continue
        for s in source.index.strings:
            if s.value == "trial" and id(s.node) in source.index.compared:
                return source.path, s.node
        for attr in source.index.attributes:
            if attr.name.endswith("trial_mode"):
                return source.path, attr.node
    return MAIN, None


_SECTIONS = ("run_id", "method", "model", "dataset", "training", "optuna")


@rule(
    code="HYD004", name="run-config-sections", severity=ERROR,
    consequence=CRITERION,
    criterion="Proper configuration structure with run_id, method, model, dataset, training, and "
              "optuna sections in every run config.",
    rationale="The code reads these sections for every run; a run config without one fails at the "
              "first access.",
    invalid=[Example(files={"config/runs/r1.yaml": _RUN.replace("optuna:\n  n_trials: 0\n", "")}, line=1)],
    valid=[Example(files={"config/runs/r1.yaml": _RUN})],
)
def run_config_sections(bundle: Bundle) -> Iterator[Hit]:
    for path, data in run_configs(bundle):
        missing = [s for s in _SECTIONS if s not in data]
        if missing:
            yield Hit(path, f"{path} lacks the section{'s' * (len(missing) > 1)} {', '.join(missing)}; every run "
                            "config needs run_id, method, model, dataset, training and optuna", 1)


_HUB_LOADERS = ("load_dataset", "from_pretrained", "hf_hub_download", "snapshot_download")
_SKLEARN_FETCH = "sklearn.datasets.fetch_"


@rule(
    code="HYD005", name="cache-dir", severity=ERROR,
    consequence=CRITERION,
    criterion="Uses `.cache/` as the cache directory for all datasets and models.",
    rationale="Runs share one download cache; without `cache_dir=\".cache/\"` every run downloads "
              "into the home directory of whatever machine it lands on.",
    invalid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset


        def data(cfg):
            return load_dataset(cfg.dataset.name)
        """}, line=5, message='pass cache_dir=".cache/"')],
    valid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset as hf_load


        def load_dataset(cfg):
            return hf_load(cfg.dataset.name, cache_dir="./.cache/")


        def data(cfg):
            return load_dataset(cfg)
        """})],
)
def cache_dir(bundle: Bundle) -> Iterator[Hit]:
    local = {fn.name for source in bundle.python_files() for fn in source.index.functions}
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in source.index.calls:
            keyword = None
            if call.name in local or call.name.split(".")[0] in ("self", "cls"):
                continue  # the bundle's own wrappers
            if call.name.endswith(_HUB_LOADERS) or call.qualname.endswith(_HUB_LOADERS):
                if call.name.endswith(".from_pretrained") and loads_local_directory(source, call):
                    continue  # a saved checkpoint directory, not a hub download
                keyword = "cache_dir"
            elif call.qualname.startswith(_SKLEARN_FETCH):
                keyword = "data_home"
            elif call.qualname.startswith("torchvision.datasets."):
                keyword = "root"
            if keyword is None:
                continue
            value = call.keyword(keyword)
            if value is None and keyword == "root":
                value = call.positional(0)
            if value is None:
                yield Hit(source.path, f"`{call.name}(…)` has no {keyword}=; pass {keyword}=\".cache/\"", call.node)
                continue
            text = string_value(value) if not isinstance(value, cst.FormattedString) else None
            if text is not None and not text.removeprefix("./").startswith(".cache"):
                yield Hit(source.path, f"`{call.name}(…)` caches in {text!r}; use {keyword}=\".cache/\"", call.node)


@rule(
    code="HYD006", name="wandb-settings", severity=ERROR,
    consequence=CRITERION,
    criterion="config/config.yaml contains mandatory WandB settings (entity/project).",
    rationale="train and evaluate both address runs as `{entity}/{project}/{run_id}`; without them "
              "logging goes to a default project evaluate cannot find.",
    invalid=[Example(files={CONFIG: """
        defaults:
          - _self_
        wandb:
          mode: online
        """}, line=1)],
    valid=[Example(files={CONFIG: _CONFIG})],
)
def wandb_settings(bundle: Bundle) -> Iterator[Hit]:
    data = base_config(bundle)
    if data is None:
        return
    wandb = data.get("wandb")
    missing = [k for k in ("entity", "project") if not isinstance(wandb, dict) or not wandb.get(k)]
    if missing:
        yield Hit(CONFIG, f"config/config.yaml has no wandb.{' or wandb.'.join(missing)}; add them under `wandb:`", 1)
