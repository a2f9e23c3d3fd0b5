"""HYD: Hydra wiring, run configs, mode handling, caches and WandB settings (hydra stage): the
entry point (entry), where the run configs lie and what they hold (run_configs), the trial and full
modes (mode), the download cache (cache), the WandB entity and project (wandb_config)."""
