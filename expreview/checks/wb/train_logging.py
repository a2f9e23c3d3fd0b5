"""WB001: train.py initialises WandB, logs in the training loop and writes wandb.summary."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.wb.common import TRAIN, TRAIN_EXAMPLE, log_calls, summary_writes
from expreview.facts.task import run_module
from expreview.facts.call_graph import functions_called_in_loops
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, Index, dotted_name


def _logs_in_a_loop(index: Index, logs: list[Call]) -> bool:
    """A WandB log call runs once per step or epoch: it stands in a loop, in a function called in
    a loop (also as a method: `logger.log(…)` reaching a `def log` that calls wandb.log), or in a
    function handed on as a callback (`log_fn=_log`), whose calls this file does not show."""
    in_loops = functions_called_in_loops(index)
    if any(c.loops or (c.scope is not None and c.scope.name in in_loops) for c in logs):
        return True
    methods = {c.scope.name for c in logs if c.scope is not None and c.scope.class_name is not None}
    for call in index.calls:
        looped = call.loops or (call.scope is not None and call.scope.name in in_loops)
        if looped and call.method in methods and call.name != call.method:
            return True
    loggers = {c.scope.name for c in logs if c.scope is not None}
    handed = loggers | {f"self.{name}" for name in methods}

    def is_logger(expr: cst.CSTNode) -> bool:
        return dotted_name(expr) in handed

    for statement in index.statements:  # `log_fn = _log`, `self.log_fn = self._log_metrics`
        if isinstance(statement, cst.Assign) and is_logger(statement.value):
            return True
    return any(is_logger(a.value) for call in index.calls for a in call.node.args)  # `run(log_fn=_log)`


@rule(
    code="WB001", name="wandb-logging", severity=ERROR,
    consequence=CRITERION,
    criterion="train.py initializes WandB, calls `wandb.log()` at each training step/batch/epoch, and "
              "uses `wandb.summary[\"key\"] = value` for final/best metrics.",
    rationale="WandB is the only record of a hydra run; evaluate reads history and summary from it.",
    invalid=[Example(files={TRAIN: TRAIN_EXAMPLE.replace("    run.summary[\"best_val_accuracy\"] = best\n", "")}, line=1),
             Example(files={TRAIN: """
                 import json


                 def train():
                     print(json.dumps({'acc': 1}))
                 """}),
             # the wrapper that logs is called only after the loop, and the final metrics go to a plain dict
             Example(files={TRAIN: """
                 import wandb


                 class Tracker:
                     def log(self, metrics):
                         wandb.log(metrics)


                 def train(cfg, model, data):
                     wandb.init(project=cfg.wandb.project)
                     tracker, results = Tracker(), {}
                     for batch in data:
                         loss = model(batch)
                     tracker.log({"train_loss": loss})
                     for k, v in {"final_loss": loss}.items():
                         results[k] = v
                 """}, message="no wandb.log inside the training loop")],
    valid=[Example(files={TRAIN: TRAIN_EXAMPLE}),
           # a run handle (`with wandb.init(…) as run`, `import wandb as wb`), summary keys written in a loop
           Example(files={TRAIN: """
               import wandb as wb


               def train(cfg, model, data):
                   with wb.init(project=cfg.wandb.project) as run:
                       for epoch in range(cfg.training.epochs):
                           stats = model(data)
                           run.log({f"val_{k}": v for k, v in stats.items()})
                       for k, v in stats.items():
                           wb.summary[k] = v
               """}),
           # a logging method called in the loop, a callback whose calls are in another file, summary.update
           Example(files={TRAIN: """
               import wandb


               class Tracker:
                   def __init__(self, cfg):
                       self.run = wandb.init(project=cfg.wandb.project)

                   def log(self, metrics):
                       self.run.log(metrics)


               def train(cfg, model, data):
                   tracker = Tracker(cfg)
                   for batch in data:
                       tracker.log({"train_loss": model(batch)})
                   tracker.run.summary.update({"final_loss": 0.0})
               """}),
           Example(files={TRAIN: """
               import wandb

               from src.model import fit


               def train(cfg, model, data):
                   run = wandb.init(project=cfg.wandb.project)

                   def _log(metrics):
                       run.log(metrics)

                   final = fit(model, data, log_fn=_log)
                   for key, value in final.items():
                       run.summary[key] = value
               """})],
)
def wandb_logging(bundle: Bundle) -> Iterator[Hit]:
    path = run_module(bundle)  # src/inference.py for a template inference task
    source = bundle.parsed(path)
    if source is None:
        return
    index = source.index
    if not index.calls_to("wandb.init"):
        yield Hit(path, f"{path} never calls wandb.init; initialise WandB with the entity and project "
                        "from the config")
    logs = log_calls(index)
    if path == TRAIN and not _logs_in_a_loop(index, logs):
        yield Hit(path, f"{path} has no wandb.log inside the training loop; log the metrics every "
                        "step or epoch", logs[0].node if logs else None)
    elif path != TRAIN and not logs:
        yield Hit(path, f"{path} never calls wandb.log; log the inference metrics")
    if bundle.option("wandb_summary", True) and not summary_writes(index):
        yield Hit(path, f"{path} never writes wandb.summary[...]; store the final/best metrics there "
                        "(e.g. run.summary[\"best_val_accuracy\"] = best)")
