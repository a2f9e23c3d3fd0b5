"""PH003-PH005: derived and Hydra code leaves nothing unfinished: no leftover placeholder, no
self-declared shortcut, no stub function."""
from __future__ import annotations

import re
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.task import unused_task_module
from expreview.facts.validator_fixes import history_lines
from expreview.findings import ADVICE, CRASH, CRITERION, ERROR, Span, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.index import dotted_name


# -- derived and hydra: nothing may be left unfinished ----------------------

_LEFTOVER = re.compile(
    r"\b\w*PLACEHOLDER\w*\b|\bTODO\b|\bFIXME\b|\[UNCHANGED\]|omitted for brevity|simplified version",
)
_LEFTOVER_CI = re.compile(r"omitted for brevity|simplified version", re.I)
_SCANNED = (".py", ".yaml", ".yml", ".toml")


_MARKERS = ("PLACEHOLDER", "TODO", "FIXME", "[UNCHANGED]")


def _leftover(text: str):
    # Plain substring tests first: the regexes only run where a marker can be.
    if any(m in text for m in _MARKERS):
        match = _LEFTOVER.search(text)
        if match:
            return match
    lowered = text.lower()
    if "omitted for brevity" in lowered or "simplified version" in lowered:
        return _LEFTOVER_CI.search(text)
    return None


@rule(
    code="PH003", name="leftover-placeholder", severity=ERROR,
    consequence=CRITERION,
    criterion="No TODO, PLACEHOLDER, [UNCHANGED] markers, \"omitted for brevity\" or \"simplified "
              "version\" remain anywhere (code, comments, configs).",
    rationale="Experiment code is run as it is; a leftover placeholder is either a value that "
              "crashes the run or a part of the method that was never written.",
    invalid=[Example(files={"src/preprocess.py": """
        def load(cfg):
            # TODO: load the real data
            return []
        """}, line=2),
             Example(files={"config/smoke_test.yaml": """
                 runs:
                   - run_id: a
                     dataset: {name: DATASET_PLACEHOLDER}
                 """}, line=3)],
    valid=[Example(files={"src/preprocess.py": """
        def load(cfg):
            # the digits set ships with scikit-learn
            return []
        """}),
           # a validator agent's repair record quotes the old code: history, not a leftover
           Example(files={"src/preprocess.py": """
               def load(cfg):
                   # [VALIDATOR FIX - Attempt 1]
                   # [PROBLEM]: the loader returned nothing
                   # [OLD CODE]:
                   # # TODO: load the real data
                   # return []
                   # [NEW CODE]:
                   return [1, 2, 3]
               """})],
)
def leftover_placeholder(bundle: Bundle) -> Iterator[Hit]:
    for path in bundle.paths():
        if not path.endswith(_SCANNED) or not _leftover(bundle.files[path]):
            continue
        history = history_lines(bundle.files[path])
        for number, line in enumerate(bundle.files[path].splitlines(), 1):
            match = _leftover(line)
            if match and number not in history:
                yield Hit(path, f"`{match.group()}` is left in the experiment code; replace it with the real "
                                "implementation or value", Span(number, match.start() + 1, number, match.end() + 1))


_SHORTCUT = re.compile(
    r"proxy[\s*_`]+(?:implementation|version|model|objective|method|approach)"
    r"|shortened[\s*_]+for[\s*_]+(?:the[\s*_]+)?demo"
    r"|set[\s*_]+\d[\d,_]*[\s*_]+for[\s*_]+(?:the[\s*_]+)?full(?:[\s*_]+(?:study|run|experiment|training))?"
    r"|(?:rough|crude|cheap|quick|coarse|simple)[\s*_]+approximation|as[\s*_]+an[\s*_]+approximation"
    r"|for[\s*_]+(?:demo|demonstration)[\s*_]+purposes"
    r"|the[\s*_]+real[\s*_]+(?:method|implementation|algorithm)[\s*_]+would",
    re.I,
)
# The same phrases matched in lower-cased text: about four times faster than re.I over a file.
_SHORTCUT_LOWER = re.compile(_SHORTCUT.pattern)


def _shortcuts(text: str) -> Iterator[tuple[int, str]]:
    """(offset, phrase as written) of each self-declared shortcut in `text`."""
    lower = text.lower()
    if len(lower) != len(text):  # a character whose lower case is longer: offsets would shift
        if _SHORTCUT_ANCHOR_ANY_CASE.search(text):
            yield from ((m.start(), m.group()) for m in _SHORTCUT.finditer(text))
        return
    if _SHORTCUT_ANCHOR.search(lower):
        yield from ((m.start(), text[m.start():m.end()]) for m in _SHORTCUT_LOWER.finditer(lower))


# A part of every phrase of _SHORTCUT, searched first in lower-cased text: most files have none,
# and a case-insensitive alternation costs several times a plain one.
_SHORTCUT_ANCHOR = re.compile(r"proxy|shortened|approximation|demo|the[\s*_]+real|for[\s*_]+(?:the[\s*_]+)?full")
_SHORTCUT_ANCHOR_ANY_CASE = re.compile(_SHORTCUT_ANCHOR.pattern, re.I)


@rule(
    code="PH005", name="self-declared-shortcut", severity=WARNING,
    consequence=ADVICE,
    criterion="No quality degradation: no simplified logic that reduces functionality (the code's "
              "own comments must not call it a proxy, an approximation or a demo).",
    rationale="When the code says it is a proxy implementation or shortened for a demo, the "
              "experiment does not test the method it claims to test.",
    invalid=[Example(files={"config/full_experiment.yaml": """
        runs:
          - run_id: a
            epochs: 2  # shortened for demo; set 50 for full study
        """}),
             Example(files={"src/train.py": "def warm_start():\n    \"\"\"This is a *proxy*\n    implementation of the method.\"\"\"\n    return 0\n"}, line=2),
             # a character whose lower case is two characters long (İ) before it: the line is still right
             Example(files={"src/train.py": "# data from İzmir\ndef warm_start():\n    return 0  # PROXY implementation\n"},
                     line=3, message="PROXY implementation")],
    valid=[Example(files={"src/train.py": "def warm_start():\n    \"\"\"One hyper-gradient step, as in the paper.\"\"\"\n    return 0\n"}),
           Example(files={"src/train.py": "def warm_start():\n    # [VALIDATOR FIX - Attempt 2]\n    # [CAUSE]: the old code was a "
                                          "proxy implementation of the method\n    # [NEW CODE]:\n    return 1\n"})],
)
def self_declared_shortcut(bundle: Bundle) -> Iterator[Hit]:
    for path in bundle.paths():
        if not path.endswith(_SCANNED):
            continue
        text = bundle.files[path]
        history: Optional[frozenset[int]] = None  # read only for a file with a shortcut
        for start, written in _shortcuts(text):
            line = text.count("\n", 0, start) + 1
            history = history_lines(text) if history is None else history
            if line in history:
                continue
            phrase = " ".join(written.replace("*", "").split())
            yield Hit(path, f"the code calls itself \"{phrase}\"; implement the method as specified (or state "
                            "the deviation in the experiment design, not in a comment)", line)


_ABSTRACT = ("abstractmethod", "abc.abstractmethod", "overload", "typing.overload", "abstractproperty")


def _stub_kind(fn: cst.FunctionDef) -> Optional[str]:
    body = fn.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    small: list[cst.BaseSmallStatement] = []
    for statement in statements:
        if isinstance(statement, cst.SimpleStatementLine):
            small.extend(statement.body)
        elif isinstance(statement, cst.SimpleStatementSuite):
            small.extend(statement.body)
        else:
            return None
    if small and isinstance(small[0], cst.Expr) and isinstance(small[0].value, (cst.SimpleString, cst.ConcatenatedString)):
        small = small[1:]  # a docstring
    if len(small) != 1:
        return None
    only = small[0]
    if isinstance(only, cst.Pass):
        return "pass"
    if isinstance(only, cst.Expr) and isinstance(only.value, cst.Ellipsis):
        return "..."
    if isinstance(only, cst.Raise) and only.exc is not None:
        exc = only.exc.func if isinstance(only.exc, cst.Call) else only.exc
        if dotted_name(exc) == "NotImplementedError":
            return "raise NotImplementedError"
    return None


def _overridden_methods(bundle: Bundle) -> set[tuple[str, str]]:
    """(class, method) pairs that a subclass somewhere in the bundle defines again."""
    methods: dict[str, set[str]] = {}
    bases: dict[str, list[str]] = {}
    for source in bundle.python_files():
        for fn in source.index.functions:
            if fn.class_name:
                methods.setdefault(fn.class_name, set()).add(fn.name)
        for name, node in source.index.classes.items():
            bases[name] = [dotted_name(b.value).rsplit(".", 1)[-1] for b in node.bases]
    out = set()
    for child, parents in bases.items():
        for parent in parents:
            out |= {(parent, m) for m in methods.get(child, set()) & methods.get(parent, set())}
    return out


@rule(
    code="PH004", name="stub-function", severity=ERROR,
    consequence=CRASH,
    criterion="No truncated functions or incomplete implementations: no function whose body is only "
              "`pass`, `...` or `raise NotImplementedError`.",
    rationale="A stub returns None or raises at the first call; the experiment cannot run the part "
              "it stands for. (Abstract methods and overloads are not stubs.)",
    invalid=[Example(files={"src/model.py": """
        class Net:
            def forward(self, x):
                pass
        """}, line=2),
             Example(files={"src/train.py": "def warm_start(model):\n    \"\"\"Warm start.\"\"\"\n    raise NotImplementedError\n"}, line=1)],
    valid=[# the template's training module in an inference experiment: nothing imports or starts it
           Example(files={"src/train.py": "def main():\n    raise NotImplementedError('inference only')\n",
                          "src/inference.py": "def main():\n    return 1\n",
                          "src/main.py": "from src.inference import main\n\nmain()\n"}, stage="template"),
           Example(files={"src/model.py": """
        import abc
        from typing import Tuple


        class Base(abc.ABC):
            @abc.abstractmethod
            def forward(self, x: Tuple[int, ...]):
                ...


        def build(name):
            if name == 'mlp':
                return Base
            raise NotImplementedError(name)
        """}),
           Example(files={"src/model.py": """
               class Base:
                   def forward(self, x):
                       raise NotImplementedError


               class Net(Base):
                   def forward(self, x):
                       return x
               """})],
)
def stub_function(bundle: Bundle) -> Iterator[Hit]:
    unused = unused_task_module(bundle)  # never runs: a stub there cannot fail
    for source in bundle.python_files():
        if not source.ok or source.path == unused:
            continue
        index = source.index
        protocols = {name for name, node in index.classes.items()
                     if any(dotted_name(b.value).endswith(("Protocol", "ABC")) for b in node.bases)}
        overridden = _overridden_methods(bundle)
        for fn in index.functions:
            decorators = [dotted_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                          for d in fn.node.decorators]
            if any(d in _ABSTRACT or d.endswith(".abstractmethod") for d in decorators):
                continue
            if fn.class_name in protocols or (fn.class_name, fn.name) in overridden:
                continue  # an interface method that subclasses in the bundle implement
            kind = _stub_kind(fn.node)
            if kind is not None:
                yield Hit(source.path, f"`{fn.qualname}` is a stub (its body is only `{kind}`); implement it", fn.node)
