"""OUT: what train.py and evaluate.py print to stdout."""
from __future__ import annotations

import re
from functools import partial
from typing import Iterator, Optional

import libcst as cst

from expreview.facts.values import argument, call_sites, resolve
from expreview.bundle import Bundle
from expreview.edits import SAFE, Fix
from expreview.findings import CRITERION, ERROR
from expreview.sources.index import Call, Function, Index, dotted_name, string_value
from expreview.sources.pyfile import PythonSource
from expreview.sources.python_edits import import_edit, replace_node
from expreview.rule import Example, Hit, rule

TRAIN, EVALUATE = "src/train.py", "src/evaluate.py"
# Printing JSON some other way does not give the pipeline one raw JSON line.
_OTHER_METHODS = ("print_json", "pprint", "rprint")
_OTHER_PRINTERS = ("console.print", "console.log", "pprint.pp")


def _json_prints(index: Index) -> list[tuple[Call, Call]]:
    """(print call, json.dumps call) pairs: `print(json.dumps(x))`, `sys.stdout.write(json.dumps(x))`."""
    dumps = {id(c.node): c for c in index.calls if c.qualname == "json.dumps" or c.name == "json.dumps"}
    pairs = []
    for call in index.calls:
        if call.name not in ("print", "sys.stdout.write"):
            continue
        first = call.positional(0)
        if isinstance(first, cst.BinaryOperation):  # sys.stdout.write(json.dumps(x) + "\n")
            first = first.left
        inner = dumps.get(id(first))
        if inner is not None:
            pairs.append((call, inner))
    return pairs


def _json_text(source: PythonSource, node: Optional[cst.CSTNode], scope: Optional[Function], depth: int = 0) -> bool:
    """`node` is JSON text: `json.dumps(…)`, a DataFrame's `.to_json()` with no path, a name bound
    to one, or a call of this file's function that returns one."""
    if node is None or depth > 4:
        return False
    index = source.index
    if isinstance(node, cst.BinaryOperation):  # json.dumps(x) + "\n"
        node = node.left
    node = resolve(index, node, scope)
    if not isinstance(node, cst.Call):
        return False
    if any(c.node is node and (c.qualname == "json.dumps" or c.name == "json.dumps") for c in index.calls):
        return True
    func = node.func
    if isinstance(func, cst.Attribute) and func.attr.value == "to_json":
        return not any(a.keyword is None or a.keyword.value == "path_or_buf" for a in node.args)
    helper = index.function(func.value) if isinstance(func, cst.Name) else None
    if helper is None:
        return False
    first, last = index.statement_range(helper.node)
    return any(isinstance(st, cst.Return) and _json_text(source, st.value, helper, depth + 1)
               for st in index.statements[first + 1:last + 1])


def _prints_json(source: PythonSource) -> bool:
    """The file prints JSON text: `print(json.dumps(x))`, `print(df.to_json(orient="records"))`,
    `text = json.dumps(x); print(text)`, `print(as_json(x))` with a helper that returns it, or a
    helper `def emit(text): print(text)` called with JSON text."""
    index = source.index
    if _json_prints(index):
        return True
    for call in index.calls:
        if call.name not in ("print", "sys.stdout.write"):
            continue
        first = call.positional(0)
        if _json_text(source, first, call.scope):
            return True
        scope = call.scope
        if isinstance(first, cst.Name) and scope is not None and first.value in scope.params:
            if any(_json_text(caller, argument(site, scope, first.value), site.scope)
                   for caller, site in call_sites(source, scope)):
                return True
    return False


def _other_printers(index: Index) -> list[Call]:
    return [c for c in index.calls
            if c.method in _OTHER_METHODS or c.name.endswith(_OTHER_PRINTERS) or c.qualname == "rich.print"]


# Names of what a run prints to describe itself (its config), not its metrics.
_CONFIG_NAME = re.compile(r"(^|[._])(cfg|config|conf|run_cfg|hparams|hyperparameters|args)$", re.I)


def _prints_config(call: Call) -> bool:
    """A rich print of the run's configuration (`console.print_json(data=run_cfg)`): a description
    of the run, not the metrics record the pipeline parses."""
    value = call.keyword("data") or call.positional(0)
    return value is not None and _CONFIG_NAME.search(dotted_name(value) or "") is not None


def _has_run_id(source: PythonSource, dumps: Call) -> Optional[bool]:
    """Whether the dumped dict has a "run_id" key; None when it cannot be told statically."""
    arg = dumps.positional(0)
    if arg is None:
        return None
    index = source.index
    value = resolve(index, arg, dumps.scope)
    if isinstance(value, cst.Dict):
        keys = [string_value(e.key) for e in value.elements if isinstance(e, cst.DictElement)]
        if any(isinstance(e, cst.StarredDictElement) for e in value.elements):
            return None
        return "run_id" in keys
    if isinstance(value, cst.Call) and value.func and getattr(value.func, "value", None) == "dict":
        return any(a.keyword is not None and a.keyword.value == "run_id" for a in value.args) or None
    if isinstance(arg, cst.Name):
        if any(s.key == "run_id" and s.store and s.base == arg.value for s in index.subscripts):
            return True
    return None


def _plain_json_fix(source: PythonSource, call: Call) -> Optional[Fix]:
    """`console.print_json(data=x)` -> `print(json.dumps(x))`, and `import json` when the file lacks
    it. Only for a `print_json` call with `data=` alone: rich dumps it with json.dumps' defaults, so
    the same values serialize; other printers take objects that need not be JSON at all."""
    args = call.node.args
    if call.method != "print_json" or len(args) != 1 or args[0].keyword is None or args[0].keyword.value != "data" \
            or args[0].star:
        return None
    dumped = cst.Call(func=cst.Attribute(value=cst.Name("json"), attr=cst.Name("dumps")),
                      args=[cst.Arg(value=args[0].value)])
    printed = cst.Call(func=cst.Name("print"), args=[cst.Arg(value=dumped)])
    replaced = replace_node(source, call.node, printed, call.stmt)
    if replaced is None:
        return None
    if any(imp.alias == "json" and imp.module != "json" for imp in source.index.imports):
        return None  # `json` is something else here
    imported = import_edit(source, "import json", "json")
    return Fix("Print it with `print(json.dumps(...))`", SAFE, (replaced, imported) if imported else (replaced,))


@rule(
    code="OUT001", name="train-json-stdout", severity=ERROR,
    consequence=CRITERION, fixable=True,
    criterion="train.py outputs JSON-formatted metrics with `run_id` field using "
              "`print(json.dumps({...}))`.",
    rationale="The pipeline parses train's stdout line by line; rich's `print_json`/`console.print` "
              "add colour codes and line breaks, and a record without `run_id` cannot be attributed.",
    invalid=[Example(files={TRAIN: """
        from rich.console import Console


        def main():
            Console().print_json(data={'run_id': 'a', 'acc': 1.0})
        """}, line=5, message='instead of `print(json.dumps({...}))`'),
             Example(files={TRAIN: """
                 import json


                 def main():
                     print(json.dumps({'acc': 1.0}))
                 """}, line=5)],
    valid=[Example(files={TRAIN: """
        import json


        def main():
            result = {'run_id': 'a', 'acc': 1.0}
            print(json.dumps(result))
        """})],
)
def train_json_stdout(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(TRAIN)
    if source is None:
        return
    pairs = _json_prints(source.index)
    if not pairs:
        others = [c for c in _other_printers(source.index) if not _prints_config(c)]
        if others:
            for call in others:
                yield Hit(TRAIN, f"prints through `{call.name or call.method}` instead of `print(json.dumps({{...}}))`; the "
                                 "pipeline needs raw JSON lines with a \"run_id\" field. Use "
                                 "`print(json.dumps(metrics))`", call.node, fix=partial(_plain_json_fix, source, call))
        else:
            yield Hit(TRAIN, "src/train.py never prints its metrics as `print(json.dumps({\"run_id\": …, …}))`; "
                             "print one JSON line with the run id and the final metrics")
        return
    verdicts = [_has_run_id(source, dumps) for _, dumps in pairs]
    if all(v is False for v in verdicts):
        yield Hit(TRAIN, "the JSON printed here has no \"run_id\" field; add `\"run_id\": run_id` to it",
                  pairs[0][0].node)


@rule(
    code="OUT002", name="evaluate-json-stdout", severity=ERROR,
    consequence=CRITERION,
    criterion="evaluate.py outputs JSON-formatted comparison results to stdout "
              "(`print(json.dumps(...))`).",
    rationale="The pipeline reads the comparison from evaluate's stdout; rich output or prose is "
              "not parseable.",
    invalid=[Example(files={EVALUATE: """
        from rich.console import Console
        Console().print_json(data={'best': 'a'})
        """}, line=2),
             # a DataFrame written to a file, and a helper that only writes JSON to a file, print nothing
             Example(files={EVALUATE: """
                 import json


                 def save(obj, path):
                     with open(path, 'w') as fh:
                         fh.write(json.dumps(obj))


                 def main(df, path):
                     df.to_json(path)
                     save({'best': 'a'}, path)
                     print('done')
                 """}, message="never prints its comparison")],
    valid=[Example(files={EVALUATE: """
        import json
        print(json.dumps({'best': 'a'}, indent=2))
        """}),
           # through helpers of the same file: one builds the JSON text, one prints it
           Example(files={EVALUATE: """
               import json


               def emit(text):
                   print(text)


               def as_json(obj):
                   return json.dumps(obj, indent=2)


               def main(comparison):
                   emit(as_json(comparison))
               """}),
           # a DataFrame's JSON text
           Example(files={EVALUATE: """
               def main(df):
                   text = df.to_json(orient='records')
                   print(text)
               """})],
)
def evaluate_json_stdout(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(EVALUATE)
    if source is None:
        return
    if _prints_json(source):
        return
    others = _other_printers(source.index)
    if others:
        for call in others:
            if "json" in call.method.lower() or call.method in ("pprint", "pp"):
                yield Hit(EVALUATE, f"prints the comparison through `{call.name or call.method}` instead of "
                                    "`print(json.dumps(comparison))`; the pipeline needs raw JSON on stdout",
                          call.node)
                return
    yield Hit(EVALUATE, "src/evaluate.py never prints its comparison as `print(json.dumps(...))`; print the "
                        "comparison results as one JSON document on stdout",
              others[-1].node if others else None)


@rule(
    code="OUT003", name="train-writes-results", severity=ERROR,
    consequence=CRITERION,
    criterion="NO results.json or stdout JSON dumps in train.py (WandB is the only sink).",
    rationale="Hydra runs are read back from WandB; a results.json or JSON on stdout is a second, "
              "diverging record that nothing reads.",
    invalid=[Example(files={TRAIN: """
        import json


        def main(metrics):
            print(json.dumps(metrics))
        """}, line=5),
             Example(files={TRAIN: """
                 import json


                 def main(metrics, d):
                     with open(f'{d}/results.json', 'w') as fh:
                         json.dump(metrics, fh)
                 """}, line=5)],
    valid=[Example(files={TRAIN: """
        import wandb


        def main(run, metrics):
            run.summary.update(metrics)
        """})],
)
def train_writes_results(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(TRAIN)
    if source is None:
        return
    index = source.index
    for call, _ in _json_prints(index):
        yield Hit(TRAIN, "src/train.py prints JSON to stdout; log the metrics to WandB only", call.node)
    for s in index.strings:
        if s.value.endswith("results.json"):
            yield Hit(TRAIN, "src/train.py writes results.json; log the metrics to WandB only (wandb.log / "
                             "wandb.summary)", s.node)
