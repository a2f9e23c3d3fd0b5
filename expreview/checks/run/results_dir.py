"""RUN008: src/main.py does not delete (or delete and recreate) the results directory it is given, or a
directory above it: the harness and the steps before this one keep their logs and results there."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.run.common import MAIN
from expreview.facts.values import resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, Index, dotted_name

_DELETES = {"shutil.rmtree", "os.rmdir", "os.removedirs", "shutil.move", "os.rename", "os.replace"}
_KEEPS_PATH = ("str", "os.fspath", "os.path.abspath", "os.path.realpath", "os.path.normpath", "os.path.expanduser",
               "Path", "pathlib.Path")
_KEEPS_PATH_METHODS = ("resolve", "absolute", "expanduser")


def _results_dir(index: Index, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> Optional[str]:
    """'the results directory' or 'a directory above it' when `expr` is one of those, else None."""
    if depth > 8:
        return None
    expr = resolve(index, expr, scope)
    if isinstance(expr, cst.Call):
        func = expr.func
        name = dotted_name(func)
        if isinstance(func, cst.Attribute) and func.attr.value in _KEEPS_PATH_METHODS and not expr.args:
            return _results_dir(index, func.value, scope, depth + 1)
        if name in _KEEPS_PATH and len(expr.args) == 1:
            return _results_dir(index, expr.args[0].value, scope, depth + 1)
        if name == "os.path.dirname" and len(expr.args) == 1:
            return "a directory above it" if _results_dir(index, expr.args[0].value, scope, depth + 1) else None
        return None
    if isinstance(expr, cst.Attribute) and expr.attr.value == "parent":
        return "a directory above it" if _results_dir(index, expr.value, scope, depth + 1) else None
    # `args.results_dir`, `cfg.results_dir`: the directory main is given (a bare local name may hold
    # anything, e.g. a run's own subdirectory, and is followed through its assignment above instead)
    name = dotted_name(expr)
    if isinstance(expr, cst.Attribute) and name.split(".")[-1] == "results_dir":
        return "the results directory"
    return None


_MAIN = '''
import argparse
import shutil
import subprocess
import sys
from pathlib import Path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results-dir", required=True)
    args = parser.parse_args()
    results = Path(args.results_dir)
    shutil.rmtree(results / "tmp", ignore_errors=True)
    subprocess.run([sys.executable, "-m", "src.train", "--results-dir", str(results)], check=True)
'''


@rule(
    code="RUN008", name="results-dir-deleted", severity=ERROR,
    consequence=CRASH,
    criterion="Code is immediately executable: main writes into the results directory it is given and "
              "never removes it.",
    rationale="The harness creates the results directory and puts its logs there before main starts; "
              "`shutil.rmtree(results_dir)` at the start of main deletes them (and the outputs of earlier "
              "steps), and a concurrent run loses its files mid-write.",
    invalid=[Example(files={MAIN: _MAIN.replace('results / "tmp", ignore_errors=True', "results")},
                     line=13, message="deletes the results directory"),
             Example(files={MAIN: _MAIN.replace('shutil.rmtree(results / "tmp", ignore_errors=True)',
                                                "shutil.rmtree(results.resolve().parent)")},
                     line=13, message="a directory above it")],
    valid=[Example(files={MAIN: _MAIN})],
)
def results_dir_deleted(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(MAIN)
    if source is None:
        return
    index = source.index
    for call in index.calls:
        target: Optional[cst.CSTNode] = None
        if call.qualname in _DELETES:
            target = call.positional(0)
        elif call.method == "rmdir" and isinstance(call.node.func, cst.Attribute) and not call.node.args:
            target = call.node.func.value
        if target is None:
            continue
        what = _results_dir(index, target, call.scope)
        if what is not None:
            yield Hit(MAIN, f"`{call.name}(…)` deletes {what}, where the harness and the earlier steps keep their "
                            "logs and results; write into it (create it with `mkdir(parents=True, "
                            "exist_ok=True)`) and delete only the files this run made", call.node)
