"""RUN: how src/main.py orchestrates the runs: configs and logs (paths), one child per run in the
asked orchestration mode (plan), no pipe deadlock (pipes), no src.evaluate (evaluate), and the
directory a Hydra main's children start in and the files they find from there (hydra_cwd), and the results directory left in place
(results_dir)."""
