"""CFG: the configuration files, plain YAML (plain), derived (derived) and Hydra (hydra); the name
dispatch that CFG004 follows is in dispatch. Importing this package registers the rules."""
from . import derived, hydra, plain  # noqa: F401
