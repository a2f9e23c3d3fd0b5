"""The built-in rules, one module per family. Importing this package registers them."""
from . import (  # noqa: F401
    checkpoints,
    cli_contract,
    configs,
    dependencies,
    derivation,
    executability,
    figures,
    layout,
    orchestration,
    placeholders,
    specialisation,
    stdout_contract,
)
