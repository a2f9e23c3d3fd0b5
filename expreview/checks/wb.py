"""WB: WandB logging in train and retrieval in evaluate (hydra stage). EVALUATE_EXAMPLE, the
evaluate.py the rule examples vary, is shared with EVAL."""
from __future__ import annotations

from typing import Iterator, Union

import re

import libcst as cst

from expreview.facts.call_graph import functions_called_in_loops, reachable
from expreview.bundle import Bundle
from expreview.findings import CRASH, CRITERION, ERROR, WARNING
from expreview.sources.index import Call, Index, Subscript, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource
from expreview.rule import Example, Hit, rule

TRAIN, EVALUATE = "src/train.py", "src/evaluate.py"
_TRAIN = (
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
    """Names bound to `wandb.init(...)`."""
    names = {"wandb"}
    for statement in index.statements:
        if isinstance(statement, cst.Assign) and isinstance(statement.value, cst.Call) \
                and dotted_name(statement.value.func) == "wandb.init":
            for target in statement.targets:
                if isinstance(target.target, cst.Name):
                    names.add(target.target.value)
    return names


def _log_calls(index: Index) -> list[Call]:
    runs = _run_vars(index)
    return [c for c in index.calls if c.name.endswith(".log") and
            (c.qualname == "wandb.log" or c.name.rsplit(".", 1)[0] in runs or "run" in c.name.rsplit(".", 1)[0].lower())]


def _summary_writes(index: Index) -> list[Union[Subscript, Call]]:
    writes: list[Union[Subscript, Call]] = [s for s in index.subscripts if s.store and s.base.endswith("summary")]
    writes += [c for c in index.calls if c.name.endswith("summary.update")]
    return writes


@rule(
    code="WB001", name="wandb-logging", severity=ERROR,
    consequence=CRITERION,
    criterion="train.py initializes WandB, calls `wandb.log()` at each training step/batch/epoch, and "
              "uses `wandb.summary[\"key\"] = value` for final/best metrics.",
    rationale="WandB is the only record of a hydra run; evaluate reads history and summary from it.",
    invalid=[Example(files={TRAIN: _TRAIN.replace("    run.summary[\"best_val_accuracy\"] = best\n", "")}, line=1),
             Example(files={TRAIN: """
                 import json


                 def train():
                     print(json.dumps({'acc': 1}))
                 """})],
    valid=[Example(files={TRAIN: _TRAIN})],
)
def wandb_logging(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.python(TRAIN)
    if source is None or not source.ok:
        return
    index = source.index
    if not index.calls_to("wandb.init"):
        yield Hit(TRAIN, "src/train.py never calls wandb.init; initialise WandB with the entity and project "
                         "from the config")
    logs = _log_calls(index)
    in_loops = functions_called_in_loops(index)
    if not any(c.loops or (c.scope is not None and c.scope.name in in_loops) for c in logs):
        yield Hit(TRAIN, "src/train.py has no wandb.log inside the training loop; log the metrics every "
                         "step or epoch", logs[0].node if logs else None)
    if bundle.option("wandb_summary", True) and not _summary_writes(index):
        yield Hit(TRAIN, "src/train.py never writes wandb.summary[...]; store the final/best metrics there "
                         "(e.g. run.summary[\"best_val_accuracy\"] = best)")


def _logged_keys(index: Index):
    """Keys train logs to WandB, or None when a logged dict is not a literal (unknowable)."""
    keys = set()
    for call in _log_calls(index):
        arg = call.positional(0)
        if isinstance(arg, cst.Dict):
            for el in arg.elements:
                if isinstance(el, cst.DictElement):
                    key = string_value(el.key)
                    if key is None:
                        return None
                    keys.add(key)
                else:
                    return None
        elif arg is not None:
            return None
    for write in _summary_writes(index):
        if hasattr(write, "key"):
            keys.add(write.key)
        else:
            return None
    return keys


def _history_vars(index: Index) -> set[str]:
    names = set()
    for statement in index.statements:
        if isinstance(statement, cst.Assign):
            value = dotted_name(statement.value.func) if isinstance(statement.value, cst.Call) else dotted_name(statement.value)
            if value.endswith((".history", ".scan_history", ".summary", "summary._json_dict")):
                for target in statement.targets:
                    if isinstance(target.target, cst.Name):
                        names.add(target.target.value)
    return names


def _read_keys(source: PythonSource) -> list[tuple[str, cst.CSTNode]]:
    index = source.index
    holders = _history_vars(index)
    reads: list[tuple[str, cst.CSTNode]] = []
    for sub in index.subscripts:
        if not sub.store and (sub.base in holders or sub.base.endswith(("summary", "summary._json_dict"))):
            reads.append((sub.key, sub.node))
    for call in index.calls:
        head = call.name.rsplit(".", 1)[0]
        if call.name.endswith(".get") and (head in holders or head.endswith("summary")):
            first = call.positional(0)
            key = string_value(first) if first is not None else None
            if key is not None:
                reads.append((key, call.node))
        # a helper handed the history and a key: extract_series(history, "epoch", "val_acc")
        if any(isinstance(a.value, cst.Name) and a.value.value in holders for a in call.node.args):
            for a in call.node.args:
                key = string_value(a.value) if a.keyword is None else None
                if key is not None and key.isidentifier():
                    reads.append((key, a.value))
        if call.name.endswith(".plot") and head in holders:
            for kw in ("x", "y"):
                value = call.keyword(kw)
                key = string_value(value) if value is not None else None
                if key is not None:
                    reads.append((key, call.node))
    return reads


@rule(
    code="WB002", name="metric-never-logged", severity=ERROR,
    consequence=CRASH,
    criterion="Metric names in train.py's wandb.log() MUST exactly match the keys used in "
              "evaluate.py's run.history() (and summary).",
    rationale="A key evaluate reads that train never logged is a KeyError, or an empty column and a "
              "blank figure.",
    invalid=[Example(files={TRAIN: _TRAIN, EVALUATE: EVALUATE_EXAMPLE.replace("history[\"val_accuracy\"]", "history[\"val_acc\"]")})],
    valid=[Example(files={TRAIN: _TRAIN, EVALUATE: EVALUATE_EXAMPLE}),
           Example(files={TRAIN: _TRAIN.replace('"val_accuracy": acc', 'f"{split}_accuracy": acc'),
                          EVALUATE: EVALUATE_EXAMPLE})],
)
def metric_never_logged(bundle: Bundle) -> Iterator[Hit]:
    train, evaluate = bundle.python(TRAIN), bundle.python(EVALUATE)
    if train is None or evaluate is None or not train.ok or not evaluate.ok:
        return
    logged = _logged_keys(train.index)
    if logged is None or not logged:
        return
    logged |= {"_step", "_runtime", "_timestamp", "_wandb"}
    # f-string keys (`f"{split}_acc"`) log a family of names: match them as patterns
    patterns = [re.compile(".+".join(re.escape(piece) for piece in re.split(r"\{[^}]*\}", k)) + "$")
                for k in logged if "{" in k]
    seen = set()
    for key, node in _read_keys(evaluate):
        if key in logged or key in seen or any(p.match(key) for p in patterns):
            continue
        seen.add(key)
        yield Hit(EVALUATE, f"reads `{key}` from the WandB run, but src/train.py never logs it (it logs "
                            f"{', '.join(sorted(k for k in logged if not k.startswith('_')))}); use the logged name",
                  node)


@rule(
    code="WB003", name="wandb-run-address", severity=ERROR,
    consequence=CRITERION,
    criterion="evaluate.py loads WandB config from config/config.yaml and uses "
              "`wandb.Api().run(f\"{entity}/{project}/{run_id}\")`.",
    rationale="Hard-coded entity/project strings point evaluate at someone else's project as soon as "
              "the config changes (seed 004).",
    invalid=[Example(files={EVALUATE: EVALUATE_EXAMPLE.replace("f\"{entity}/{project}/{run_id}\"", "f\"me/exp/{run_id}\"")}, line=18)],
    valid=[Example(files={EVALUATE: EVALUATE_EXAMPLE})],
)
def wandb_run_address(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.python(EVALUATE)
    if source is None or not source.ok:
        return
    index = source.index
    if not index.calls_to("wandb.Api"):
        yield Hit(EVALUATE, "src/evaluate.py does not use wandb.Api(); fetch each run with "
                            "`wandb.Api().run(f\"{entity}/{project}/{run_id}\")`")
        return
    reads_config = any("config.yaml" in s.value or s.value.rstrip("/").endswith("config") for s in index.strings) \
        or any(c.name.endswith(("compose", "initialize", "initialize_config_dir")) for c in index.calls)
    for call in index.calls:
        arg = call.positional(0)
        if not call.name.endswith(".run") or arg is None:
            continue
        text = string_value(arg)
        if text is None:
            continue
        prefix = text.split("{", 1)[0]
        if prefix.count("/") >= 1 and prefix.split("/", 1)[0]:
            yield Hit(EVALUATE, f"the run path `{text}` hard-codes the WandB entity/project; read them from "
                                "config/config.yaml and use f\"{entity}/{project}/{run_id}\"", call.node)
            return
    if not reads_config:
        yield Hit(EVALUATE, "src/evaluate.py never reads config/config.yaml, so entity/project do not come from it; "
                            "load them from the config")


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
    invalid=[Example(files={TRAIN: _TRAIN + "\n\ndef objective(trial, cfg):\n    return train(cfg, None, None)\n\n\n"
                                            "def tune(study, cfg):\n    study.optimize(lambda t: objective(t, cfg), n_trials=3)\n"}, line=15)],
    valid=[Example(files={TRAIN: _TRAIN + "\n\ndef objective(trial, cfg):\n    return trial.suggest_float('lr', 1e-4, 1e-2)\n\n\n"
                                          "def tune(study, cfg):\n    study.optimize(lambda t: objective(t, cfg), n_trials=3)\n"})],
)
def wandb_in_objective(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.python(TRAIN)
    if source is None or not source.ok:
        return
    index = source.index
    loggers = {c.scope.name for c in index.calls_to("wandb.init") + _log_calls(index) if c.scope is not None}
    for fn in _objectives(index):
        hit = reachable(index, fn) & loggers
        if hit:
            yield Hit(TRAIN, f"the Optuna objective `{fn.name}` reaches WandB (through {', '.join(sorted(hit))}), so "
                             "every trial is logged; log only the final run with the best parameters", fn.node)
