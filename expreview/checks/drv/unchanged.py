"""DRV003: no derived file is the unchanged base file with its placeholders."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.drv.common import pairs
from expreview.facts.placeholders import PLACEHOLDER
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule


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
    for path, base_text, text in pairs(bundle):
        if base_text.strip() != text.strip():
            continue
        match = PLACEHOLDER.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            yield Hit(path, f"{path} is identical to the base file, placeholders included (`{match.group()}` "
                            "here); write the experiment-specific version", line)
