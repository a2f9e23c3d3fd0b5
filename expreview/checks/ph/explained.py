"""PH002: every placeholder in base code has a comment (on its line, in a comment block above it
or heading its group of lines) or a docstring saying what replaces it."""
from __future__ import annotations

import re
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.ph.tokens import Token, placeholder_tokens
from expreview.facts.comments import python_comment
from expreview.facts.placeholders import PLACEHOLDER
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule


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


# "e.g. 3e-4", "such as cifar10", "for example: resnet18": an example of what goes there
_GIVES_EXAMPLE = re.compile(r"\b(?:e\.?g|i\.?e|for example|for instance|such as)\b\.?\s*[,:]?\s*[^\s.,:;]", re.I)


def says_what_replaces(comment: Optional[str]) -> bool:
    """A comment next to a token explains it: it says more than the token, or gives an example value."""
    return explains(comment) or bool(comment and _GIVES_EXAMPLE.search(PLACEHOLDER.sub(" ", comment)))


def heads(text: str, token: str, key: Optional[str]) -> bool:
    """A comment heading a group of lines (not the token's own line or the line above it) explains
    the token only when it is about placeholders: it names the token, its key or placeholders, or
    says what replaces them. A section title (`# load data`) heads code, it explains no token."""
    if not explains(text) and not says_what_replaces(text):
        return False
    lowered = text.lower()
    return (token in text or "placeholder" in lowered or explains_itself(text)
            or bool(key and len(key) > 2 and re.search(rf"\b{re.escape(key.lower())}\b", lowered)))


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


def _block_above(bundle: Bundle, path: str, line: int) -> tuple[int, list[str]]:
    """The comment lines right above `line` (no blank line between), and the line the block starts on."""
    block: list[str] = []
    number = line - 1
    while number >= 1 and _comment_line(bundle, path, number):
        block.insert(0, _comment(bundle, path, number) or "")
        number -= 1
    return number + 1, block


def _indent(text: str) -> int:
    """The column where a line's content starts, a YAML list dash counted as indentation."""
    stripped = text.lstrip(" ")
    column = len(text) - len(stripped)
    while stripped.startswith("- "):
        rest = stripped[2:].lstrip(" ")
        column += len(stripped) - len(rest)
        stripped = rest
    return column


def _group_heading(bundle: Bundle, path: str, line: int) -> list[str]:
    """The comment block heading the group of sibling lines that holds `line`: walk up over lines at
    the same indentation (and the deeper lines between them) to a comment block, stopping at a blank
    line, a shallower line or the line that starts the enclosing YAML list item."""
    source = bundle.python(path) if path.endswith(".py") else bundle.yaml(path)
    lines = source.lines if source is not None else []
    if not 1 <= line <= len(lines):
        return []
    column = _indent(lines[line - 1])
    if lines[line - 1].lstrip(" ").startswith("- "):
        return []  # the token's line starts its list item: only the block right above it counts
    number = line - 1
    while number >= 1:
        text = lines[number - 1]
        if not text.strip():
            return []
        if _comment_line(bundle, path, number):
            start, block = _block_above(bundle, path, number + 1)
            return block if _indent(lines[start - 1]) <= column else []
        indent = _indent(text)
        if indent < column:
            return []
        if indent == column and text.lstrip(" ").startswith("- "):
            return _block_above(bundle, path, number)[1]  # the item this line belongs to starts here
        number -= 1
    return []


def _docstring_explains(bundle: Bundle, token: Token) -> bool:
    """The docstring of the function holding a Python token names it, or says what replaces its
    placeholders; the module docstring explains a token it names."""
    source = bundle.parsed(token.path)
    if source is None:
        return False
    holders = [fn for fn in source.index.functions
               if source.span(fn.node).line <= token.line <= source.span(fn.node).end_line]
    if holders:
        innermost = max(holders, key=lambda fn: source.span(fn.node).line)
        doc = innermost.node.get_docstring() or ""
        if token.text in doc or ("placeholder" in doc.lower() and explains_itself(doc)):
            return True
    module = source.module
    return bool(module is not None and token.text in (module.get_docstring() or ""))


def _explained_around(bundle: Bundle, token: Token) -> bool:
    """A comment block right above the token (or above the statement holding it), a comment block
    heading its group of sibling entries, or a docstring explains it."""
    starts = {token.line} | ({token.first_line} if token.first_line else set())
    for line in starts:
        block = " ".join(_block_above(bundle, token.path, line)[1])
        if says_what_replaces(block):
            return True
    key = next((k for k in reversed(token.yaml_path) if isinstance(k, str)), None)
    if heads(" ".join(_group_heading(bundle, token.path, token.line)), token.text, key):
        return True
    return token.path.endswith(".py") and _docstring_explains(bundle, token)


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
        """}, line=4),
             # an example marker with no example after it says nothing
             Example(files={"config/smoke_test.yaml": """
                 runs:
                   - run_id: a
                     dataset:
                       subset: SUBSET_PLACEHOLDER  # e.g.
                 """}, line=4),
             # a section title heads the group, it does not explain the token
             Example(files={"config/smoke_test.yaml": """
                 runs:
                   # the baseline run
                   - run_id: a
                     dataset: DATASET_PLACEHOLDER
                 """}, line=4),
             # the comment block heads the first item only; the second, after a blank line, is bare
             Example(files={"config/smoke_test.yaml": """
                 runs:
                   # PLACEHOLDER: the derive step fills in each run's dataset
                   - run_id: a
                     dataset: DATASET_PLACEHOLDER

                   - run_id: b
                     dataset: DATASET_PLACEHOLDER
                 """}, line=7),
             # a docstring that does not mention the placeholder explains nothing
             Example(files={"src/preprocess.py": """
                 def load(cfg):
                     \"\"\"Load the dataset.\"\"\"
                     return "DATASET_PLACEHOLDER"
                 """}, line=3)],
    valid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: a
            dataset:
              # replaced by the Hugging Face dataset id
              name: DATASET_PLACEHOLDER
        """}),
           # a comment giving an example value says what replaces it
           Example(files={"config/smoke_test.yaml": """
               runs:
                 - run_id: a
                   dataset:
                     subset: SUBSET_PLACEHOLDER  # e.g. sst2
               """}),
           # a comment block above, not only the line above, explains it
           Example(files={"config/smoke_test.yaml": """
               runs:
                 - run_id: a
                   dataset:
                     # The derive step replaces this with
                     # the Hugging Face dataset id.
                     # ----------------------------------
                     name: DATASET_PLACEHOLDER
               """}),
           # a comment block heading the list item explains the placeholders of its entries
           Example(files={"config/smoke_test.yaml": """
               runs:
                 # PLACEHOLDER: the derive step fills in each run's dataset and model
                 - run_id: a
                   dataset: DATASET_PLACEHOLDER
                   model: MODEL_PLACEHOLDER
               """}),
           # a comment heading sibling keys explains each key it names
           Example(files={"config/full_experiment.yaml": """
               defaults:
                 # common defaults (batch size, epochs) to be set per dataset
                 batch_size: 32
                 epochs: EPOCHS_PLACEHOLDER
               """}),
           # the docstring of the function holding it explains it
           Example(files={"src/preprocess.py": """
               def load(cfg):
                   \"\"\"Load the dataset. DATASET_PLACEHOLDER: the derive step puts the dataset id here.\"\"\"
                   return "DATASET_PLACEHOLDER"
               """})],
)
def placeholder_unexplained(bundle: Bundle) -> Iterator[Hit]:
    for token in placeholder_tokens(bundle):
        comment = _comment(bundle, token.path, token.line)
        if says_what_replaces(comment) or explains_itself(token.context) or _explained_around(bundle, token):
            continue
        said = f" (its comment only says `# {comment}`)" if comment else ""
        yield Hit(token.path, f"placeholder `{token.text}` has no comment saying what replaces it{said}; add one "
                              f"on this line or in a comment block above it, e.g. `# {token.text}: replaced by <what> in the "
                              "derive step`", token.line if isinstance(token.where, cst.CSTNode) else token.location)
