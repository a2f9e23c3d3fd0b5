"""What the WB rules share: the train.py and evaluate.py paths, the train.py the rule examples vary,
EVALUATE_EXAMPLE (the evaluate.py the rule examples vary, shared with EVAL), train's WandB log
calls and its summary writes."""
from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from expreview.sources.index import Call, Function, Index, Subscript, dotted_name

TRAIN, EVALUATE = "src/train.py", "src/evaluate.py"
TRAIN_EXAMPLE = (
    "import wandb\n\n\ndef train(cfg, model, data):\n"
    "    run = wandb.init(entity=cfg.wandb.entity, project=cfg.wandb.project, id=cfg.run.run_id, mode=cfg.wandb.mode)\n"
    "    best = 0.0\n    for epoch in range(cfg.training.epochs):\n        acc = model(data)\n"
    "        run.log({\"train_loss\": 1.0 - acc, \"val_accuracy\": acc, \"epoch\": epoch})\n        best = max(best, acc)\n"
    "    run.summary[\"best_val_accuracy\"] = best\n    run.finish()\n"
)
EVALUATE_EXAMPLE = (  # an evaluate.py that passes WB and EVAL
    "import json\nimport os\nimport sys\n\nimport wandb\nimport yaml\n\n\ndef main():\n"
    "    args = dict(a.split(\"=\", 1) for a in sys.argv[1:])\n    run_ids = json.loads(args[\"run_ids\"])\n"
    "    with open(\"config/config.yaml\") as fh:\n        cfg = yaml.safe_load(fh)\n"
    "    entity, project = cfg[\"wandb\"][\"entity\"], cfg[\"wandb\"][\"project\"]\n    api = wandb.Api()\n"
    "    values = {}\n    for run_id in run_ids:\n        run = api.run(f\"{entity}/{project}/{run_id}\")\n"
    "        history = run.history()\n        summary = run.summary._json_dict\n"
    "        values[run_id] = summary[\"best_val_accuracy\"]\n        curve = history[\"val_accuracy\"]\n"
    "        os.makedirs(os.path.join(args[\"results_dir\"], run_id), exist_ok=True)\n"
    "        with open(os.path.join(args[\"results_dir\"], run_id, \"metrics.json\"), \"w\") as fh:\n"
    "            json.dump({\"summary\": summary, \"curve\": list(curve)}, fh)\n"
    "    best_p = max((v, k) for k, v in values.items() if \"proposed\" in k)\n"
    "    best_b = max((v, k) for k, v in values.items() if \"comparative\" in k or \"baseline\" in k)\n"
    "    aggregated = {\"primary_metric\": \"best_val_accuracy\", \"metrics\": {\"best_val_accuracy\": values},\n"
    "                  \"best_proposed\": {\"run_id\": best_p[1], \"value\": best_p[0]},\n"
    "                  \"best_baseline\": {\"run_id\": best_b[1], \"value\": best_b[0]},\n"
    "                  \"gap\": (best_p[0] - best_b[0]) / best_b[0] * 100}\n"
    "    os.makedirs(os.path.join(args[\"results_dir\"], \"comparison\"), exist_ok=True)\n"
    "    with open(os.path.join(args[\"results_dir\"], \"comparison\", \"aggregated_metrics.json\"), \"w\") as fh:\n"
    "        json.dump(aggregated, fh)\n"
)


def _run_vars(index: Index) -> set[str]:
    """Names bound to `wandb.init(...)` (`run = …`, `self.run = …`, `with wandb.init(…) as run`,
    `run = wandb.init(…) if enabled else None`), and `wandb.run`."""
    names = {"wandb", "wandb.run"}
    inits = {id(c.node) for c in index.calls if c.qualname == "wandb.init" or c.name == "wandb.init"}

    def is_init(value: Optional[cst.CSTNode]) -> bool:
        if isinstance(value, cst.IfExp):
            return is_init(value.body) or is_init(value.orelse)
        return value is not None and id(value) in inits

    for statement in index.statements:
        if isinstance(statement, cst.Assign) and is_init(statement.value):
            targets = [t.target for t in statement.targets]
        elif isinstance(statement, cst.AnnAssign) and is_init(statement.value):
            targets = [statement.target]
        elif isinstance(statement, cst.With):
            targets = [item.asname.name for item in statement.items if item.asname is not None and is_init(item.item)]
        else:
            continue
        names.update(name for name in map(dotted_name, targets) if name)
    return names


def log_calls(index: Index) -> list[Call]:
    runs = _run_vars(index)
    return [c for c in index.calls if c.name.endswith(".log") and
            (c.qualname == "wandb.log" or c.name.rsplit(".", 1)[0] in runs or "run" in c.name.rsplit(".", 1)[0].lower())]


_ComputedWrite = tuple[int, cst.Subscript, Optional[Function]]  # statement ordinal, target, scope


def summary_writes(index: Index) -> list[Union[Subscript, Call, _ComputedWrite]]:
    """`….summary["key"] = v` (a Subscript), `….summary.update(…)` (a Call), and writes whose key is
    computed, `for k, v in d.items(): wandb.summary[k] = v` (statement ordinal, target, scope)."""
    writes: list[Union[Subscript, Call, _ComputedWrite]] = [
        s for s in index.subscripts if s.store and s.base.endswith("summary")]
    writes += [c for c in index.calls if c.name.endswith("summary.update")]
    recorded = {id(s.node) for s in index.subscripts}
    scopes = sorted(((fn.stmt, index.last_inside.get(fn.stmt, fn.stmt), fn) for fn in index.functions),
                    key=lambda r: r[0])
    for ordinal, statement in enumerate(index.statements):
        if isinstance(statement, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
            targets = [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
            for t in targets:
                if isinstance(t, cst.Subscript) and id(t) not in recorded and dotted_name(t.value).endswith("summary"):
                    # the innermost function around the statement
                    scope = next((fn for first, last, fn in reversed(scopes) if first < ordinal <= last), None)
                    writes.append((ordinal, t, scope))
    return writes
