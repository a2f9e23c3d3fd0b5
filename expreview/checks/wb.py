"""WB: WandB logging in train and retrieval in evaluate (hydra stage). EVALUATE_EXAMPLE, the
evaluate.py the rule examples vary, is shared with EVAL."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

import re

import libcst as cst

from expreview.facts.call_graph import functions_called_in_loops, reachable
from expreview.facts.values import resolve
from expreview.bundle import Bundle
from expreview.findings import CRASH, CRITERION, ERROR, WARNING
from expreview.sources.index import Call, Function, Index, Subscript, dotted_name, iter_subtree, string_value
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


def _log_calls(index: Index) -> list[Call]:
    runs = _run_vars(index)
    return [c for c in index.calls if c.name.endswith(".log") and
            (c.qualname == "wandb.log" or c.name.rsplit(".", 1)[0] in runs or "run" in c.name.rsplit(".", 1)[0].lower())]


_ComputedWrite = tuple[int, cst.Subscript, Optional[Function]]  # statement ordinal, target, scope


def _summary_writes(index: Index) -> list[Union[Subscript, Call, _ComputedWrite]]:
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
    invalid=[Example(files={TRAIN: _TRAIN.replace("    run.summary[\"best_val_accuracy\"] = best\n", "")}, line=1),
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
    valid=[Example(files={TRAIN: _TRAIN}),
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
    source = bundle.python(TRAIN)
    if source is None or not source.ok:
        return
    index = source.index
    if not index.calls_to("wandb.init"):
        yield Hit(TRAIN, "src/train.py never calls wandb.init; initialise WandB with the entity and project "
                         "from the config")
    logs = _log_calls(index)
    if not _logs_in_a_loop(index, logs):
        yield Hit(TRAIN, "src/train.py has no wandb.log inside the training loop; log the metrics every "
                         "step or epoch", logs[0].node if logs else None)
    if bundle.option("wandb_summary", True) and not _summary_writes(index):
        yield Hit(TRAIN, "src/train.py never writes wandb.summary[...]; store the final/best metrics there "
                         "(e.g. run.summary[\"best_val_accuracy\"] = best)")


@dataclass
class _Logged:
    """What train writes to WandB: literal keys, f-string keys (`f"val_{k}"`, matched as
    `val_.+`), and whether some write's keys cannot be known at all (`wandb.log(metrics)`,
    `summary[name] = v` with `name` from anywhere but a dict literal)."""
    keys: set[str] = field(default_factory=set)
    families: dict[str, re.Pattern] = field(default_factory=dict)
    anything: bool = False

    def key(self, node: cst.CSTNode, loops: list[tuple[cst.CSTNode, cst.CSTNode]], index: Index,
            scope: Optional[Function]) -> None:
        """Record what a key expression can be; `loops` are the (target, iterable) pairs of the
        loops around it, innermost first, which may say what a loop variable runs over."""
        text = string_value(node)
        if isinstance(node, cst.FormattedString) and text is not None:
            pieces = re.split(r"\{[^}]*\}", text)
            self.families[text] = re.compile(".+".join(re.escape(piece) for piece in pieces) + "$")
        elif text is not None:
            self.keys.add(text)
        else:
            iterated = _iterated_dict(node, loops, index, scope)
            if iterated is None:
                self.anything = True
                return
            for el in iterated.elements:
                if isinstance(el, cst.DictElement):
                    self.key(el.key, [], index, scope)
                else:
                    self.anything = True

    def dict_keys(self, node: Optional[cst.CSTNode], index: Index, scope: Optional[Function]) -> None:
        """Record the keys a logged value holds: a dict literal, a comprehension, dict(k=…)."""
        if isinstance(node, cst.Name):
            node = _fixed_dict(index, node, scope) or node
        if isinstance(node, cst.Dict):
            for el in node.elements:
                if isinstance(el, cst.DictElement):
                    self.key(el.key, [], index, scope)
                else:
                    self.anything = True
        elif isinstance(node, cst.DictComp):
            loops: list[tuple[cst.CSTNode, cst.CSTNode]] = []
            comp: Optional[cst.CompFor] = node.for_in
            while comp is not None:
                loops.insert(0, (comp.target, comp.iter))
                comp = comp.inner_for_in
            self.key(node.key, loops, index, scope)
        elif isinstance(node, cst.Call) and dotted_name(node.func) == "dict":
            for arg in node.args:
                if arg.keyword is not None:
                    self.keys.add(arg.keyword.value)
                else:
                    self.anything = True
        else:
            self.anything = True

    def could_be(self, key: str) -> bool:
        return self.anything or key in self.keys or any(p.match(key) for p in self.families.values())


def _iterated_dict(key: cst.CSTNode, loops: list[tuple[cst.CSTNode, cst.CSTNode]], index: Index,
                   scope: Optional[Function]) -> Optional[cst.Dict]:
    """The dict literal whose keys a loop variable runs over: `k` of `for k, v in d.items()` or
    `for k in d`, where `d` is (assigned once) a dict literal; None otherwise."""
    if not isinstance(key, cst.Name):
        return None
    for target, iterated in loops:
        first = target.elements[0].value if isinstance(target, cst.Tuple) and target.elements else target
        if not isinstance(first, cst.Name) or first.value != key.value:
            continue
        if isinstance(iterated, cst.Call) and isinstance(iterated.func, cst.Attribute) \
                and iterated.func.attr.value in ("items", "keys") and not iterated.args:
            iterated = iterated.func.value
        return _fixed_dict(index, iterated, scope)
    return None


_MUTATORS = ("update", "setdefault", "pop", "popitem", "clear", "__setitem__")


def _fixed_dict(index: Index, expr: cst.CSTNode, scope: Optional[Function]) -> Optional[cst.Dict]:
    """The dict literal a name holds, when it is assigned once and no statement adds keys to it
    (`d["k"] = …`, `d.update(…)`); None otherwise."""
    found = resolve(index, expr, scope)
    if not isinstance(found, cst.Dict) or not isinstance(expr, cst.Name):
        return found if isinstance(found, cst.Dict) else None
    name = expr.value
    if any(sub.store and sub.base == name for sub in index.subscripts) or \
            any(call.name in (f"{name}.{m}" for m in _MUTATORS) for call in index.calls):
        return None
    for statement in index.statements:  # `d[k] = …` with a computed key
        if isinstance(statement, (cst.Assign, cst.AugAssign)):
            targets = [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
            if any(isinstance(t, cst.Subscript) and dotted_name(t.value) == name for t in targets):
                return None
    return found


def _enclosing_loops(index: Index, ordinal: int) -> list[tuple[cst.CSTNode, cst.CSTNode]]:
    """(target, iterable) of the `for` statements around statement `ordinal`, innermost first."""
    out: list[tuple[cst.CSTNode, cst.CSTNode]] = []
    for node in index.statements[:ordinal]:
        if isinstance(node, cst.For):
            first, last = index.statement_range(node)
            if first < ordinal <= last:
                out.insert(0, (node.target, node.iter))
    return out


def _logged_keys(index: Index) -> _Logged:
    """Every key train writes to WandB history or summary, as far as it can be known."""
    logged = _Logged()
    logs = _log_calls(index)
    mine = {id(c.node) for c in logs}
    # a `.log(<dict>)` through a handle this file does not show (`tracker.log({...})`) may be WandB too
    logs += [c for c in index.calls if c.method == "log" and id(c.node) not in mine
             and isinstance(c.positional(0), (cst.Dict, cst.DictComp))]
    for call in logs:
        arg = call.positional(0) or call.keyword("data")
        if arg is not None:
            logged.dict_keys(arg, index, call.scope)
    for write in _summary_writes(index):
        if isinstance(write, Subscript):
            logged.keys.add(write.key)
        elif isinstance(write, Call):
            logged.dict_keys(write.positional(0), index, write.scope)
        else:  # `summary[<computed key>] = v`
            ordinal, target, scope = write
            element = target.slice[0].slice if len(target.slice) == 1 else None
            if isinstance(element, cst.Index):
                logged.key(element.value, _enclosing_loops(index, ordinal), index, scope)
            else:
                logged.anything = True
    return logged


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
    invalid=[Example(files={TRAIN: _TRAIN, EVALUATE: EVALUATE_EXAMPLE.replace("history[\"val_accuracy\"]", "history[\"val_acc\"]")}),
             # keys written in a loop, but no write could produce the key read: `val_{k}` is never `test_accuracy`,
             # and the summary loop runs over a dict literal without `best_val_accuracy`
             Example(files={TRAIN: _TRAIN.replace('run.log({"train_loss": 1.0 - acc, "val_accuracy": acc, "epoch": epoch})',
                                                  'run.log({f"val_{k}": v for k, v in acc.items()})'),
                            EVALUATE: EVALUATE_EXAMPLE.replace("history[\"val_accuracy\"]", "history[\"test_accuracy\"]")},
                     path=EVALUATE, line=22, message="never logs it"),
             Example(files={TRAIN: _TRAIN.replace('    run.summary["best_val_accuracy"] = best\n',
                                                  '    final = {"best_acc": best}\n    for k, v in final.items():\n'
                                                  '        run.summary[k] = v\n'),
                            EVALUATE: EVALUATE_EXAMPLE}, path=EVALUATE, line=21, message="`best_val_accuracy`")],
    valid=[Example(files={TRAIN: _TRAIN, EVALUATE: EVALUATE_EXAMPLE}),
           Example(files={TRAIN: _TRAIN.replace('"val_accuracy": acc', 'f"{split}_accuracy": acc'),
                          EVALUATE: EVALUATE_EXAMPLE}),
           # keys written through a loop or a dict train builds elsewhere: any key may be among them
           Example(files={TRAIN: _TRAIN.replace('    run.summary["best_val_accuracy"] = best\n',
                                                '    for k, v in model.final_metrics().items():\n'
                                                '        run.summary[k] = v\n'),
                          EVALUATE: EVALUATE_EXAMPLE}),
           Example(files={TRAIN: _TRAIN.replace('    run.summary["best_val_accuracy"] = best\n',
                                                '    run.summary.update(model.final_metrics())\n'),
                          EVALUATE: EVALUATE_EXAMPLE}),
           # a key family `val_{k}` produces `val_accuracy`
           Example(files={TRAIN: _TRAIN.replace('run.log({"train_loss": 1.0 - acc, "val_accuracy": acc, "epoch": epoch})',
                                                'run.log({f"val_{k}": v for k, v in acc.items()})'),
                          EVALUATE: EVALUATE_EXAMPLE})],
)
def metric_never_logged(bundle: Bundle) -> Iterator[Hit]:
    train, evaluate = bundle.python(TRAIN), bundle.python(EVALUATE)
    if train is None or evaluate is None or not train.ok or not evaluate.ok:
        return
    logged = _logged_keys(train.index)
    # keys train writes in a way that cannot be listed (`wandb.log(metrics)`, `summary[k] = v`) may be any key
    if logged.anything or not (logged.keys or logged.families):
        return
    logged.keys |= {"_step", "_runtime", "_timestamp", "_wandb"}
    seen = set()
    for key, node in _read_keys(evaluate):
        if key in seen or logged.could_be(key):
            continue
        seen.add(key)
        shown = sorted(k for k in logged.keys | set(logged.families) if not k.startswith('_'))
        yield Hit(EVALUATE, f"reads `{key}` from the WandB run, but src/train.py never logs it (it logs "
                            f"{', '.join(shown)}); use the logged name", node)


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
