"""The built-in rules, one module (or package) per family, named by its code. Importing a family's
module registers its rules.

A review imports only the families its stage runs (`load`): a base review never pays for the
Hydra, WandB, evaluation and derived-versus-base families. Whatever lists every rule (the rule
reference, `expreview rules`, SARIF's rule descriptors) calls `load_all` first."""
from __future__ import annotations

import importlib
import re
from typing import Iterable

# family code -> its module under expreview.checks
FAMILIES = {
    "CFG": "cfg", "CKPT": "ckpt", "CLI": "cli", "DEP": "dep", "DRV": "drv", "EVAL": "eval", "FIG": "fig",
    "HYD": "hyd", "LAY": "lay", "OUT": "out", "PH": "ph", "PY": "py", "RUN": "run", "SPEC": "spec", "TPL": "tpl", "WB": "wb",
}


def family_of(code: str) -> str:
    """`HYD005` -> `HYD`."""
    return re.sub(r"\d+$", "", code)


def load(codes: Iterable[str]) -> None:
    """Import the families of `codes` (rule codes or family names); unknown ones are left to the
    caller, which reports them."""
    for family in sorted({family_of(code) for code in codes}):
        module = FAMILIES.get(family)
        if module is not None:
            importlib.import_module(f"{__name__}.{module}")


def load_all() -> None:
    load(FAMILIES)
