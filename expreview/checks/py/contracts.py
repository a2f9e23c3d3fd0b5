"""PY006, PY007, PY009: calls, unpacking and uses of the bundle's own functions and classes, judged
only where facts.bundle_defs resolves the callee for certain."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.bundle_defs import Callee, Signature, calls_by_node, class_members, resolve_callee, signature
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, Index, iter_children

_MODEL = '''
class Net:
    def __init__(self, width, depth=2):
        self.width = width
        self.depth = depth

    def forward(self, x):
        return x


def build(width, *, dropout=0.0):
    return Net(width)


def split(data, fraction=0.2):
    cut = int(len(data) * fraction)
    return data[cut:], data[:cut], cut
'''


def _mismatch(sig: Signature, call: cst.Call) -> Optional[str]:
    """Why Python would refuse to bind `call` to `sig` (TypeError), or None."""
    positional = [a for a in call.args if a.keyword is None and not a.star]
    keywords = [a.keyword.value for a in call.args if a.keyword is not None]
    if any(a.star for a in call.args):
        return None  # *args/**kwargs at the call: the count is not known
    slots = [p for p in sig.params if p.kind in ("positional_only", "positional")]
    if len(positional) > len(slots) and not sig.var_positional:
        return (f"passes {len(positional)} positional argument{'s' * (len(positional) != 1)} to {sig.shown}, "
                f"which takes {len(slots)}")
    filled = {p.name for p in slots[:len(positional)]}
    names = {p.name: p for p in sig.params}
    for keyword in keywords:
        param = names.get(keyword)
        if param is None or param.kind in ("positional_only", "var_positional", "var_keyword"):
            if not sig.var_keyword:
                accepted = ", ".join(p.name for p in sig.params if p.kind in ("positional", "keyword_only")) or "none"
                return f"passes `{keyword}=` to {sig.shown}, which has no such parameter (it takes: {accepted})"
        elif keyword in filled:
            return f"passes `{keyword}` to {sig.shown} both by position and as `{keyword}=`"
    given = filled | set(keywords)
    missing = [p.name for p in sig.params if p.required and p.kind not in ("var_positional", "var_keyword")
               and p.name not in given]
    if missing:
        shown = ", ".join(f"`{m}`" for m in missing)
        return f"calls {sig.shown} without the required argument{'s' * (len(missing) > 1)} {shown}"
    return None


def _callees(bundle: Bundle) -> Iterator[tuple[str, Call, Callee]]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in source.index.calls:
            callee = resolve_callee(bundle, source, call)
            if callee is not None:
                yield source.path, call, callee


@rule(
    code="PY006", name="call-signature-mismatch", severity=ERROR,
    consequence=CRASH,
    criterion="Code is immediately executable: every call of a function or class of the bundle matches "
              "its signature.",
    rationale="Modules regenerated one by one stop agreeing: train passes `seq_len=` to a preprocess "
              "function that no longer takes it, or five arguments where six are required; Python raises "
              "TypeError when the line runs.",
    invalid=[
        Example(files={"src/model.py": _MODEL, "src/train.py": "from src.model import build\n\nmodel = build(64, seq_len=8)\n"},
                path="src/train.py", line=3, message="passes `seq_len=`"),
        Example(files={"src/model.py": _MODEL, "src/train.py": "from src.model import Net\n\nnet = Net()\n"},
                path="src/train.py", line=3, message="without the required argument `width`"),
        Example(files={"src/model.py": _MODEL, "src/train.py": "from src import model\n\nnet = model.Net(1, 2, 3)\n"},
                path="src/train.py", line=3, message="passes 3 positional arguments"),
        Example(files={"src/model.py": _MODEL + "\n\ndef train():\n    return build(1, 0.5)\n"},
                path="src/model.py", line=20, message="which takes 1"),
        Example(files={"src/model.py": """
            from dataclasses import dataclass, field


            @dataclass
            class Settings:
                lr: float
                epochs: int = 3
                tags: list = field(default_factory=list)


            settings = Settings(epochs=2)
            """}, path="src/model.py", line=11, message="`lr`"),
        Example(files={"src/model.py": """
            class Trainer:
                def __init__(self, lr):
                    self.lr = lr

                def step(self, batch, momentum):
                    return batch

                def run(self, batch):
                    return self.step(batch)
            """}, path="src/model.py", line=9, message="`momentum`"),
        # a helper defined inside the calling function
        Example(files={"src/train.py": """
            def train(batches):
                def step(batch, lr):
                    return batch

                for batch in batches:
                    step(batch)
            """}, path="src/train.py", line=6, message="`lr`"),
        # a method called on an instance made in the same function
        Example(files={"src/model.py": _MODEL, "src/train.py": """
            from src.model import Net


            def run(batch):
                net = Net(8)
                return net.forward(batch, training=True)
            """}, path="src/train.py", line=6, message="passes `training=`"),
    ],
    valid=[
        Example(files={"src/model.py": _MODEL, "src/train.py": """
            from functools import partial
            from src.model import Net, build, split

            net = Net(64, depth=3)
            model = build(width=8, dropout=0.1)
            args = (1,)
            other = build(*args)
            make = partial(build, 8)
            third = make(dropout=0.2)
            train, val, cut = split([1, 2, 3])


            def run(batch, other):
                net = Net(8)
                out = net.forward(batch)
                other = Net(4) if batch else other
                return other.forward(batch, 1, 2), out
            """}),
        # decorators that may change the signature, *args/**kwargs, unknown bases, names rebound
        Example(files={"src/model.py": """
            import functools
            import torch.nn as nn


            def register(fn):
                return fn


            @register
            def wrapped(a):
                return a


            def flexible(*args, **kwargs):
                return args


            class Block(nn.Module):
                pass


            def pick(x):
                return x


            wrapped(1, 2, 3)
            flexible(1, 2, key=3)
            Block(4, 5)
            pick = functools.partial(pick, 1)
            pick(2, 3)
            """})],
)
def call_signature_mismatch(bundle: Bundle) -> Iterator[Hit]:
    for path, call, callee in _callees(bundle):
        sig = signature(bundle, callee)
        if sig is None:
            continue
        problem = _mismatch(sig, call.node)
        if problem is not None:
            yield Hit(path, f"`{call.name}(…)` {problem}: Python raises TypeError when this line runs; "
                            "pass what the callee takes, or change its signature and every caller", call.node)


# Exact types, not isinstance: LibCST's node classes are ABCs, and this loop runs over every node.
_NESTED_SCOPES = frozenset({cst.FunctionDef, cst.Lambda, cst.ClassDef})


def _own_nodes(fn: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    """The nodes of `fn`'s body, not those of functions, lambdas or classes defined in it."""
    stack: list[cst.CSTNode] = [fn.body]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(c for c in iter_children(node) if type(c) not in _NESTED_SCOPES)


def returned_arity(fn: cst.FunctionDef) -> Optional[int]:
    """The length of the tuple that every `return` of `fn` gives, when all give a tuple literal of
    one length (None for a generator, a bare return, or any other returned value)."""
    lengths = set()
    for node in _own_nodes(fn):
        if type(node) is cst.Yield or type(node) is cst.Await:
            return None
        if type(node) is cst.Return:
            value = node.value
            if not isinstance(value, cst.Tuple) or any(isinstance(e, cst.StarredElement) for e in value.elements):
                return None
            lengths.add(len(value.elements))
    return lengths.pop() if len(lengths) == 1 else None


def _return_lengths(index: Index, fn: cst.FunctionDef) -> Optional[set[int]]:
    """The lengths of the tuple literals that the `return`s of `fn` itself give (not those of a
    function inside it); None when one gives anything else."""
    first, last = index.statement_range(fn)
    lengths = set()
    for ordinal in range(first + 1, last + 1):
        statement = index.statements[ordinal]
        if type(statement) is not cst.Return:
            continue
        scope = index.scope_of(ordinal)
        if scope is None or scope.node is not fn:
            continue
        if type(statement.value) is not cst.Tuple:
            return None
        lengths.add(len(statement.value.elements))
    return lengths


def _unpacked(statement: cst.CSTNode) -> Optional[tuple[int, cst.Call]]:
    """(number of targets, call) for `a, b, c = f(...)` (no starred target)."""
    if type(statement) is not cst.Assign or len(statement.targets) != 1 or not isinstance(statement.value, cst.Call):
        return None
    target = statement.targets[0].target
    if not isinstance(target, (cst.Tuple, cst.List)) or any(isinstance(e, cst.StarredElement) for e in target.elements):
        return None
    return len(target.elements), statement.value


@rule(
    code="PY007", name="unpacking-arity-mismatch", severity=ERROR,
    consequence=CRASH,
    criterion="Code is immediately executable: a bundle function's result is unpacked into as many names "
              "as it returns.",
    rationale="train unpacks four values from a preprocess function that returns three: ValueError "
              "(\"not enough values to unpack\") the moment the line runs. Judged only when every `return` "
              "of the function gives a tuple literal of one length.",
    invalid=[Example(files={"src/model.py": _MODEL, "src/train.py": "from src.model import split\n\ntrain, val = split([1, 2])\n"},
                     path="src/train.py", line=3, message="returns 3")],
    valid=[Example(files={"src/model.py": _MODEL + """

def loaders(data, with_test):
    if with_test:
        return data, data, data
    return data, data


def stream(data):
    for item in data:
        yield item, item
""", "src/train.py": """
from src.model import loaders, split, stream

train, val, cut = split([1, 2])
a, b = loaders([1], False)
first, *rest = split([1])
x, y = next(stream([1]))
"""})],
)
def unpacking_arity_mismatch(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        calls = calls_by_node(source)
        for statement in source.index.statements:
            found = _unpacked(statement)
            if found is None or id(found[1]) not in calls:
                continue
            targets, node = found
            call = calls[id(node)]
            callee = resolve_callee(bundle, source, call)
            if callee is None or not isinstance(callee.node, cst.FunctionDef):
                continue
            if _return_lengths(callee.source.index, callee.node) in (None, {targets}):
                continue  # told from the index without walking the body: no mismatch can be judged
            arity = returned_arity(callee.node)
            if arity is None or arity == targets:
                continue
            line = callee.source.span(callee.node).line
            yield Hit(source.path, f"unpacks `{call.name}(…)` into {targets} names, but `{callee.node.name.value}` "
                                   f"({callee.source.path}:{line}) returns {arity} values on every path: Python raises "
                                   f"ValueError here; unpack {arity} names, or return {targets}", node)


def _instance_class(bundle: Bundle, source, call: Call) -> Optional[tuple[Callee, set[str]]]:
    """The bundle class `call` instantiates, with its members, when both are certain."""
    callee = resolve_callee(bundle, source, call)
    if callee is None or not isinstance(callee.node, cst.ClassDef):
        return None
    members = class_members(bundle, callee.source, callee.node)
    return (callee, members) if members is not None else None


def _set_anywhere(bundle: Bundle, attribute: str) -> bool:
    """Some file assigns `<anything>.attribute = …` (an attribute set from outside the class)."""
    for source in bundle.python_files():
        if source.ok and any(a.store and a.name.split(".")[-1] == attribute for a in source.index.attributes):
            return True
    return False


_TEE = """
import sys


class Tee:
    def __init__(self, path):
        self.file = open(path, "w")

    def write(self, text):
        self.file.write(text)
        sys.stdout.write(text)
"""


@rule(
    code="PY009", name="class-use-unsupported", severity=ERROR,
    consequence=CRASH,
    criterion="Code is immediately executable: the bundle's classes support the way the code uses them.",
    rationale="`with Tee(...)` on a class without `__enter__`/`__exit__` raises TypeError (AttributeError "
              "before Python 3.11); reading an attribute that no method, class body or base class defines "
              "raises AttributeError. Judged only for classes whose bases are all in the bundle, without "
              "`__getattr__`, `__slots__` or `setattr`.",
    invalid=[Example(files={"src/train.py": _TEE + "\n\nwith Tee('log.txt') as tee:\n    tee.write('x')\n"},
                     path="src/train.py", line=13, message="no `__enter__`"),
             Example(files={"src/train.py": _TEE + "\n\ndef main():\n    tee = Tee('log.txt')\n    tee.flush()\n"},
                     path="src/train.py", line=15, message="defines no attribute `flush`")],
    valid=[Example(files={"src/train.py": _TEE + """
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def __getattr__(self, name):
        return getattr(self.file, name)


with Tee('log.txt') as tee:
    tee.write('x')
    tee.flush()
"""}),
           Example(files={"src/train.py": _TEE + """

class Base:
    def flush(self):
        pass


class Logged(Base):
    pass


def main(stream):
    tee = Tee('log.txt')
    tee.file.close()
    tee.extra = 1
    print(tee.extra)
    logged = Logged()
    logged.flush()
    with stream:
        pass
"""})],
)
def class_use_unsupported(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        index = source.index
        calls = calls_by_node(source)
        for statement in index.statements:
            if type(statement) is not cst.With or statement.asynchronous is not None:
                continue
            for item in statement.items:
                call = calls.get(id(item.item))
                found = _instance_class(bundle, source, call) if call is not None else None
                if found is None or call is None:
                    continue
                callee, members = found
                lacking = [m for m in ("__enter__", "__exit__") if m not in members]
                if lacking:
                    line = callee.source.span(callee.node).line
                    yield Hit(source.path, f"`with {call.name}(…)`: `{callee.node.name.value}` ({callee.source.path}:"
                                           f"{line}) has no {' or '.join(f'`{m}`' for m in lacking)}, so Python raises "
                                           "TypeError here; define both methods, or use `contextlib.closing` / "
                                           "a try/finally", item.item)
        for fn in index.functions:
            for name, values in fn.assigns.items():
                if len(values) != 1 or not isinstance(values[0], cst.Call) or id(values[0]) not in calls:
                    continue
                found = _instance_class(bundle, source, calls[id(values[0])])
                if found is None:
                    continue
                callee, members = found
                for attr in index.attributes:
                    parts = attr.name.split(".")
                    if attr.scope is not fn or attr.store or len(parts) < 2 or parts[0] != name:
                        continue
                    if parts[1] in members or _set_anywhere(bundle, parts[1]):
                        continue
                    line = callee.source.span(callee.node).line
                    yield Hit(source.path, f"`{name}.{parts[1]}`: `{callee.node.name.value}` ({callee.source.path}:"
                                           f"{line}) defines no attribute `{parts[1]}` (not in its class body, its "
                                           f"methods' `self.{parts[1]} = …`, or its bases), so Python raises "
                                           "AttributeError here; define it, or use the attribute it has", attr.node)
