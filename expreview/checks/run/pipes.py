"""RUN005: no pipe deadlock: a child's stdout and stderr are not both piped and read with blocking
calls in one thread."""
from __future__ import annotations

from typing import Iterator, Optional, Union

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.run.common import MAIN, bound_name
from expreview.facts.call_graph import reachable
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import AttributeChain, Call, Index, dotted_name


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
            var = bound_name(index, call)
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
