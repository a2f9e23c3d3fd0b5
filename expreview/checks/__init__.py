"""The built-in rules, one module (or package) per family, named by its code. Importing a family's
module registers its rules.

A review imports only the modules of the rules its stage runs (`load`): a base review never pays for
the Hydra composition, WandB, evaluation and derived-versus-base rules. Whatever lists every rule (the rule
reference, `expreview rules`, SARIF's rule descriptors) calls `load_all` first."""
from __future__ import annotations

import importlib
import re
from typing import Iterable

# rule code -> the module under expreview.checks that defines it. A review imports the modules of
# the rules it runs and no others (a family's package imports nothing itself);
# tests/test_lazy_imports.py checks this table against what the modules register.
RULE_MODULES = {
    "CFG001": "cfg.yaml_parse", "CFG002": "cfg.run_list", "CFG003": "cfg.yaml_numbers",
    "CFG004": "cfg.configured_names", "CFG005": "cfg.unused_keys", "CFG006": "cfg.config_paths",
    "CFG007": "cfg.run_variations", "CFG008": "cfg.struct_writes", "CFG009": "cfg.composition",
    "CFG010": "cfg.same_runs", "CFG011": "cfg.resolvers",
    "CKPT001": "ckpt", "CKPT002": "ckpt",
    "DATA001": "data.collate", "DATA002": "data.dataset_configs",
    "CLI001": "cli.main_flags", "CLI002": "cli.subprocess_contract", "CLI003": "cli.key_value",
    "DEP001": "dep.pyproject", "DEP002": "dep.imports", "DEP003": "dep.imports", "DEP004": "dep.imports",
    "DRV001": "drv.missing", "DRV002": "drv.truncated", "DRV003": "drv.unchanged",
    "DRV004": "drv.annotations",
    "EVAL001": "eval", "EVAL002": "eval",
    "FIG001": "fig.pdf", "FIG002": "fig.destination", "FIG003": "fig.quality",
    "FIG004": "fig.outside_evaluate", "FIG005": "fig.destination",
    "HYD001": "hyd.entry", "HYD002": "hyd.run_configs", "HYD003": "hyd.mode", "HYD004": "hyd.run_configs",
    "HYD005": "hyd.cache", "HYD006": "hyd.wandb_config",
    "LAY001": "lay.files", "LAY002": "lay.files", "LAY003": "lay.files", "LAY004": "lay.imports",
    "LAY005": "lay.files",
    "OUT001": "out.stdout", "OUT002": "out.stdout", "OUT003": "out.stdout", "OUT004": "out.files",
    "PH001": "ph.scope", "PH002": "ph.explained", "PH003": "ph.leftovers", "PH004": "ph.leftovers",
    "PH005": "ph.leftovers",
    "PY001": "py.names", "PY002": "py.names", "PY003": "py.names", "PY004": "py.names", "PY005": "py.names",
    "PY006": "py.contracts", "PY007": "py.contracts", "PY008": "py.api_names", "PY009": "py.contracts",
    "PY010": "py.format_fields",
    "RUN001": "run.paths", "RUN002": "run.plan", "RUN003": "run.plan", "RUN004": "run.paths",
    "RUN005": "run.pipes", "RUN006": "run.evaluate", "RUN007": "run.hydra_cwd", "RUN008": "run.results_dir",
    "RUN009": "run.hydra_cwd",
    "SPEC001": "spec", "SPEC002": "spec",
    "TPL001": "tpl.dockerfile", "TPL002": "tpl.validation", "TPL003": "tpl.wandb_project",
    "WB001": "wb.train_logging", "WB002": "wb.metric_keys", "WB003": "wb.run_address",
    "WB004": "wb.optuna_objective",
}


def family_of(code: str) -> str:
    """`HYD005` -> `HYD`."""
    return re.sub(r"\d+$", "", code)


def load(codes: Iterable[str]) -> None:
    """Import the modules of `codes` (rule codes, or family names for a whole family); unknown ones
    are left to the caller, which reports them."""
    wanted = set(codes)
    modules = {module for code, module in RULE_MODULES.items() if code in wanted or family_of(code) in wanted}
    for module in sorted(modules):
        importlib.import_module(f"{__name__}.{module}")


def load_all() -> None:
    load(RULE_MODULES)
