"""DRV: a derived experiment keeps what its base had (needs the base bundle)."""
from __future__ import annotations

from typing import Iterator

import re

from expreview.facts.placeholders import PLACEHOLDER
from expreview.bundle import Bundle
from expreview.findings import ADVICE, CRITERION, ERROR, WARNING
from expreview.rule import Example, Hit, rule

_BASE_TRAIN = (
    "import torch\n\n\ndef set_seed(seed):\n    torch.manual_seed(seed)\n\n\n"
    "def train_epoch(model, data):\n    for x, y in data:\n        model(x)\n    return 0.0\n"
)


def _pairs(bundle: Bundle, suffix: str = ""):
    """(path, base text, derived text) for files present in both bundles."""
    if bundle.base is None:
        return
    for path in bundle.base.paths(suffix):
        if path in bundle.files and path not in bundle.unreadable and path not in bundle.base.unreadable:
            yield path, bundle.base.files[path], bundle.files[path]


@rule(
    code="DRV001", name="base-definition-missing", severity=ERROR,
    consequence=CRITERION,
    criterion="All functionality from base_code is preserved or properly enhanced: no function or "
              "class of the base is missing from the derived file.",
    rationale="A base function that disappears is usually an omission by the generator; whatever "
              "called it now fails, or the behaviour it implemented is gone.",
    invalid=[Example(base={"src/train.py": _BASE_TRAIN},
                     files={"src/train.py": """
                         import torch


                         def train_epoch(model, data):
                             return 0.0
                         """}, line=1)],
    valid=[Example(base={"src/train.py": _BASE_TRAIN},
                   files={"src/train.py": _BASE_TRAIN + "\n\ndef warm_start(model):\n    return model\n"})],
)
def base_definition_missing(bundle: Bundle) -> Iterator[Hit]:
    if bundle.base is None:
        return
    defined_anywhere = set()
    for source in bundle.python_files():
        defined_anywhere |= set(source.index.toplevel)
    for path, base_text, _ in _pairs(bundle, ".py"):
        # The base only needs its top-level names: its CST, not its ast or positions.
        base, derived = bundle.base.python(path), bundle.python(path)
        assert base is not None and derived is not None  # _pairs yields paths both bundles can read
        if base.module is None or derived.module is None:
            continue
        missing = [name for name in base.index.toplevel
                   if name not in derived.index.toplevel and name not in defined_anywhere
                   and "placeholder" not in name.lower()]
        for name in missing:
            found = re.search(rf"^(?:async\s+def|def|class)\s+{re.escape(name)}\b", base_text, re.M)
            where = f" ({path}:{base_text.count(chr(10), 0, found.start()) + 1} in the base)" if found else ""
            yield Hit(path, f"the base's `{name}`{where} is missing here; keep it (or its behaviour) in the "
                            "derived code")


_CODE_LINE = re.compile(r"^\s*(?!#)\S")


def _code_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if _CODE_LINE.match(line))


@rule(
    code="DRV002", name="derived-file-truncated", severity=ERROR,
    consequence=CRITERION,
    criterion="No code sections have been omitted or significantly shortened relative to base_code "
              "(threshold: profile option `min_length_ratio`).",
    rationale="A derived file much shorter than its base has usually been truncated by the "
              "generator; whatever was cut is silently gone.",
    invalid=[Example(base={"src/evaluate.py": "x = 1\n" * 40}, files={"src/evaluate.py": "x = 1\n" * 10}, line=1)],
    valid=[Example(base={"src/evaluate.py": "x = 1\n" * 40}, files={"src/evaluate.py": "x = 1\n" * 45})],
)
def derived_file_truncated(bundle: Bundle) -> Iterator[Hit]:
    ratio = float(bundle.option("min_length_ratio", 0.6))
    for path, base_text, text in _pairs(bundle, ".py"):
        base_lines, lines = _code_lines(base_text), _code_lines(text)
        if base_lines >= 20 and lines < ratio * base_lines:
            yield Hit(path, f"{path} has {lines} code lines against {base_lines} in the base "
                            f"({lines / base_lines:.0%}, below {ratio:.0%}); restore what was cut")


@rule(
    code="DRV003", name="base-file-unchanged", severity=ERROR,
    consequence=CRITERION,
    criterion="Complete placeholder replacement: no derived file is the unchanged base file with "
              "its placeholders.",
    rationale="When the generator leaves a file unchanged, the pipeline restores the base file, "
              "placeholders included: nothing was replaced in it.",
    invalid=[Example(base={"src/preprocess.py": """
        # DATASET_PLACEHOLDER: real loader goes here
        DATA = []
        """},
                     files={"src/preprocess.py": """
                         # DATASET_PLACEHOLDER: real loader goes here
                         DATA = []
                         """}, line=1)],
    valid=[Example(base={"src/preprocess.py": """
        # DATASET_PLACEHOLDER: real loader goes here
        DATA = []
        """},
                   files={"src/preprocess.py": """
                       from sklearn.datasets import load_digits
                       DATA = load_digits()
                       """})],
)
def base_file_unchanged(bundle: Bundle) -> Iterator[Hit]:
    for path, base_text, text in _pairs(bundle):
        if base_text.strip() != text.strip():
            continue
        match = PLACEHOLDER.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            yield Hit(path, f"{path} is identical to the base file, placeholders included (`{match.group()}` "
                            "here); write the experiment-specific version", line)


_PLOT_CALLS = ("legend", "annotate", "text", "bar_label")
_PLOT_CALL = re.compile(r"\.(legend|annotate|text|bar_label)\s*\(")


@rule(
    code="DRV004", name="plot-annotations-dropped", severity=WARNING,
    consequence=ADVICE,
    criterion="No reduction in code quality or completeness: the figures keep the legends and "
              "annotations the base drew.",
    rationale="Dropping `legend`/`annotate`/`text` calls makes the derived figures less readable "
              "than the base's, which the reviewer counts as quality degradation.",
    invalid=[Example(base={"src/train.py": """
        import matplotlib.pyplot as plt
        plt.plot([1])
        plt.text(0, 1, 'a')
        plt.legend()
        """},
                     files={"src/train.py": """
                         import matplotlib.pyplot as plt
                         plt.plot([1])
                         plt.legend()
                         """}, line=1)],
    valid=[Example(base={"src/train.py": """
        import matplotlib.pyplot as plt
        plt.plot([1])
        plt.text(0, 1, 'a')
        plt.legend()
        """},
                   files={"src/train.py": """
                       import matplotlib.pyplot as plt
                       plt.plot([1])
                       plt.text(0, 1, 'a')
                       plt.legend()
                       """})],
)
def plot_annotations_dropped(bundle: Bundle) -> Iterator[Hit]:
    for path, base_text, text in _pairs(bundle, ".py"):
        before = [m.group(1) for m in _PLOT_CALL.finditer(base_text)]
        after = [m.group(1) for m in _PLOT_CALL.finditer(text)]
        dropped = [f"{name} ({before.count(name)} → {after.count(name)})" for name in _PLOT_CALLS
                   if after.count(name) < before.count(name)]
        if dropped:
            yield Hit(path, f"plotting calls were dropped relative to the base: {', '.join(dropped)}; keep the "
                            "base's legends and annotations")
