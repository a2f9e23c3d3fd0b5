"""CFG: the configuration files, plain YAML, derived and Hydra."""
from . import rules  # noqa: F401
