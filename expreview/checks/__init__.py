"""The built-in rules, one module per family. Importing this package registers them."""
from . import (  # noqa: F401
    checkpoints,
    cli_contract,
    configs,
    dependencies,
    derivation,
    executability,
    figures,
    hydra,
    layout,
    orchestration,
    placeholders,
    specialisation,
    stdout_contract,
    wandb_eval,
)
