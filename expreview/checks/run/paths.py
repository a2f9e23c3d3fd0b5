"""RUN: what src/main.py reads and writes: the two run configs, and each run's log files."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.run.common import MAIN, SEQUENTIAL_MAIN
from expreview.facts.flow import may_hold
from expreview.facts.launches import launches
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import dotted_name, string_value
from expreview.sources.pyfile import PythonSource


# -- RUN001 ------------------------------------------------------------------

@rule(
    code="RUN001", name="main-reads-configs", severity=ERROR,
    consequence=CRITERION,
    criterion="main.py reads configuration YAML files (config/smoke_test.yaml for --smoke-test, "
              "config/full_experiment.yaml for --full-experiment).",
    rationale="Run variations live in the two YAML files; a main that does not read them runs "
              "something else than the experiment.",
    invalid=[Example(files={MAIN: SEQUENTIAL_MAIN.replace('"config/full_experiment.yaml"', '"config/full.yaml"')}, line=1),
             # the paths come from a dict indexed by mode, and both entries name the smoke file; a help
             # text that names config/full_experiment.yaml does not make main read it
             Example(files={MAIN: SEQUENTIAL_MAIN.replace(
                 '    path = "config/smoke_test.yaml" if smoke else "config/full_experiment.yaml"\n',
                 '    configs = {"smoke": Path("config/smoke_test.yaml"), "full": Path("config/smoke_test.yaml")}\n'
                 '    path = configs["smoke" if smoke else "full"]\n'
                 '    help_text = "runs config/full_experiment.yaml"\n').replace("import yaml\n", "import yaml\nfrom pathlib import Path\n")},
                     line=1, message="never reads config/full_experiment.yaml")],
    valid=[Example(files={MAIN: SEQUENTIAL_MAIN}),
           Example(files={MAIN: SEQUENTIAL_MAIN.replace(
               '    path = "config/smoke_test.yaml" if smoke else "config/full_experiment.yaml"\n',
               '    configs = {"smoke": Path("config/smoke_test.yaml"), "full": Path("config/full_experiment.yaml")}\n'
               '    path = configs["smoke" if smoke else "full"]\n').replace("import yaml\n", "import yaml\nfrom pathlib import Path\n")}),
           # the path comes back from a function of another module
           Example(files={MAIN: SEQUENTIAL_MAIN.replace(
               '    path = "config/smoke_test.yaml" if smoke else "config/full_experiment.yaml"\n',
               '    path = config_path(smoke)\n').replace("import yaml\n", "import yaml\nfrom src.preprocess import config_path\n"),
                          "src/preprocess.py": """
                              def config_path(smoke):
                                  if smoke:
                                      return "config/smoke_test.yaml"
                                  return "config/full_experiment.yaml"
                              """})],
)
def main_reads_configs(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(MAIN)
    if source is None:
        return
    index = source.index
    loads = [c for c in index.calls if c.qualname.startswith("yaml.") and "load" in c.qualname
             or c.name.endswith("OmegaConf.load") or c.qualname.endswith("OmegaConf.load")]
    for name in ("smoke_test", "full_experiment"):
        def names_it(node: cst.CSTNode, name: str = name) -> bool:
            text = string_value(node)
            return text is not None and name in text
        # the file a YAML load may read, followed from its argument (a dict of paths indexed by mode,
        # a constant, a helper's parameter); a mention elsewhere (a help text) does not count
        if not any(c.node.args and may_hold(source, c.node.args[0].value, c.scope, names_it, bundle=bundle) for c in loads):
            yield Hit(MAIN, f"src/main.py never reads config/{name}.yaml; read it (yaml.safe_load) when "
                            f"`--{name.replace('_', '-')}` is given")
    if not loads:
        yield Hit(MAIN, "src/main.py loads no YAML file; read the run variations from the config with "
                        "yaml.safe_load")


# -- RUN004 ------------------------------------------------------------------

_TEE_THREAD = '''

import threading


def pump(pipe, log, sink):
    for line in iter(pipe.readline, ""):
        log.write(line)
        sink.write(line)


def tee_run(cmd, log):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    thread = threading.Thread(target=pump, args=(proc.stdout, log, sys.stdout))
    thread.start()
    proc.wait()
    thread.join()
'''


@rule(
    code="RUN004", name="run-logs", severity=ERROR,
    consequence=CRITERION,
    criterion="main.py redirects each subprocess stdout/stderr to `{results_dir}/{run_id}/stdout.log` "
              "and `stderr.log` while forwarding to main stdout/stderr.",
    rationale="The per-run logs are the record of what each run printed; forwarding keeps the "
              "pipeline's own log complete.",
    invalid=[Example(files={MAIN: SEQUENTIAL_MAIN.replace("stdout.log", "out.txt")}, line=1),
             Example(files={MAIN: SEQUENTIAL_MAIN.replace("        sys.stdout.write(stdout)\n        sys.stderr.write(stderr)\n", "")}, line=1),
             # a tee helper handed sys.stdout by its thread that only writes the log
             Example(files={MAIN: SEQUENTIAL_MAIN.replace("        sys.stdout.write(stdout)\n        sys.stderr.write(stderr)\n", "")
                            + _TEE_THREAD.replace("        sink.write(line)\n", "")}, line=1,
                     message="not to main's own stdout/stderr")],
    valid=[Example(files={MAIN: SEQUENTIAL_MAIN}),
           Example(files={MAIN: SEQUENTIAL_MAIN.replace("        sys.stdout.write(stdout)\n        sys.stderr.write(stderr)\n", "")
                          + _TEE_THREAD}),
           # streams in a list, and a wrapper object built around sys.stdout
           Example(files={MAIN: SEQUENTIAL_MAIN.replace("        sys.stdout.write(stdout)\n        sys.stderr.write(stderr)\n", "")
                          + _TEE_THREAD.replace("(proc.stdout, log, sys.stdout)", "(proc.stdout, log, [sys.stdout])").replace(
                              "        sink.write(line)\n", "        for stream in sink:\n            stream.write(line)\n")}),
           Example(files={MAIN: SEQUENTIAL_MAIN.replace("        sys.stdout.write(stdout)\n        sys.stderr.write(stderr)\n", "")
                          + _TEE_THREAD.replace("(proc.stdout, log, sys.stdout)", "(proc.stdout, log, Tee(sys.stdout))")})],
)
def run_logs(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(MAIN)
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
    if not _forwards(source):
        yield Hit(MAIN, "the children's output goes only to the log files, not to main's own stdout/stderr; "
                        "also write each line to sys.stdout / sys.stderr")


_PARENT_STREAMS = ("sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__")


def _is_parent_stream(node: cst.CSTNode) -> bool:
    return dotted_name(node) in _PARENT_STREAMS or dotted_name(node).startswith(
        tuple(f"{s}.buffer" for s in _PARENT_STREAMS))


def _forwards(source: PythonSource) -> bool:
    """Some line of the children's output reaches main's own stdout/stderr: a write to (or print
    into) a stream that may hold sys.stdout/sys.stderr, followed through names and parameters (a
    tee helper handed `sys.stdout` by its thread), or a print in the function that reads the pipes."""
    index = source.index
    for call in index.calls:
        func = call.node.func
        if isinstance(func, cst.Attribute) and func.attr.value in ("write", "writelines", "buffer"):
            if may_hold(source, func.value, call.scope, _is_parent_stream):
                return True
        target = call.keyword("file") if call.name == "print" else None
        if target is not None and may_hold(source, target, call.scope, _is_parent_stream):
            return True
        if call.qualname in ("shutil.copyfileobj",) and len(call.node.args) > 1 and \
                may_hold(source, call.node.args[1].value, call.scope, _is_parent_stream):
            return True
    # the child writes into main's streams itself (no capture)
    if any(c.keyword("stdout") is not None and may_hold(source, c.keyword("stdout") or cst.Name("_"), c.scope,
                                                        _is_parent_stream) for c in index.calls):
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
