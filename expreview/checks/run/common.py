"""What the RUN rules share: the orchestrating script, the commands that start a child process,
the sequential main that the rule examples vary, and the name a started process is bound to."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from expreview.facts.script_launches import SUBPROCESS_CALLS
from expreview.sources.index import Call, Index

__all__ = ["MAIN", "SEQUENTIAL_MAIN", "SUBPROCESS_CALLS", "bound_name"]

MAIN = "src/main.py"

SEQUENTIAL_MAIN = '''import subprocess
import sys
import yaml


def run_one(run, results_dir):
    cmd = [sys.executable, "-m", "src.train", "--run-id", run["run_id"], "--results-dir", results_dir]
    with open(f"{results_dir}/{run['run_id']}/stdout.log", "w") as out, open(f"{results_dir}/{run['run_id']}/stderr.log", "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = proc.communicate()
        out.write(stdout)
        err.write(stderr)
        sys.stdout.write(stdout)
        sys.stderr.write(stderr)


def main(smoke, results_dir):
    path = "config/smoke_test.yaml" if smoke else "config/full_experiment.yaml"
    with open(path) as fh:
        cfg = yaml.safe_load(fh)
    for run in cfg["runs"]:
        run_one(run, results_dir)
'''


def bound_name(index: Index, call: Call) -> Optional[str]:
    statement = index.statements[call.stmt] if call.stmt >= 0 else None
    if isinstance(statement, cst.Assign) and statement.value is call.node:
        target = statement.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    if isinstance(statement, cst.With):
        for item in statement.items:
            if item.item is call.node and item.asname is not None and isinstance(item.asname.name, cst.Name):
                return item.asname.name.value
    return None
