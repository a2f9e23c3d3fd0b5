"""HYD006: config/config.yaml has the WandB entity and project."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.hyd.common import CONFIG_EXAMPLE
from expreview.facts.hydra_config import CONFIG, base_config
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule


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
    valid=[Example(files={CONFIG: CONFIG_EXAMPLE})],
)
def wandb_settings(bundle: Bundle) -> Iterator[Hit]:
    data = base_config(bundle)
    if data is None:
        return
    wandb = data.get("wandb")
    missing = [k for k in ("entity", "project") if not isinstance(wandb, dict) or not wandb.get(k)]
    if missing:
        yield Hit(CONFIG, f"config/config.yaml has no wandb.{' or wandb.'.join(missing)}; add them under `wandb:`", 1)
