"""The Hydra programs that the CFG006 and CFG008 examples vary: a config.yaml with the run config
loaded and merged by the code (HYDRA_*), and one that selects the run config as the `run` group
(GROUP_*)."""
from __future__ import annotations

HYDRA_CONFIG = "defaults:\n  - _self_\nmode: full\nwandb:\n  entity: e\n  project: p\ntraining:\n  epochs: 2\n"
RUN = "run_id: r1\nmethod: proposed\nmodel:\n  name: mlp\ndataset:\n  name: digits\ntraining:\n  lr: 0.01\noptuna:\n  n_trials: 0\nevaluation:\n  interval_steps: 10\n"
GROUP_CONFIG = "defaults:\n  - _self_\n  - run: ???\nresults_dir: outputs\nmode: full\n"
GROUP_MAIN = (
    "import hydra\nfrom omegaconf import DictConfig\nfrom omegaconf.errors import ConfigAttributeError\n\n\n"
    "@hydra.main(config_path='../config', config_name='config', version_base=None)\n"
    "def main(cfg: DictConfig):\n    return cfg.training.lr\n\n\nif __name__ == '__main__':\n    main()\n"
)
HYDRA_TRAIN = (
    "import hydra\nfrom omegaconf import DictConfig, OmegaConf, open_dict\n\n\n"
    "@hydra.main(config_path='../config', config_name='config', version_base=None)\n"
    "def main(cfg: DictConfig):\n    run_cfg = OmegaConf.load(f'config/runs/{cfg.run}.yaml')\n"
    "    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n"
    "    return cfg.evaluation.interval_steps, cfg.training.lr\n"
)
