"""RUN002, RUN003: the plan of the runs src/main.py starts: one src.train child per run variation
(RUN002), in the orchestration mode the prompt asks for, sequential or queued on free GPUs (RUN003)."""
from __future__ import annotations

import re
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.run.common import MAIN, SEQUENTIAL_MAIN, SUBPROCESS_CALLS, bound_name
from expreview.facts.call_graph import functions_called_in_loops, reachable
from expreview.facts.flow import may_hold
from expreview.facts.launches import Launch, launches
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, Function, Index, dotted_name, iter_subtree
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
        """}, line=2),
             # the command is built, but train runs inside main's own process
             Example(files={MAIN: """
                 import subprocess
                 import sys
                 from src.train import main as train_main


                 def main(runs, results_dir):
                     for run in runs:
                         cmd = [sys.executable, '-m', 'src.train', '--run-id', run['run_id']]
                         sys.argv = cmd[2:]
                         train_main()
                     subprocess.run([sys.executable, '-m', 'src.evaluate', '--results-dir', results_dir], check=True)
                 """}, line=8, message="starts no subprocess with it")],
    valid=[Example(files={MAIN: SEQUENTIAL_MAIN}),
           # the command reaches Popen through a helper's parameter
           Example(files={MAIN: """
               import subprocess
               import sys


               def run_logged(cmd, log_dir):
                   return subprocess.Popen(cmd).wait()


               def main(runs, results_dir):
                   for run in runs:
                       cmd = [sys.executable, '-m', 'src.train', '--run-id', run['run_id']]
                       run_logged(cmd, results_dir)
               """})],
)
def train_per_run(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(MAIN)
    if source is None:
        return
    index = source.index
    train = [l for l in launches(source) if l.target == "src/train.py"]
    if not train:
        yield Hit(MAIN, "src/main.py never launches src.train; start `python -m src.train …` in a "
                        "subprocess once per run variation")
        return
    started = [l for l in train if _reaches_subprocess(source, l.node)]
    if not started:
        yield Hit(MAIN, "src/main.py builds a src.train command but starts no subprocess with it; run it with "
                        "subprocess.Popen/run (calling train's code in main's own process is not a run of its own)",
                  train[0].node)
        return
    train = started
    if not any(_per_run(index, launch) for launch in train):
        yield Hit(MAIN, "src.train is launched once, not once per run variation; loop over the run "
                        "list and start one subprocess per run", train[0].node)


def _reaches_subprocess(source: PythonSource, command: cst.CSTNode) -> bool:
    """The command list is (part of) what some subprocess call starts, followed through names and
    the parameters of helpers (`run_logged(cmd, …)` that calls `Popen(cmd)`)."""
    def is_command(node: cst.CSTNode) -> bool:
        return node is command or any(n is command for n in iter_subtree(node)) if isinstance(
            node, (cst.BinaryOperation, cst.List)) else node is command

    for call in source.index.calls:
        if call.qualname not in SUBPROCESS_CALLS:
            continue
        given = call.positional(0) or call.keyword("args")
        if given is not None and may_hold(source, given, call.scope, is_command):
            return True
        if call.qualname in ("os.execv", "os.execvp", "os.spawnv") and len(call.node.args) > 1 and \
                may_hold(source, call.node.args[1].value, call.scope, is_command):
            return True
    return False


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
    source = bundle.parsed(MAIN)
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
        var = bound_name(index, call)
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
