"""OUT004: a file that one module reads by name and no module writes (evaluate opens `results.json`
while train writes `history.json`), or a key read from another module's JSON that its writer never
puts (facts.file_io). Judged for the files modules hand each other: results,
metrics and histories in JSON, CSV, NumPy, pickle or torch form. Silent when some module writes a
matching name (`*_metrics.json` matches `proposed_metrics.json`), when the file is one of the
bundle's own (a config), when a writer the analysis cannot name exists (`save_pretrained`, a
download, a name built at run time), and when the read is guarded (an `exists()` test around it, a
`try` that catches FileNotFoundError or OSError)."""
from __future__ import annotations

import fnmatch
from typing import Iterator

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.conditions import branch_tests, caught
from expreview.facts.file_io import FileUse, file_name, file_uses, json_key_reads, json_written_keys
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import dotted_name, iter_subtree, string_value

# The kinds of files that modules of a pipeline write for one another.
_HANDED_OVER = (".json", ".jsonl", ".csv", ".npy", ".npz", ".pkl", ".pickle", ".pt", ".pth")
_MISSING_FILE_ERRORS = ("FileNotFoundError", "OSError", "IOError", "EnvironmentError", "Exception", "BaseException")
_EXISTENCE_TESTS = ("exists", "is_file", "isfile", "glob", "rglob", "listdir", "iterdir", "scandir", "walk")


def _guarded(use: FileUse) -> bool:
    source, call = use.source, use.call
    if caught(source, call.stmt, call.scope, _MISSING_FILE_ERRORS):
        return True
    for test in branch_tests(source, call.stmt, call.scope):
        for node in iter_subtree(test):
            if isinstance(node, cst.Call) and dotted_name(node.func).split(".")[-1] in _EXISTENCE_TESTS:
                return True
    # an existence test of the same file earlier in the function (`if not path.exists(): return`)
    for other in source.index.calls:
        if other.scope is call.scope and other.stmt <= call.stmt and other.method in ("exists", "is_file", "isfile"):
            func = other.node.func
            tested = other.node.args[0].value if other.node.args else (
                func.value if isinstance(func, cst.Attribute) else None)
            if tested is not None and file_name(source.index, tested, other.scope) == use.name:
                return True
    # a loop over the files found on disk (`for path in run_dir.glob("*.json")`)
    index = source.index
    for ordinal, statement in enumerate(index.statements):
        if isinstance(statement, cst.For) and ordinal < call.stmt <= index.last_inside.get(ordinal, ordinal):
            if any(isinstance(n, cst.Call) and dotted_name(n.func).split(".")[-1] in _EXISTENCE_TESTS
                   for n in iter_subtree(statement.iter)):
                return True
    return False


def _matches(read: str, written: str) -> bool:
    return fnmatch.fnmatchcase(read, written) or fnmatch.fnmatchcase(written, read)


_TRAIN = '''
import json
import os


def save(results_dir, run_id, history):
    with open(os.path.join(results_dir, run_id, "history.json"), "w") as f:
        json.dump(history, f)
'''
_EVALUATE = '''
import json
from pathlib import Path


def load(results_dir, run_id):
    return json.loads((Path(results_dir) / run_id / "results.json").read_text())
'''


_KEY_ERRORS = ("KeyError", "LookupError", "Exception", "BaseException")


def _tested_keys(source) -> set[str]:
    """Keys the file tests for or reads with a default: `"k" in data`, `data.get("k")`."""
    index = source.index
    keys = {s.value for s in index.strings if id(s.node) in index.compared}
    for call in index.calls:
        if call.method in ("get", "pop", "setdefault") and call.node.args:
            value = string_value(call.node.args[0].value)
            if value is not None:
                keys.add(value)
    return keys


_TRAIN_KEYS = '''
import json
import os


def save(run_dir, best):
    results = {"run_id": os.path.basename(run_dir), "best_val_metric": best}
    results["epochs"] = 3
    with open(os.path.join(run_dir, "results.json"), "w") as f:
        json.dump(results, f)
'''
_EVALUATE_KEYS = '''
import json
import os


def best(run_dir):
    with open(os.path.join(run_dir, "results.json")) as f:
        data = json.load(f)
    return data["best_val_accuracy"], data["epochs"]
'''


@rule(
    code="OUT004", name="file-or-key-never-written", severity=ERROR,
    consequence=CRASH,
    criterion="Code is immediately executable: every file a module reads from another is one that some "
              "module writes, and every key it reads from another module's JSON is one the writer puts.",
    rationale="Modules regenerated separately stop agreeing: evaluate opens results.json while train writes "
              "history.json (FileNotFoundError), or reads `best_val_accuracy` from a results.json whose writer "
              "puts `best_val_metric` (KeyError), after every training run has finished. Keys are judged only "
              "when every writer of that file puts a dict whose keys are all known.",
    invalid=[Example(files={"src/train.py": _TRAIN, "src/evaluate.py": _EVALUATE}, path="src/evaluate.py", line=6,
                     message="`results.json`"),
             Example(files={"src/train.py": _TRAIN_KEYS, "src/evaluate.py": _EVALUATE_KEYS}, path="src/evaluate.py",
                     line=8, message="`best_val_accuracy`")],
    valid=[Example(files={"src/train.py": _TRAIN, "src/evaluate.py": _EVALUATE.replace("results.json", "history.json")}),
           # a pattern written, the read guarded, a writer that names no file, a config of the bundle
           Example(files={"src/train.py": _TRAIN.replace('"history.json"', 'f"{run_id}_history.json"'),
                          "src/evaluate.py": _EVALUATE.replace('run_id / "results.json"', '"proposed_history.json"')}),
           Example(files={"src/train.py": _TRAIN, "src/evaluate.py": _EVALUATE.replace(
               "    return json.loads(", "    path = Path(results_dir) / run_id / \"results.json\"\n"
               "    if not path.exists():\n        return None\n    return json.loads(").replace(
               "(Path(results_dir) / run_id / \"results.json\").read_text()", "path.read_text()")}),
           Example(files={"src/train.py": _TRAIN + "\n\ndef export(model, out):\n    model.save_pretrained(out)\n",
                          "src/evaluate.py": _EVALUATE.replace("results.json", "config.json")}),
           Example(files={"src/train.py": _TRAIN, "src/evaluate.py": _EVALUATE.replace("results.json", "runs.json"),
                          "config/runs.json": "[]\n"}),
           # keys: the one the writer puts, a default, a writer whose keys are not all known
           Example(files={"src/train.py": _TRAIN_KEYS, "src/evaluate.py": _EVALUATE_KEYS.replace(
               'data["best_val_accuracy"]', 'data["best_val_metric"]')}),
           Example(files={"src/train.py": _TRAIN_KEYS, "src/evaluate.py": _EVALUATE_KEYS.replace(
               'data["best_val_accuracy"]', 'data.get("best_val_accuracy", data["best_val_metric"])')}),
           Example(files={"src/train.py": _TRAIN_KEYS.replace('    results["epochs"] = 3\n', "    results.update(extra)\n"),
                          "src/evaluate.py": _EVALUATE_KEYS})],
)
def file_never_written(bundle: Bundle) -> Iterator[Hit]:
    uses = file_uses(bundle)
    opaque = [u for u in uses if u.write and u.name is None]  # writers the analysis cannot name
    written = [u.name for u in uses if u.write and u.name]
    own = {path.rsplit("/", 1)[-1] for path in bundle.paths()}
    reported = set()
    for use in uses:
        name = use.name
        if use.write or not name or not name.lower().endswith(_HANDED_OVER) or not use.source.path.startswith("src/"):
            continue
        if "*" in name.rsplit(".", 1)[0] and not name.rsplit(".", 1)[0].strip("*"):
            continue  # `*.json`: any file of that kind
        if any(_matches(name, w) for w in written) or any(fnmatch.fnmatchcase(o, name) for o in own):
            continue
        if any(u.kinds is None or name.lower().endswith(u.kinds) for u in opaque):
            continue  # a writer that names no file may write this one
        if _guarded(use) or (use.source.path, name) in reported:
            continue
        reported.add((use.source.path, name))
        others = sorted({w for w in written if w.rsplit(".", 1)[-1] == name.rsplit(".", 1)[-1]})
        hint = f"the modules write {', '.join(f'`{w}`' for w in others[:4])}" if others else \
            f"no module writes any .{name.rsplit('.', 1)[-1]} file"
        yield Hit(use.source.path, f"reads `{name}`, which no module of the bundle writes ({hint}), so this raises "
                                   "FileNotFoundError when it runs; read the file the writer produces, or write "
                                   "this one", use.call.node)
    yield from _key_hits(bundle)


def _key_hits(bundle: Bundle) -> Iterator[Hit]:
    written = json_written_keys(bundle)
    for source in bundle.python_files():
        if not source.ok or not source.path.startswith("src/"):
            continue
        tested = _tested_keys(source)
        reported = set()
        for read in json_key_reads(source):
            writers = [keys for name, keys in written.items() if _matches(read.file, name)]
            if not writers or any(keys is None for keys in writers):
                continue
            keys = set().union(*[k for k in writers if k is not None])
            if read.key in keys or read.key in tested or (read.file, read.key) in reported:
                continue
            if caught(source, read.stmt, read.scope, _KEY_ERRORS):
                continue
            reported.add((read.file, read.key))
            shown = ", ".join(f"`{k}`" for k in sorted(keys)[:6]) + (", …" if len(keys) > 6 else "")
            yield Hit(source.path, f"reads `{read.key}` from `{read.file}`, whose writer puts only {shown}, so this "
                                   "raises KeyError when it runs; read a key the writer puts, or write this one",
                      read.node)
