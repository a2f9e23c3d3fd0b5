"""RUN: the processes src/main.py starts: one src.train child per run, in the orchestration mode
the prompt asks for, without pipe deadlocks, without src.evaluate, and in the right directory."""
from __future__ import annotations

import re
from typing import Iterator, Optional, Union

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.run.common import MAIN, SEQUENTIAL_MAIN, SUBPROCESS_CALLS, main_source
from expreview.facts.call_graph import functions_called_in_loops, reachable
from expreview.facts.hydra_config import hydra_main, keeps_working_directory
from expreview.facts.launches import Launch, launches
from expreview.facts.values import resolve
from expreview.findings import CRASH, CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import (AttributeChain, Call, Function, Index, dotted_name, iter_subtree,
                                     keyword_argument, string_value)
from expreview.sources.pyfile import PythonSource


# -- RUN002 ------------------------------------------------------------------

def _in_loop(index: Index, scope: Optional[Function], stmt: int) -> bool:
    body = index.statement_range(scope.node) if scope is not None else None
    for ordinal, statement in enumerate(index.statements):
        if not isinstance(statement, (cst.For, cst.While)):
            continue
        first, last = index.statement_range(statement)
        if first < stmt <= last and (body is None or body[0] < ordinal <= body[1]):
            return True
    return False


def _per_run(index: Index, launch: Launch) -> bool:
    if _in_loop(index, launch.scope, launch.stmt):
        return True
    if launch.scope is None:
        return False
    in_loops = functions_called_in_loops(index)
    fn: Optional[Function] = launch.scope
    while fn is not None:
        if fn.name in in_loops:
            return True
        fn = fn.parent
    return False


@rule(
    code="RUN002", name="train-per-run", severity=ERROR,
    consequence=CRITERION,
    criterion="main.py launches train.py for each run variation (a loop over the YAML's run list "
              "with a subprocess per run).",
    rationale="Each run variation must run in its own `python -m src.train` process so that its "
              "logs, results and failures stay separate.",
    invalid=[Example(files={MAIN: """
        import subprocess, sys
        subprocess.run([sys.executable, '-m', 'src.train', '--all'])
        """}, line=2)],
    valid=[Example(files={MAIN: SEQUENTIAL_MAIN})],
)
def train_per_run(bundle: Bundle) -> Iterator[Hit]:
    source = main_source(bundle)
    if source is None:
        return
    index = source.index
    train = [l for l in launches(source) if l.target == "src/train.py"]
    if not train:
        yield Hit(MAIN, "src/main.py never launches src.train; start `python -m src.train …` in a "
                        "subprocess once per run variation")
        return
    if not index.calls_to(*SUBPROCESS_CALLS):
        yield Hit(MAIN, "src/main.py builds a src.train command but starts no subprocess; run it with "
                        "subprocess.Popen/run", train[0].node)
        return
    if not any(_per_run(index, launch) for launch in train):
        yield Hit(MAIN, "src.train is launched once, not once per run variation; loop over the run "
                        "list and start one subprocess per run", train[0].node)


# -- RUN003 ------------------------------------------------------------------

def _launch_functions(source: PythonSource) -> set[str]:
    """Functions whose body builds or receives a src.train command."""
    names = set()
    for launch in launches(source):
        if launch.target == "src/train.py" and launch.scope is not None:
            names.add(launch.scope.name)
    index = source.index
    for call in index.calls:
        if call.qualname in SUBPROCESS_CALLS and call.scope is not None:
            names.add(call.scope.name)
    return names


def _target_function(call: Call) -> Optional[str]:
    target = call.keyword("target") or call.positional(0)
    return dotted_name(target) if target is not None else None


_QUEUE_WORDS = ("queue", "free", "available", "idle", "gpu", "device", "slot")
_PER_RUN_DEVICE = re.compile(r"\bcuda:(?:\{[^}]*\}|%[sd])")


@rule(
    code="RUN003", name="orchestration-mode", severity=ERROR,
    consequence=CRITERION,
    criterion="main.py runs the variations as the prompt asks: one at a time in sequential order "
              "(`orchestration: sequential`), or with 1 GPU per run variation, queueing runs when "
              "GPUs are insufficient (`orchestration: gpu-queue`).",
    rationale="Parallel runs on one GPU fight for memory and time; GPU queueing without "
              "CUDA_VISIBLE_DEVICES puts every run on GPU 0.",
    invalid=[
        Example(files={MAIN: SEQUENTIAL_MAIN.replace(
            "    for run in cfg[\"runs\"]:\n        run_one(run, results_dir)\n",
            "    from concurrent.futures import ThreadPoolExecutor\n    with ThreadPoolExecutor(4) as pool:\n"
            "        for run in cfg[\"runs\"]:\n            pool.submit(run_one, run, results_dir)\n")}, line=24),
        Example(files={MAIN: SEQUENTIAL_MAIN}, options={"orchestration": "gpu-queue"}),
        # a queue of GPU ids that no run is given still puts every run on the default GPU
        Example(files={MAIN: """
            import queue, subprocess, sys, threading


            def worker(run_id, gpus):
                gpu_id = gpus.get()
                try:
                    subprocess.run([sys.executable, '-m', 'src.train', '--run', run_id], check=True)
                finally:
                    gpus.put(gpu_id)


            def main(run_ids):
                gpus = queue.Queue()
                for i in range(2):
                    gpus.put(i)
                threads = [threading.Thread(target=worker, args=(r, gpus)) for r in run_ids]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            """}, options={"orchestration": "gpu-queue"}, message="CUDA_VISIBLE_DEVICES"),
    ],
    valid=[Example(files={MAIN: SEQUENTIAL_MAIN}),
           # GPUs handed out from a queue of device ids, as CUDA_VISIBLE_DEVICES=str(id) or as `cuda:{id}`
           Example(files={MAIN: """
               import os, queue, subprocess, sys, threading


               def worker(run_id, gpus):
                   gpu_id = gpus.get()
                   try:
                       env = dict(os.environ, CUDA_VISIBLE_DEVICES=str(gpu_id))
                       subprocess.run([sys.executable, '-m', 'src.train', '--run', run_id], env=env, check=True)
                   finally:
                       gpus.put(gpu_id)


               def main(run_ids):
                   gpus = queue.Queue()
                   for i in range(2):
                       gpus.put(i)
                   threads = [threading.Thread(target=worker, args=(r, gpus)) for r in run_ids]
                   for t in threads:
                       t.start()
                   for t in threads:
                       t.join()
               """}, options={"orchestration": "gpu-queue"}),
           Example(files={MAIN: """
               import queue, subprocess, sys, threading


               def worker(run_id, gpus):
                   gpu_id = gpus.get()
                   try:
                       subprocess.run([sys.executable, '-m', 'src.train', '--run', run_id,
                                       '--device', f'cuda:{gpu_id}'], check=True)
                   finally:
                       gpus.put(gpu_id)


               def main(run_ids):
                   gpus = queue.Queue()
                   for i in range(2):
                       gpus.put(i)
                   threads = [threading.Thread(target=worker, args=(r, gpus)) for r in run_ids]
                   for t in threads:
                       t.start()
                   for t in threads:
                       t.join()
               """}, options={"orchestration": "gpu-queue"})],
)
def orchestration_mode(bundle: Bundle) -> Iterator[Hit]:
    source = main_source(bundle)
    if source is None:
        return
    mode = bundle.option("orchestration", "sequential")
    if mode == "gpu-queue":
        yield from _gpu_queue(source)
    elif mode == "sequential":
        yield from _sequential(source)


def _sequential(source: PythonSource) -> Iterator[Hit]:
    index = source.index
    launchers = _launch_functions(source)
    for call in index.calls:
        last = call.name.rsplit(".", 1)[-1]
        if last == "Thread" or call.qualname == "threading.Thread":
            target = _target_function(call)
            fn = index.function(target) if target else None
            if fn is not None and reachable(index, fn) & launchers:
                yield Hit(MAIN, f"starts run variations in threads (`Thread(target={target})`), so runs overlap; "
                                "the prompt asks for one run at a time in sequential order", call.node)
        elif last in ("submit", "map", "apply_async", "imap", "imap_unordered", "starmap") and call.node.args:
            target = dotted_name(call.node.args[0].value)
            fn = index.function(target) if target else None
            if fn is not None and reachable(index, fn) & launchers:
                yield Hit(MAIN, f"runs variations through a pool (`{call.name}({target}, …)`), so runs overlap; "
                                "the prompt asks for one run at a time in sequential order", call.node)
    for call in index.calls_to("subprocess.Popen"):
        if call.scope is None or call.scope.name not in launchers:
            continue
        var = _bound_name(index, call)
        waited = var is not None and (any(
            c.name in (f"{var}.wait", f"{var}.communicate", f"{var}.poll") for c in index.calls if c.scope is call.scope
        ) or _handed_on(index, call.scope, var))
        if var is not None and (waited or _used_as_context(index, call)):
            continue
        if var is None and _used_as_context(index, call):
            continue
        yield Hit(MAIN, "a run's Popen is never waited for (no wait()/communicate()), so the next run "
                        "starts before it ends; wait for each run before starting the next", call.node)


def _handed_on(index: Index, scope: Optional[Function], var: str) -> bool:
    """The process is passed to a helper or returned: whoever receives it may wait for it."""
    if any(c.scope is scope and any(isinstance(a.value, cst.Name) and a.value.value == var for a in c.node.args)
           for c in index.calls):
        return True
    return any(isinstance(st, cst.Return) and isinstance(st.value, cst.Name) and st.value.value == var
               and (scope is None or index.statement_range(scope.node)[0] < o <= index.statement_range(scope.node)[1])
               for o, st in enumerate(index.statements))


def _bound_name(index: Index, call: Call) -> Optional[str]:
    statement = index.statements[call.stmt] if call.stmt >= 0 else None
    if isinstance(statement, cst.Assign) and statement.value is call.node:
        target = statement.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    if isinstance(statement, cst.With):
        for item in statement.items:
            if item.item is call.node and item.asname is not None and isinstance(item.asname.name, cst.Name):
                return item.asname.name.value
    return None


def _used_as_context(index: Index, call: Call) -> bool:
    statement = index.statements[call.stmt] if call.stmt >= 0 else None
    return isinstance(statement, cst.With) and any(item.item is call.node for item in statement.items)


def _gpu_queue(source: PythonSource) -> Iterator[Hit]:
    index = source.index
    sets_devices = False
    for s in index.strings:
        if "CUDA_VISIBLE_DEVICES" not in s.value:
            continue
        reads = any(
            (sub.key == s.value and not sub.store) for sub in index.subscripts
        ) and not any(sub.key == s.value and sub.store for sub in index.subscripts)
        gets = any(c.name.endswith(".get") and c.positional(0) is s.node for c in index.calls)
        if not reads and not gets:
            sets_devices = True
    # `dict(os.environ, CUDA_VISIBLE_DEVICES=str(gpu_id))`, `env.update(CUDA_VISIBLE_DEVICES=…)`
    sets_devices = sets_devices or any(c.keyword("CUDA_VISIBLE_DEVICES") is not None for c in index.calls)
    # a per-run device id handed to the child: `f"cuda:{gpu_id}"`, `"cuda:{}".format(gpu_id)`
    sets_devices = sets_devices or any(_PER_RUN_DEVICE.search(s.value) for s in index.strings)
    if not sets_devices:
        yield Hit(MAIN, "the prompt asks for 1 GPU per run variation, but no run gets its own "
                        "CUDA_VISIBLE_DEVICES; set it in each child's environment "
                        "(env[\"CUDA_VISIBLE_DEVICES\"] = str(gpu_id))")
    queued = any(c.qualname.endswith(("queue.Queue", "Queue", "deque", "Semaphore", "BoundedSemaphore"))
                 or c.name.endswith(("Queue", "deque")) for c in index.calls)
    if not queued:
        for call in index.calls:
            head, _, method = call.name.rpartition(".")
            if method in ("pop", "popleft", "get", "put", "append", "remove") and \
                    any(w in head.lower() for w in _QUEUE_WORDS):
                queued = True
                break
    if not queued:
        yield Hit(MAIN, "the prompt asks to queue runs when GPUs are insufficient, but main keeps no queue "
                        "of free GPUs; hand each finished run's GPU to the next waiting run")


# -- RUN005 ------------------------------------------------------------------

def _is_pipe(node: Optional[cst.CSTNode]) -> bool:
    return node is not None and dotted_name(node).endswith("PIPE")


_CONCURRENT = ("Thread", "submit", "Process")


def _thread_classes(index: Index) -> set[str]:
    """This file's classes that subclass Thread or Process (`class Tee(threading.Thread)`)."""
    return {name for name, node in index.classes.items()
            if any(dotted_name(base.value).rsplit(".", 1)[-1] in ("Thread", "Process") for base in node.bases)}


def _starts_reader(index: Index, call: Call) -> bool:
    """A call that starts concurrent work: a Thread, a pool submit, a Process, or a Thread subclass."""
    return call.name.rsplit(".", 1)[-1] in _CONCURRENT or call.name in _thread_classes(index)


def _handed_to_reader_helper(index: Index, in_scope: list[Call], var: str) -> bool:
    """The process or its pipes are passed to a helper of this file that starts reader threads
    (`start_readers(proc)`, `_spawn_tees(proc.stdout, proc.stderr)`)."""
    local = {fn.name for fn in index.functions}
    handed = (var, f"{var}.stdout", f"{var}.stderr")
    for call in in_scope:
        if call.name not in local or not any(dotted_name(a.value) in handed for a in call.node.args):
            continue
        helper = index.function(call.name)
        if helper is None:
            continue
        reached = reachable(index, helper)
        if any(c.scope is not None and c.scope.name in reached and _starts_reader(index, c) for c in index.calls):
            return True
    return False


@rule(
    code="RUN005", name="pipe-deadlock", severity=ERROR,
    consequence=CRASH,
    criterion="The code is immediately executable and does not hang: a child's stdout and stderr "
              "are not both piped and read with blocking calls in one thread.",
    rationale="With both streams piped, a loop that blocks on `stdout.readline()` while the child "
              "fills the 64 KiB stderr pipe waits forever (reproduced on seed 003). Use one thread "
              "per stream, `communicate()`, or `stderr=subprocess.STDOUT`.",
    invalid=[Example(files={MAIN: """
        import subprocess


        def tee(cmd):
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            while True:
                out = p.stdout.readline()
                err = p.stderr.readline()
                if not out and not err and p.poll() is not None:
                    break
        """}, line=5, message='pipes both stdout and stderr'),
             # a helper that reads one stream to its end, then the other, still blocks in one thread
             Example(files={MAIN: """
                 import subprocess, sys


                 def drain(stream, sink):
                     for line in iter(stream.readline, b''):
                         sink.write(line)


                 def tee(cmd):
                     p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                     drain(p.stdout, sys.stdout.buffer)
                     drain(p.stderr, sys.stderr.buffer)
                     p.wait()
                 """}, line=10, message='pipes both stdout and stderr')],
    valid=[Example(files={MAIN: """
        import subprocess, sys, threading


        def pump(stream, sink):
            for line in iter(stream.readline, ''):
                sink.write(line)


        def tee(cmd):
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            threads = [threading.Thread(target=pump, args=(p.stdout, sys.stdout)),
                       threading.Thread(target=pump, args=(p.stderr, sys.stderr))]
            for t in threads:
                t.start()
            p.wait()
        """}),
           # reader threads started by a helper that receives the pipes
           Example(files={MAIN: """
               import subprocess, sys, threading


               def _stream(pipe, sink):
                   for line in iter(pipe.readline, b''):
                       sink.write(line)


               def start_readers(out, err):
                   for pipe, sink in ((out, sys.stdout.buffer), (err, sys.stderr.buffer)):
                       threading.Thread(target=_stream, args=(pipe, sink), daemon=True).start()


               def tee(cmd):
                   p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                   start_readers(p.stdout, p.stderr)
                   return p.wait()
               """}),
           # a Thread subclass per stream
           Example(files={MAIN: """
               import subprocess, sys, threading


               class Tee(threading.Thread):
                   def __init__(self, stream):
                       super().__init__(daemon=True)
                       self.stream = stream

                   def run(self):
                       for chunk in iter(lambda: self.stream.read(1024), b''):
                           sys.stdout.buffer.write(chunk)


               def tee(cmd):
                   p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                   Tee(p.stdout).start()
                   Tee(p.stderr).start()
                   return p.wait()
               """})],
)
def pipe_deadlock(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        index = source.index
        for call in index.calls_to("subprocess.Popen"):
            if not (_is_pipe(call.keyword("stdout")) and _is_pipe(call.keyword("stderr"))):
                continue
            var = _bound_name(index, call)
            if var is None:
                continue
            scope = call.scope
            in_scope = [c for c in index.calls if c.scope is scope]
            if any(c.name == f"{var}.communicate" for c in in_scope):
                continue
            if any(c.qualname.startswith(("select.", "selectors.")) for c in index.calls):
                continue
            # Streams handed to threads (or a pool) are read concurrently, also when a helper
            # (`start_readers(proc)`) or a Thread subclass (`Tee(proc.stdout).start()`) starts them.
            if any(_starts_reader(index, c) for c in in_scope) or _handed_to_reader_helper(index, in_scope, var):
                continue
            reads: dict[str, Union[Call, AttributeChain]] = {}  # stream -> its first blocking read
            for c in in_scope:
                for stream in ("stdout", "stderr"):
                    if c.name in (f"{var}.{stream}.readline", f"{var}.{stream}.read", f"{var}.{stream}.readlines"):
                        reads.setdefault(stream, c)
            for attr in index.attributes:
                for stream in ("stdout", "stderr"):
                    if attr.scope is scope and attr.name in (f"{var}.{stream}", f"{var}.{stream}.readline"):
                        reads.setdefault(stream, attr)
            if len(reads) < 2:
                continue
            last = max(source.span(r.node).end_line for r in reads.values())
            yield Hit(source.path, f"`{var}` pipes both stdout and stderr and reads them with blocking calls in one "
                                   "thread; when the child fills the stderr pipe while this waits on stdout (or "
                                   "the reverse), both block forever. Read each stream in its own thread, use "
                                   "communicate(), or pass stderr=subprocess.STDOUT", call.node, end_line=last)


# -- hydra ------------------------------------------------------------------

@rule(
    code="RUN006", name="main-calls-evaluate", severity=ERROR,
    consequence=CRITERION,
    criterion="main.py DOES NOT call evaluate.py (evaluation is executed independently).",
    rationale="evaluate reads every run from WandB after all runs finished; called from one run's "
              "main it sees a partial set, or no data at all in trial mode.",
    invalid=[Example(files={MAIN: """
        import subprocess, sys
        subprocess.run([sys.executable, '-m', 'src.evaluate', 'results_dir=out'])
        """}, line=2)],
    valid=[Example(files={MAIN: """
        import subprocess, sys
        subprocess.run([sys.executable, '-u', '-m', 'src.train', 'run=r1'])
        """})],
)
def main_calls_evaluate(bundle: Bundle) -> Iterator[Hit]:
    source = main_source(bundle)
    if source is None:
        return
    for launch in launches(source):
        if launch.target == "src/evaluate.py":
            yield Hit(MAIN, "src/main.py launches src.evaluate; evaluation runs independently after all runs, "
                            "so remove this call", launch.node)
    for imp in source.index.imports:
        if imp.module in ("src.evaluate",) or imp.module == "src" and imp.name == "evaluate" \
                or imp.level == 1 and imp.module == "evaluate":
            yield Hit(MAIN, "src/main.py imports src.evaluate; evaluation runs independently, so do not "
                            "call it from main", imp.node)


_ORIGINAL_DIR_CALLS = ("get_original_cwd", "to_absolute_path")


def _names_original_dir(index: Index, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> bool:
    """`expr` holds the directory main started in (the repository root): `get_original_cwd()`,
    `to_absolute_path(".")`, `${hydra:runtime.cwd}`, `Path(__file__).parent.parent`, or an
    `os.getcwd()` taken at import time, before Hydra changes the directory."""
    if depth > 4:
        return False
    parents = 0
    for node in iter_subtree(expr):
        if isinstance(node, cst.Call) and dotted_name(node.func).split(".")[-1] in _ORIGINAL_DIR_CALLS:
            return True
        if isinstance(node, (cst.SimpleString, cst.FormattedString)) and "runtime.cwd" in (string_value(node) or ""):
            return True
        if isinstance(node, cst.Attribute) and node.attr.value == "parent" or \
                isinstance(node, cst.Call) and dotted_name(node.func) == "os.path.dirname":
            parents += 1
        elif (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute)
              and node.value.attr.value == "parents" and len(node.slice) == 1
              and isinstance(node.slice[0].slice, cst.Index)
              and isinstance(node.slice[0].slice.value, cst.Integer)):
            parents += int(node.slice[0].slice.value.value) + 1  # `.parents[1]`: two levels up
        if isinstance(node, cst.Name) and node.value == "__file__" and parents >= 2:
            return True
        if isinstance(node, cst.Name):
            values = index.assigned(node.value, scope)
            if len(values) != 1 or values[0] is node:
                continue
            at_import = any(v is values[0] for v in index.module_assigns.get(node.value, []))
            if at_import and dotted_name(values[0].func if isinstance(values[0], cst.Call) else values[0]) in (
                    "os.getcwd", "Path.cwd", "pathlib.Path.cwd"):
                return True
            if _names_original_dir(index, values[0], None if at_import else scope, depth + 1):
                return True
    return False


def _sets_pythonpath(index: Index, target: str, scope: Optional[Function], before: int) -> bool:
    """`target["PYTHONPATH"] = <the original directory>` earlier in `scope` (or at module level)."""
    for sub in index.subscripts:
        if not sub.store or sub.key != "PYTHONPATH" or sub.base != target or sub.stmt >= before:
            continue
        if sub.scope is not None and sub.scope is not scope:
            continue
        statement = index.statements[sub.stmt]
        if isinstance(statement, cst.Assign) and _names_original_dir(index, statement.value, sub.scope):
            return True
    for call in index.calls:
        if call.name == f"{target}.update" and call.stmt < before and call.scope in (None, scope):
            given = call.keyword("PYTHONPATH")
            mapping = call.positional(0)
            if given is None and isinstance(mapping, cst.Dict):
                given = _dict_value(mapping, "PYTHONPATH")
            if given is not None and _names_original_dir(index, given, call.scope):
                return True
    return False


def _dict_value(mapping: cst.Dict, key: str) -> Optional[cst.BaseExpression]:
    for element in mapping.elements:
        if isinstance(element, cst.DictElement) and string_value(element.key) == key:
            return element.value
    return None


def _child_finds_src(index: Index, call: Call) -> bool:
    """The child gets the repository root on its PYTHONPATH: through `env=` (a dict that sets it,
    or a copy of os.environ whose PYTHONPATH is set before the call), or through os.environ."""
    if _sets_pythonpath(index, "os.environ", call.scope, call.stmt):
        return True
    env = call.keyword("env")
    if env is None:
        return False
    value = resolve(index, env, call.scope)
    if isinstance(value, cst.Dict):
        given = _dict_value(value, "PYTHONPATH")
        if given is not None:
            return _names_original_dir(index, given, call.scope)
    if isinstance(value, cst.Call) and dotted_name(value.func) == "dict":
        given = keyword_argument(value, "PYTHONPATH")
        if given is not None:
            return _names_original_dir(index, given, call.scope)
    return isinstance(env, cst.Name) and _sets_pythonpath(index, env.value, call.scope, call.stmt)


@rule(
    code="RUN007", name="hydra-cwd-subprocess", severity=ERROR,
    consequence=CRASH,
    criterion="Code is immediately executable: with `@hydra.main` and no `version_base`, Hydra changes "
              "the working directory, so a `python -m src.…` child needs `cwd=` (the original directory).",
    rationale="Without version_base Hydra 1.x chdirs into outputs/<date>/<time>; the child then "
              "cannot import `src` (seed 004). Not when config.yaml (read through config_name) keeps "
              "the directory (`hydra.run.dir: .`, `hydra.job.chdir: false`), or the child gets the "
              "original directory as cwd= or on its PYTHONPATH.",
    invalid=[Example(files={MAIN: """
        import subprocess
        import hydra


        @hydra.main(config_path='../config', config_name='config')
        def main(cfg):
            subprocess.run(['python', '-u', '-m', 'src.train', f'run={cfg.run}'], check=True)
        """}, line=5, message='has no version_base'),
             # without config_name Hydra reads no config.yaml, so its `hydra.run.dir: .` does not apply
             Example(files={MAIN: """
                 import subprocess
                 import sys
                 import hydra


                 @hydra.main(config_path='../config')
                 def main(cfg):
                     subprocess.run([sys.executable, '-m', 'src.train'], check=True)
                 """, "config/config.yaml": """
                     hydra:
                       run:
                         dir: .
                     """}, line=6),
             # a run dir below the original directory still moves the process
             Example(files={MAIN: """
                 import subprocess
                 import sys
                 import hydra


                 @hydra.main(config_path='../config', config_name='config')
                 def main(cfg):
                     subprocess.run([sys.executable, '-m', 'src.train'], check=True)
                 """, "config/config.yaml": """
                     hydra:
                       run:
                         dir: ${hydra:runtime.cwd}/outputs/${now:%H-%M-%S}
                     """}, line=6),
             # os.getcwd() inside main is already Hydra's output directory
             Example(files={MAIN: """
                 import os
                 import subprocess
                 import sys
                 import hydra


                 @hydra.main(config_path='../config', config_name='config')
                 def main(cfg):
                     env = os.environ.copy()
                     env['PYTHONPATH'] = os.getcwd()
                     subprocess.run([sys.executable, '-m', 'src.train'], check=True, env=env)
                 """}, line=7)],
    valid=[Example(files={MAIN: """
        import subprocess
        import hydra
        from hydra.utils import get_original_cwd


        @hydra.main(config_path='../config', config_name='config')
        def main(cfg):
            subprocess.run(['python', '-u', '-m', 'src.train', f'run={cfg.run}'], check=True,
                           cwd=get_original_cwd())
        """}),
           # config.yaml keeps the process where it started: `hydra.run.dir: .` or `hydra.job.chdir: false`
           Example(files={MAIN: """
               import subprocess
               import sys
               import hydra


               @hydra.main(config_path='../config', config_name='config')
               def main(cfg):
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True)
               """, "config/config.yaml": """
                   hydra:
                     run:
                       dir: .
                     output_subdir: null
                   """}),
           Example(files={MAIN: """
               import subprocess
               import sys
               import hydra


               @hydra.main(config_path='../config', config_name='config')
               def main(cfg):
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True)
               """, "config/config.yaml": """
                   hydra:
                     job:
                       chdir: false
                   """}),
           # the child gets the original directory on its PYTHONPATH
           Example(files={MAIN: """
               import os
               import subprocess
               import sys
               from pathlib import Path
               import hydra
               from hydra.utils import get_original_cwd

               START = os.getcwd()


               @hydra.main(config_path='../config', config_name='config')
               def main(cfg):
                   root = Path(get_original_cwd())
                   env = os.environ.copy()
                   env['PYTHONPATH'] = os.pathsep.join([str(root), env.get('PYTHONPATH', '')])
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True, env=env)
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True,
                                  env={**os.environ, 'PYTHONPATH': START})
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True,
                                  env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)))
                   os.environ['PYTHONPATH'] = str(Path(__file__).resolve().parents[1])
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True)
               """})],
)
def hydra_cwd_subprocess(bundle: Bundle) -> Iterator[Hit]:
    source = main_source(bundle)
    if source is None:
        return
    found = hydra_main(source)
    if found is None or keyword_argument(found[1].decorator, "version_base") is not None:
        return
    config_name = keyword_argument(found[1].decorator, "config_name")
    named = string_value(config_name) if config_name is not None else None
    if named in ("config", "config.yaml") and keeps_working_directory(bundle):
        return  # config.yaml keeps Hydra in the directory main started in
    index = source.index
    child_modules = {id(l.node) for l in launches(source)}
    for call in index.calls:
        if call.qualname not in SUBPROCESS_CALLS or call.keyword("cwd") is not None:
            continue
        if _child_finds_src(index, call):
            continue
        command = call.positional(0) or call.keyword("args")
        if command is None:
            continue
        value = resolve(index, command, call.scope)
        if id(value) in child_modules or any(l.scope is call.scope for l in launches(source)):
            line = source.span(call.node).line
            yield Hit(MAIN, f"`@hydra.main` has no version_base, so Hydra changes the working directory before "
                            f"main runs, and the `python -m src.…` child started at line {line} has no cwd=: it "
                            "cannot import src. Pass version_base=None and cwd=hydra.utils.get_original_cwd()",
                      found[1], end_line=source.span(call.node).end_line)
            return
