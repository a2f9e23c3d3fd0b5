"""What the HYD rules share: the Hydra entry point's path, and the config.yaml, main.py and run
config that the rule examples vary."""
from __future__ import annotations

MAIN = "src/main.py"
CONFIG_EXAMPLE = "defaults:\n  - _self_\nrun: null\nmode: full\nresults_dir: outputs\nwandb:\n  entity: me\n  project: exp\n  mode: online\n"
MAIN_EXAMPLE = (
    "import hydra\nfrom omegaconf import DictConfig, open_dict\n\n\n"
    "@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)\n"
    "def main(cfg: DictConfig) -> None:\n    with open_dict(cfg):\n        if cfg.mode == \"trial\":\n"
    "            cfg.wandb.mode = \"disabled\"\n            cfg.optuna.n_trials = 0\n            cfg.training.epochs = 1\n"
    "        elif cfg.mode == \"full\":\n            cfg.wandb.mode = \"online\"\n"
    "    run_cfg = f\"config/runs/{cfg.run}.yaml\"\n    return run_cfg\n"
)
RUN_EXAMPLE = "run_id: r1\nmethod: proposed\nmodel:\n  name: mlp\ndataset:\n  name: digits\ntraining:\n  epochs: 3\noptuna:\n  n_trials: 0\n"
