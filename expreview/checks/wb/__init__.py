"""WB: WandB logging in train and retrieval in evaluate (hydra stage): logging in the training loop
and the summary (train_logging), the keys evaluate reads (metric_keys), the run address
(run_address), no WandB in an Optuna objective (optuna_objective)."""
