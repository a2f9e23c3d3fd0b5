"""The run configs: they lie in `config/runs/` (profile option `runs_dir`) and something loads them
from there (HYD002), and each has the run_id, method, model, dataset, training and optuna sections
(HYD004)."""
from __future__ import annotations

import re
from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.hyd.common import CONFIG_EXAMPLE, MAIN, MAIN_EXAMPLE, RUN_EXAMPLE
from expreview.facts.hydra_config import CONFIG, run_configs
from expreview.findings import CRASH, CRITERION, ERROR
from expreview.rule import Example, Hit, rule


@rule(
    code="HYD002", name="run-configs-location", severity=ERROR,
    consequence=CRASH,
    criterion="Uses Hydra to manage all experiment configurations from `config/runs/*.yaml` "
              "(profile option `runs_dir`).",
    rationale="`run={run_id}` must select `{runs_dir}/{run_id}.yaml`; run configs anywhere else are "
              "never loaded.",
    invalid=[Example(files={MAIN: MAIN_EXAMPLE.replace("config/runs/", "configs/"), CONFIG: CONFIG_EXAMPLE, "config/runs/r1.yaml": RUN_EXAMPLE}, line=1)],
    valid=[Example(files={MAIN: MAIN_EXAMPLE, CONFIG: CONFIG_EXAMPLE, "config/runs/r1.yaml": RUN_EXAMPLE}),
           Example(files={MAIN: MAIN_EXAMPLE.replace("    run_cfg = f\"config/runs/{cfg.run}.yaml\"\n", "    run_cfg = cfg.run\n"),
                          CONFIG: CONFIG_EXAMPLE.replace("  - _self_\n", "  - _self_\n  - runs@run: r1\n"),
                          "config/runs/r1.yaml": RUN_EXAMPLE})],
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


_SECTIONS = ("run_id", "method", "model", "dataset", "training", "optuna")


@rule(
    code="HYD004", name="run-config-sections", severity=ERROR,
    consequence=CRITERION,
    criterion="Proper configuration structure with run_id, method, model, dataset, training, and "
              "optuna sections in every run config.",
    rationale="The code reads these sections for every run; a run config without one fails at the "
              "first access.",
    invalid=[Example(files={"config/runs/r1.yaml": RUN_EXAMPLE.replace("optuna:\n  n_trials: 0\n", "")}, line=1)],
    valid=[Example(files={"config/runs/r1.yaml": RUN_EXAMPLE})],
)
def run_config_sections(bundle: Bundle) -> Iterator[Hit]:
    sections = [str(s) for s in bundle.option("run_sections", _SECTIONS)]  # template: training etc. as needed
    for path, data in run_configs(bundle):
        missing = [s for s in sections if s not in data]
        if missing:
            yield Hit(path, f"{path} lacks the section{'s' * (len(missing) > 1)} {', '.join(missing)}; every run "
                            f"config needs {', '.join(sections[:-1])} and {sections[-1]}", 1)
