"""WB002: every key evaluate.py reads from a WandB run's history or summary is one train.py logs."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.wb.common import EVALUATE, EVALUATE_EXAMPLE, TRAIN, TRAIN_EXAMPLE, log_calls, summary_writes
from expreview.facts.task import run_module
from expreview.facts.values import resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, Function, Index, Subscript, dotted_name, string_value
from expreview.sources.pyfile import PythonSource


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
    logs = log_calls(index)
    mine = {id(c.node) for c in logs}
    # a `.log(<dict>)` through a handle this file does not show (`tracker.log({...})`) may be WandB too
    logs += [c for c in index.calls if c.method == "log" and id(c.node) not in mine
             and isinstance(c.positional(0), (cst.Dict, cst.DictComp))]
    for call in logs:
        arg = call.positional(0) or call.keyword("data")
        if arg is not None:
            logged.dict_keys(arg, index, call.scope)
    for write in summary_writes(index):
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
    invalid=[Example(files={TRAIN: TRAIN_EXAMPLE, EVALUATE: EVALUATE_EXAMPLE.replace("history[\"val_accuracy\"]", "history[\"val_acc\"]")}),
             # keys written in a loop, but no write could produce the key read: `val_{k}` is never `test_accuracy`,
             # and the summary loop runs over a dict literal without `best_val_accuracy`
             Example(files={TRAIN: TRAIN_EXAMPLE.replace('run.log({"train_loss": 1.0 - acc, "val_accuracy": acc, "epoch": epoch})',
                                                  'run.log({f"val_{k}": v for k, v in acc.items()})'),
                            EVALUATE: EVALUATE_EXAMPLE.replace("history[\"val_accuracy\"]", "history[\"test_accuracy\"]")},
                     path=EVALUATE, line=22, message="never logs it"),
             Example(files={TRAIN: TRAIN_EXAMPLE.replace('    run.summary["best_val_accuracy"] = best\n',
                                                  '    final = {"best_acc": best}\n    for k, v in final.items():\n'
                                                  '        run.summary[k] = v\n'),
                            EVALUATE: EVALUATE_EXAMPLE}, path=EVALUATE, line=21, message="`best_val_accuracy`")],
    valid=[Example(files={TRAIN: TRAIN_EXAMPLE, EVALUATE: EVALUATE_EXAMPLE}),
           Example(files={TRAIN: TRAIN_EXAMPLE.replace('"val_accuracy": acc', 'f"{split}_accuracy": acc'),
                          EVALUATE: EVALUATE_EXAMPLE}),
           # keys written through a loop or a dict train builds elsewhere: any key may be among them
           Example(files={TRAIN: TRAIN_EXAMPLE.replace('    run.summary["best_val_accuracy"] = best\n',
                                                '    for k, v in model.final_metrics().items():\n'
                                                '        run.summary[k] = v\n'),
                          EVALUATE: EVALUATE_EXAMPLE}),
           Example(files={TRAIN: TRAIN_EXAMPLE.replace('    run.summary["best_val_accuracy"] = best\n',
                                                '    run.summary.update(model.final_metrics())\n'),
                          EVALUATE: EVALUATE_EXAMPLE}),
           # a key family `val_{k}` produces `val_accuracy`
           Example(files={TRAIN: TRAIN_EXAMPLE.replace('run.log({"train_loss": 1.0 - acc, "val_accuracy": acc, "epoch": epoch})',
                                                'run.log({f"val_{k}": v for k, v in acc.items()})'),
                          EVALUATE: EVALUATE_EXAMPLE})],
)
def metric_never_logged(bundle: Bundle) -> Iterator[Hit]:
    writer = run_module(bundle)  # src/inference.py for a template inference task
    train, evaluate = bundle.parsed(writer), bundle.parsed(EVALUATE)
    if train is None or evaluate is None:
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
        yield Hit(EVALUATE, f"reads `{key}` from the WandB run, but {writer} never logs it (it logs "
                            f"{', '.join(shown)}); use the logged name", node)
