"""RUN: how src/main.py orchestrates the runs: configs, one child per run, logs, no deadlock."""
from __future__ import annotations

from typing import Optional

import libcst as cst

from expreview.facts.analysis import SUBPROCESS_CALLS, Launch, functions_called_in_loops, launches, reachable
from expreview.bundle import Bundle
from expreview.findings import ERROR
from expreview.sources.index import Function, Index, dotted_name
from expreview.sources.pyfile import PythonSource
from expreview.rule import Example, Hit, rule

MAIN = "src/main.py"
_POOLS = ("ThreadPoolExecutor", "ProcessPoolExecutor", "Pool", "ThreadPool")

_SEQUENTIAL_MAIN = '''import subprocess
import sys
import yaml


def run_one(run, results_dir):
    cmd = [sys.executable, "-m", "src.train", "--run-id", run["run_id"], "--results-dir", results_dir]
    with open(f"{results_dir}/{run['run_id']}/stdout.log", "w") as out, open(f"{results_dir}/{run['run_id']}/stderr.log", "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = proc.communicate()
        out.write(stdout)
        err.write(stderr)
        sys.stdout.write(stdout)
        sys.stderr.write(stderr)


def main(smoke, results_dir):
    path = "config/smoke_test.yaml" if smoke else "config/full_experiment.yaml"
    with open(path) as fh:
        cfg = yaml.safe_load(fh)
    for run in cfg["runs"]:
        run_one(run, results_dir)
'''


def _main(bundle: Bundle) -> Optional[PythonSource]:
    source = bundle.python(MAIN)
    return source if source is not None and source.ok else None


# -- RUN001 ------------------------------------------------------------------

@rule(
    code="RUN001", name="main-reads-configs", stages=("base", "derived"), severity=ERROR,
    criterion="main.py reads configuration YAML files (config/smoke_test.yaml for --smoke-test, "
              "config/full_experiment.yaml for --full-experiment).",
    rationale="Run variations live in the two YAML files; a main that does not read them runs "
              "something else than the experiment.",
    invalid=[Example(files={MAIN: _SEQUENTIAL_MAIN.replace('"config/full_experiment.yaml"', '"config/full.yaml"')})],
    valid=[Example(files={MAIN: _SEQUENTIAL_MAIN})],
)
def main_reads_configs(bundle: Bundle):
    source = _main(bundle)
    if source is None:
        return
    index = source.index
    texts = [s.value for s in index.strings]
    for name in ("smoke_test", "full_experiment"):
        if not any(name in t for t in texts):
            yield Hit(MAIN, f"src/main.py never names config/{name}.yaml; read it (yaml.safe_load) when "
                            f"`--{name.replace('_', '-')}` is given")
    loads = [c for c in index.calls if c.qualname.startswith("yaml.") and "load" in c.qualname
             or c.name.endswith("OmegaConf.load") or c.qualname.endswith("OmegaConf.load")]
    if not loads:
        yield Hit(MAIN, "src/main.py loads no YAML file; read the run variations from the config with "
                        "yaml.safe_load")


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
    code="RUN002", name="train-per-run", stages=("base", "derived"), severity=ERROR,
    criterion="main.py launches train.py for each run variation (a loop over the YAML's run list "
              "with a subprocess per run).",
    rationale="Each run variation must run in its own `python -m src.train` process so that its "
              "logs, results and failures stay separate.",
    invalid=[Example(files={MAIN: "import subprocess, sys\nsubprocess.run([sys.executable, '-m', 'src.train', '--all'])\n"})],
    valid=[Example(files={MAIN: _SEQUENTIAL_MAIN})],
)
def train_per_run(bundle: Bundle):
    source = _main(bundle)
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


def _target_function(call) -> Optional[str]:
    target = call.keyword("target") or call.positional(0)
    return dotted_name(target) if target is not None else None


_QUEUE_WORDS = ("queue", "free", "available", "idle", "gpu", "device", "slot")


@rule(
    code="RUN003", name="orchestration-mode", stages=("base", "derived"), severity=ERROR,
    criterion="main.py runs the variations as the prompt asks: one at a time in sequential order "
              "(`orchestration: sequential`), or with 1 GPU per run variation, queueing runs when "
              "GPUs are insufficient (`orchestration: gpu-queue`).",
    rationale="Parallel runs on one GPU fight for memory and time; GPU queueing without "
              "CUDA_VISIBLE_DEVICES puts every run on GPU 0.",
    invalid=[
        Example(files={MAIN: _SEQUENTIAL_MAIN.replace(
            "    for run in cfg[\"runs\"]:\n        run_one(run, results_dir)\n",
            "    from concurrent.futures import ThreadPoolExecutor\n    with ThreadPoolExecutor(4) as pool:\n"
            "        for run in cfg[\"runs\"]:\n            pool.submit(run_one, run, results_dir)\n")}),
        Example(files={MAIN: _SEQUENTIAL_MAIN}, options={"orchestration": "gpu-queue"}),
    ],
    valid=[Example(files={MAIN: _SEQUENTIAL_MAIN})],
)
def orchestration_mode(bundle: Bundle):
    source = _main(bundle)
    if source is None:
        return
    mode = bundle.option("orchestration", "sequential")
    if mode == "gpu-queue":
        yield from _gpu_queue(source)
    elif mode == "sequential":
        yield from _sequential(source)


def _sequential(source: PythonSource):
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


def _handed_on(index: Index, scope, var: str) -> bool:
    """The process is passed to a helper or returned: whoever receives it may wait for it."""
    if any(c.scope is scope and any(isinstance(a.value, cst.Name) and a.value.value == var for a in c.node.args)
           for c in index.calls):
        return True
    return any(isinstance(st, cst.Return) and isinstance(st.value, cst.Name) and st.value.value == var
               and (scope is None or index.statement_range(scope.node)[0] < o <= index.statement_range(scope.node)[1])
               for o, st in enumerate(index.statements))


def _bound_name(index: Index, call) -> Optional[str]:
    statement = index.statements[call.stmt] if call.stmt >= 0 else None
    if isinstance(statement, cst.Assign) and statement.value is call.node:
        target = statement.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    if isinstance(statement, cst.With):
        for item in statement.items:
            if item.item is call.node and item.asname is not None and isinstance(item.asname.name, cst.Name):
                return item.asname.name.value
    return None


def _used_as_context(index: Index, call) -> bool:
    statement = index.statements[call.stmt] if call.stmt >= 0 else None
    return isinstance(statement, cst.With) and any(item.item is call.node for item in statement.items)


def _gpu_queue(source: PythonSource):
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


# -- RUN004 ------------------------------------------------------------------

@rule(
    code="RUN004", name="run-logs", stages=("base", "derived"), severity=ERROR,
    criterion="main.py redirects each subprocess stdout/stderr to `{results_dir}/{run_id}/stdout.log` "
              "and `stderr.log` while forwarding to main stdout/stderr.",
    rationale="The per-run logs are the record of what each run printed; forwarding keeps the "
              "pipeline's own log complete.",
    invalid=[Example(files={MAIN: _SEQUENTIAL_MAIN.replace("stdout.log", "out.txt")}),
             Example(files={MAIN: _SEQUENTIAL_MAIN.replace("        sys.stdout.write(stdout)\n        sys.stderr.write(stderr)\n", "")})],
    valid=[Example(files={MAIN: _SEQUENTIAL_MAIN})],
)
def run_logs(bundle: Bundle):
    source = _main(bundle)
    if source is None:
        return
    index = source.index
    if not launches(source):
        return
    texts = [s.value for s in index.strings]
    for name in ("stdout.log", "stderr.log"):
        if not any(name in t for t in texts):
            yield Hit(MAIN, f"no child's output is written to {{results_dir}}/{{run_id}}/{name}; open that "
                            "file per run and copy the child's stream into it")
    if not _forwards(index):
        yield Hit(MAIN, "the children's output goes only to the log files, not to main's own stdout/stderr; "
                        "also write each line to sys.stdout / sys.stderr")


def _forwards(index: Index) -> bool:
    if any(a.name.startswith(("sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__")) for a in index.attributes):
        return True
    if any("tee" in s.value.split() for s in index.strings):
        return True
    readers = {c.scope.name for c in index.calls
               if c.scope is not None and c.name.endswith((".readline", ".read", ".readlines", ".communicate"))}
    readers |= {a.scope.name for a in index.attributes if a.scope is not None and a.name.endswith((".stdout", ".stderr"))}
    return any(
        (c.name in ("print",) or c.name.endswith((".print", ".info", ".write_line")))
        and c.scope is not None and c.scope.name in readers
        for c in index.calls
    )


# -- RUN005 ------------------------------------------------------------------

def _is_pipe(node) -> bool:
    return node is not None and dotted_name(node).endswith("PIPE")


@rule(
    code="RUN005", name="pipe-deadlock", stages=("base", "derived", "hydra"), severity=ERROR,
    criterion="The code is immediately executable and does not hang: a child's stdout and stderr "
              "are not both piped and read with blocking calls in one thread.",
    rationale="With both streams piped, a loop that blocks on `stdout.readline()` while the child "
              "fills the 64 KiB stderr pipe waits forever (reproduced on seed 003). Use one thread "
              "per stream, `communicate()`, or `stderr=subprocess.STDOUT`.",
    invalid=[Example(files={MAIN: (
        "import subprocess\n\n\ndef tee(cmd):\n"
        "    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)\n"
        "    while True:\n        out = p.stdout.readline()\n        err = p.stderr.readline()\n"
        "        if not out and not err and p.poll() is not None:\n            break\n")})],
    valid=[Example(files={MAIN: (
        "import subprocess, sys, threading\n\n\ndef pump(stream, sink):\n"
        "    for line in iter(stream.readline, ''):\n        sink.write(line)\n\n\ndef tee(cmd):\n"
        "    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)\n"
        "    threads = [threading.Thread(target=pump, args=(p.stdout, sys.stdout)),\n"
        "               threading.Thread(target=pump, args=(p.stderr, sys.stderr))]\n"
        "    for t in threads:\n        t.start()\n    p.wait()\n")})],
)
def pipe_deadlock(bundle: Bundle):
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
            # Streams handed to threads (or a pool) are read concurrently.
            handed_off = any(c.name.rsplit(".", 1)[-1] in ("Thread", "submit", "Process") for c in in_scope)
            if handed_off:
                continue
            reads = {}
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
    code="RUN006", name="main-calls-evaluate", stages=("hydra",), severity=ERROR,
    criterion="main.py DOES NOT call evaluate.py (evaluation is executed independently).",
    rationale="evaluate reads every run from WandB after all runs finished; called from one run's "
              "main it sees a partial set, or no data at all in trial mode.",
    invalid=[Example(files={MAIN: "import subprocess, sys\nsubprocess.run([sys.executable, '-m', 'src.evaluate', 'results_dir=out'])\n"})],
    valid=[Example(files={MAIN: "import subprocess, sys\nsubprocess.run([sys.executable, '-u', '-m', 'src.train', 'run=r1'])\n"})],
)
def main_calls_evaluate(bundle: Bundle):
    source = _main(bundle)
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


@rule(
    code="RUN007", name="hydra-cwd-subprocess", stages=("hydra",), severity=ERROR,
    criterion="Code is immediately executable: with `@hydra.main` and no `version_base`, Hydra changes "
              "the working directory, so a `python -m src.…` child needs `cwd=` (the original directory).",
    rationale="Without version_base Hydra 1.x chdirs into outputs/<date>/<time>; the child then "
              "cannot import `src` (seed 004).",
    invalid=[Example(files={MAIN: (
        "import subprocess\nimport hydra\n\n\n@hydra.main(config_path='../config', config_name='config')\n"
        "def main(cfg):\n    subprocess.run(['python', '-u', '-m', 'src.train', f'run={cfg.run}'], check=True)\n")})],
    valid=[Example(files={MAIN: (
        "import subprocess\nimport hydra\nfrom hydra.utils import get_original_cwd\n\n\n"
        "@hydra.main(config_path='../config', config_name='config')\n"
        "def main(cfg):\n    subprocess.run(['python', '-u', '-m', 'src.train', f'run={cfg.run}'], check=True,\n"
        "                   cwd=get_original_cwd())\n")})],
)
def hydra_cwd_subprocess(bundle: Bundle):
    from expreview.facts.hydra_config import decorator_keyword, hydra_main

    source = _main(bundle)
    if source is None:
        return
    found = hydra_main(source)
    if found is None or decorator_keyword(found[1], "version_base") is not None:
        return
    index = source.index
    child_modules = {id(l.node) for l in launches(source)}
    for call in index.calls:
        if call.qualname not in SUBPROCESS_CALLS or call.keyword("cwd") is not None:
            continue
        command = call.positional(0) or call.keyword("args")
        if command is None:
            continue
        from expreview.facts.analysis import resolve
        value = resolve(index, command, call.scope)
        if id(value) in child_modules or any(l.scope is call.scope for l in launches(source)):
            line = source.span(call.node).line
            yield Hit(MAIN, f"`@hydra.main` has no version_base, so Hydra changes the working directory before "
                            f"main runs, and the `python -m src.…` child started at line {line} has no cwd=: it "
                            "cannot import src. Pass version_base=None and cwd=hydra.utils.get_original_cwd()",
                      found[1], end_line=source.span(call.node).end_line)
            return
