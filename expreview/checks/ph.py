"""PH: placeholders in base code are where they belong and say what replaces them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional, Union

import libcst as cst
import yaml

from expreview.bundle import Bundle
from expreview.facts.comments import python_comment
from expreview.facts.docstrings import is_docstring
from expreview.facts.placeholders import PLACEHOLDER
from expreview.findings import ERROR, WARNING, Span
from expreview.rule import Example, Hit, rule
from expreview.sources.index import dotted_name
from expreview.sources.pyfile import PythonSource
from expreview.sources.yamlfile import YamlSource

CORE_FILES = ("src/train.py", "src/evaluate.py", "src/main.py")
RUN_IDENTITY_KEYS = ("run_id", "name", "id", "description")


# -- what explains a placeholder ---------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def explains(comment: Optional[str]) -> bool:
    """A comment explains a placeholder when it says more than the token itself."""
    if not comment:
        return False
    rest = PLACEHOLDER.sub(" ", comment)
    words = [w for w in _WORD.findall(rest) if w.lower() not in ("placeholder", "placeholders", "todo")]
    return len(words) >= 2


_SELF_EXPLAINING = re.compile(
    r"\b(replac\w*|substitut\w*|fill(ed)? in|insert\w*|implement\w*|populat\w*|will be|to be|e\.g\.|such as)\b",
    re.I,
)
_TOKEN_THEN_WORDS = re.compile(r"\b\w*PLACEHOLDER\w*\s*[:\u2013-]\s*[A-Za-z]+\W+[A-Za-z]+")


def explains_itself(text: str) -> bool:
    """Free text around a token that says what replaces it ("PLACEHOLDER: replace with …")."""
    return bool(_SELF_EXPLAINING.search(PLACEHOLDER.sub(" ", text)) or _TOKEN_THEN_WORDS.search(text))


@dataclass
class Token:
    path: str
    text: str  # the placeholder token
    line: int
    where: Union[cst.CSTNode, yaml.Node, Span]
    context: str  # the string or scalar holding it
    yaml_path: tuple = ()

    @property
    def location(self):
        """The node when it starts on the token's line, else just the line."""
        if isinstance(self.where, yaml.Node) and self.where.start_mark.line + 1 != self.line:
            return self.line
        return self.where


def _python_tokens(source: PythonSource) -> Iterator[Token]:
    index = source.index
    for s in index.strings:
        if "PLACEHOLDER" not in s.value or id(s.node) in index.compared or is_docstring(index, s.node, s.stmt):
            continue
        match = PLACEHOLDER.search(s.value)
        if match:
            line = source.span(s.node).line + s.value[: match.start()].count("\n")
            yield Token(source.path, match.group(), line, s.node, s.value)
    # names such as `LR_PLACEHOLDER = 0.1`, at module level or in a function
    names = set(index.module_assigns).union(*(fn.assigns for fn in index.functions))
    for name in sorted(n for n in names if PLACEHOLDER.fullmatch(n)):
        found = re.search(rf"^[ \t]*{re.escape(name)}\s*(?::[^=\n]*)?=(?!=)", source.text, re.M)
        if found:
            line = source.text.count("\n", 0, found.start()) + 1
            yield Token(source.path, name, line, Span(line, 1, line, 1), name)


def _yaml_tokens(doc: YamlSource) -> Iterator[Token]:
    for entry in doc.entries():
        key = entry.key_node  # `training: {SPECIFIC_CONFIG_PLACEHOLDER}` puts the token in a key
        if isinstance(key, yaml.ScalarNode) and isinstance(key.value, str) and "PLACEHOLDER" in key.value:
            match = PLACEHOLDER.search(key.value)
            if match is not None:
                yield Token(doc.path, match.group(), key.start_mark.line + 1, key, key.value, entry.path[:-1])
        if not isinstance(entry.node, yaml.ScalarNode):
            continue
        value = entry.node.value
        if not isinstance(value, str) or "PLACEHOLDER" not in value:
            continue
        match = PLACEHOLDER.search(value)
        if match is None:
            continue
        line = entry.node.start_mark.line + 1
        if entry.node.style and entry.node.style in "|>":
            for number in range(line, entry.node.end_mark.line + 2):
                if match.group() in (doc.lines[number - 1] if number <= len(doc.lines) else ""):
                    line = number
                    break
        yield Token(doc.path, match.group(), line, entry.node, value, entry.path)


def placeholder_tokens(bundle: Bundle) -> Iterator[Token]:
    for source in bundle.python_files():
        if source.ok:
            yield from _python_tokens(source)
    for doc in bundle.yaml_files():
        yield from _yaml_tokens(doc)


def _in_dataset_or_model_scope(path: tuple) -> bool:
    for key in path:
        if isinstance(key, str) and ("dataset" in key.lower() or "model" in key.lower() or key.lower() == "data"):
            return True
    return False


@rule(
    code="PH001", name="placeholder-outside-scope", severity=ERROR,
    criterion="Placeholders are ONLY used for dataset-specific and model-specific components; core "
              "algorithm logic has NO placeholders.",
    rationale="The derive step replaces dataset and model placeholders only; a placeholder in the "
              "training loop, the orchestration or a hyperparameter survives into the experiment.",
    invalid=[Example(files={"config/smoke_test.yaml": "runs:\n  - run_id: a\n"
                                                      "    seed: SPECIFIC_CONFIG_PLACEHOLDER  # the seed per run\n"}),
             Example(files={"src/train.py": "def step(cfg):\n    # the optimiser, chosen later\n"
                                            "    return 'OPTIMIZER_PLACEHOLDER'\n"}),
             Example(files={"src/train.py": "def step(cfg):\n    # the learning rate, chosen later\n"
                                            "    LR_PLACEHOLDER = 0.1\n    return LR_PLACEHOLDER\n"})],
    valid=[Example(files={"config/smoke_test.yaml": "runs:\n  - run_id: BASELINE_PLACEHOLDER  # run name set later\n"
                                                    "    dataset:\n      name: DATASET_PLACEHOLDER  # replaced by the real dataset id\n"})],
)
def placeholder_outside_scope(bundle: Bundle) -> Iterator[Hit]:
    for token in placeholder_tokens(bundle):
        if token.path.endswith((".yaml", ".yml")):
            path = token.yaml_path
            last = path[-1] if path else None
            if last in RUN_IDENTITY_KEYS or _in_dataset_or_model_scope(path):
                continue
            key = ".".join(str(k) for k in path)
            yield Hit(token.path, f"`{key}: {token.text}` is a placeholder outside the dataset/model scope; "
                                  "base configs may leave only dataset and model values open. Give it a "
                                  "real value", token.location)
        elif token.path in CORE_FILES:
            yield Hit(token.path, f"`{token.text}` is a placeholder in {token.path}, which is core logic; only "
                                  "dataset- and model-specific code may hold placeholders. Implement it",
                      token.location)


def _comment(bundle: Bundle, path: str, line: int) -> Optional[str]:
    if path.endswith(".py"):
        source = bundle.python(path)
        lines = source.lines if source else []
        return python_comment(lines[line - 1]) if 1 <= line <= len(lines) else None
    doc = bundle.yaml(path)
    return doc.comment(line) if doc else None


def _comment_line(bundle: Bundle, path: str, line: int) -> bool:
    if path.endswith(".py"):
        source = bundle.python(path)
        return source is not None and 1 <= line <= len(source.lines) and source.lines[line - 1].lstrip().startswith("#")
    doc = bundle.yaml(path)
    return doc is not None and doc.is_comment_line(line)


@rule(
    code="PH002", name="placeholder-unexplained", severity=ERROR,
    criterion="Includes comments explaining what each placeholder will be replaced with.",
    rationale="The derive step is another model reading this code: a placeholder with no comment "
              "leaves it to guess what belongs there (a bare `# PLACEHOLDER` explains nothing).",
    invalid=[Example(files={"config/smoke_test.yaml": "runs:\n  - run_id: a\n    dataset:\n"
                                                      "      name: DATASET_PLACEHOLDER  # PLACEHOLDER\n"})],
    valid=[Example(files={"config/smoke_test.yaml": "runs:\n  - run_id: a\n    dataset:\n"
                                                    "      # replaced by the Hugging Face dataset id\n"
                                                    "      name: DATASET_PLACEHOLDER\n"})],
)
def placeholder_unexplained(bundle: Bundle) -> Iterator[Hit]:
    for token in placeholder_tokens(bundle):
        comment = _comment(bundle, token.path, token.line)
        above = _comment(bundle, token.path, token.line - 1) if _comment_line(bundle, token.path, token.line - 1) else None
        if explains(comment) or explains(above) or explains_itself(token.context):
            continue
        said = f" (its comment only says `# {comment}`)" if comment else ""
        yield Hit(token.path, f"placeholder `{token.text}` has no comment saying what replaces it{said}; add one "
                              f"on this line or the line above, e.g. `# {token.text}: replaced by <what> in the "
                              "derive step`", token.line if isinstance(token.where, cst.CSTNode) else token.location)


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
    criterion="No TODO, PLACEHOLDER, [UNCHANGED] markers, \"omitted for brevity\" or \"simplified "
              "version\" remain anywhere (code, comments, configs).",
    rationale="Experiment code is run as it is; a leftover placeholder is either a value that "
              "crashes the run or a part of the method that was never written.",
    invalid=[Example(files={"src/preprocess.py": "def load(cfg):\n    # TODO: load the real data\n    return []\n"}),
             Example(files={"config/smoke_test.yaml": "runs:\n  - run_id: a\n    dataset: {name: DATASET_PLACEHOLDER}\n"})],
    valid=[Example(files={"src/preprocess.py": "def load(cfg):\n    # the digits set ships with scikit-learn\n    return []\n"})],
)
def leftover_placeholder(bundle: Bundle) -> Iterator[Hit]:
    for path in bundle.paths():
        if not path.endswith(_SCANNED) or not _leftover(bundle.files[path]):
            continue
        for number, line in enumerate(bundle.files[path].splitlines(), 1):
            match = _leftover(line)
            if match:
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


_SHORTCUT_ANCHOR = re.compile(r"proxy|shortened|approximation|demonstration|demo|real|full", re.I)


@rule(
    code="PH005", name="self-declared-shortcut", severity=WARNING,
    criterion="No quality degradation: no simplified logic that reduces functionality (the code's "
              "own comments must not call it a proxy, an approximation or a demo).",
    rationale="When the code says it is a proxy implementation or shortened for a demo, the "
              "experiment does not test the method it claims to test.",
    invalid=[Example(files={"config/full_experiment.yaml": "runs:\n  - run_id: a\n    epochs: 2  # shortened for demo; set 50 for full study\n"}),
             Example(files={"src/train.py": "def warm_start():\n    \"\"\"This is a *proxy*\n    implementation of the method.\"\"\"\n    return 0\n"})],
    valid=[Example(files={"src/train.py": "def warm_start():\n    \"\"\"One hyper-gradient step, as in the paper.\"\"\"\n    return 0\n"})],
)
def self_declared_shortcut(bundle: Bundle) -> Iterator[Hit]:
    for path in bundle.paths():
        if not path.endswith(_SCANNED):
            continue
        text = bundle.files[path]
        if not _SHORTCUT_ANCHOR.search(text):
            continue
        for match in _SHORTCUT.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            phrase = " ".join(match.group().replace("*", "").split())
            yield Hit(path, f"the code calls itself \"{phrase}\"; implement the method as specified (or state "
                            "the deviation in the experiment design, not in a comment)", line)


_ABSTRACT = ("abstractmethod", "abc.abstractmethod", "overload", "typing.overload", "abstractproperty")


def _stub_kind(fn: cst.FunctionDef) -> Optional[str]:
    body = fn.body
    statements = list(body.body) if isinstance(body, cst.IndentedBlock) else [body]
    small = []
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
    criterion="No truncated functions or incomplete implementations: no function whose body is only "
              "`pass`, `...` or `raise NotImplementedError`.",
    rationale="A stub returns None or raises at the first call; the experiment cannot run the part "
              "it stands for. (Abstract methods and overloads are not stubs.)",
    invalid=[Example(files={"src/model.py": "class Net:\n    def forward(self, x):\n        pass\n"}),
             Example(files={"src/train.py": "def warm_start(model):\n    \"\"\"Warm start.\"\"\"\n    raise NotImplementedError\n"})],
    valid=[Example(files={"src/model.py": "import abc\nfrom typing import Tuple\n\n\nclass Base(abc.ABC):\n"
                                          "    @abc.abstractmethod\n    def forward(self, x: Tuple[int, ...]):\n        ...\n\n\n"
                                          "def build(name):\n    if name == 'mlp':\n        return Base\n"
                                          "    raise NotImplementedError(name)\n"}),
           Example(files={"src/model.py": "class Base:\n    def forward(self, x):\n        raise NotImplementedError\n\n\n"
                                          "class Net(Base):\n    def forward(self, x):\n        return x\n"})],
)
def stub_function(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
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
