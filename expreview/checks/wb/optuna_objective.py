"""WB004: an Optuna objective does not reach WandB (only the final run is logged)."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.wb.common import TRAIN, TRAIN_EXAMPLE, log_calls
from expreview.facts.task import run_module
from expreview.facts.call_graph import reachable
from expreview.findings import CRITERION, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Index, dotted_name, iter_subtree


def _objectives(index: Index) -> list:
    out = []
    for call in index.calls:
        if not call.name.endswith(".optimize") or not call.node.args:
            continue
        target = call.node.args[0].value
        if isinstance(target, cst.Lambda):
            names = {dotted_name(n.func) for n in iter_subtree(target.body) if isinstance(n, cst.Call)}
        else:
            names = {dotted_name(target)}
        for name in names:
            fn = index.function(name.rsplit(".", 1)[-1]) if name else None
            if fn is not None:
                out.append(fn)
    return out


@rule(
    code="WB004", name="wandb-in-optuna-objective", severity=WARNING,
    consequence=CRITERION,
    criterion="If using Optuna, DO NOT log intermediate trial results to WandB - only log the final "
              "run with best hyperparameters.",
    rationale="Every trial that reaches wandb.init creates a run under the same id or project, and "
              "evaluate then reads a trial instead of the final run.",
    invalid=[Example(files={TRAIN: TRAIN_EXAMPLE + "\n\ndef objective(trial, cfg):\n    return train(cfg, None, None)\n\n\n"
                                            "def tune(study, cfg):\n    study.optimize(lambda t: objective(t, cfg), n_trials=3)\n"}, line=15)],
    valid=[Example(files={TRAIN: TRAIN_EXAMPLE + "\n\ndef objective(trial, cfg):\n    return trial.suggest_float('lr', 1e-4, 1e-2)\n\n\n"
                                          "def tune(study, cfg):\n    study.optimize(lambda t: objective(t, cfg), n_trials=3)\n"}),
           # `log` in fit is its callback parameter, which the objective leaves unset: not the logging `log`
           Example(files={TRAIN: "import wandb\n\n\ndef fit(cfg, log=None):\n    if log is not None:\n        log({'loss': 1.0})\n"
                                 "    return 1.0\n\n\ndef run(cfg):\n    def log(metrics):\n        wandb.log(metrics)\n"
                                 "    wandb.init(project='p')\n    return fit(cfg, log=log)\n\n\n"
                                 "def objective(trial, cfg):\n    return fit(cfg)\n\n\n"
                                 "def tune(study, cfg):\n    study.optimize(lambda t: objective(t, cfg), n_trials=3)\n"})],
)
def wandb_in_objective(bundle: Bundle) -> Iterator[Hit]:
    path = run_module(bundle)
    source = bundle.parsed(path)
    if source is None:
        return
    index = source.index
    loggers = {c.scope.name for c in index.calls_to("wandb.init") + log_calls(index) if c.scope is not None}
    for fn in _objectives(index):
        hit = reachable(index, fn) & loggers
        if hit:
            yield Hit(path, f"the Optuna objective `{fn.name}` reaches WandB (through {', '.join(sorted(hit))}), so "
                             "every trial is logged; log only the final run with the best parameters", fn.node)
