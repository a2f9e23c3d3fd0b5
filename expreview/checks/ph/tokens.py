"""PH001, PH002: placeholders in base code are where they belong and say what replaces them."""
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
from expreview.findings import CRITERION, ERROR, Span
from expreview.rule import Example, Hit, rule
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
    consequence=CRITERION,
    criterion="Placeholders are ONLY used for dataset-specific and model-specific components; core "
              "algorithm logic has NO placeholders.",
    rationale="The derive step replaces dataset and model placeholders only; a placeholder in the "
              "training loop, the orchestration or a hyperparameter survives into the experiment.",
    invalid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: a
            seed: SPECIFIC_CONFIG_PLACEHOLDER  # the seed per run
        """}, line=3),
             Example(files={"src/train.py": """
                 def step(cfg):
                     # the optimiser, chosen later
                     return 'OPTIMIZER_PLACEHOLDER'
                 """}, line=3),
             Example(files={"src/train.py": """
                 def step(cfg):
                     # the learning rate, chosen later
                     LR_PLACEHOLDER = 0.1
                     return LR_PLACEHOLDER
                 """}, line=3)],
    valid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: BASELINE_PLACEHOLDER  # run name set later
            dataset:
              name: DATASET_PLACEHOLDER  # replaced by the real dataset id
        """})],
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
    consequence=CRITERION,
    criterion="Includes comments explaining what each placeholder will be replaced with.",
    rationale="The derive step is another model reading this code: a placeholder with no comment "
              "leaves it to guess what belongs there (a bare `# PLACEHOLDER` explains nothing).",
    invalid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: a
            dataset:
              name: DATASET_PLACEHOLDER  # PLACEHOLDER
        """}, line=4)],
    valid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: a
            dataset:
              # replaced by the Hugging Face dataset id
              name: DATASET_PLACEHOLDER
        """})],
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
