"""DRV002: no derived file is much shorter than its base (profile option `min_length_ratio`)."""
from __future__ import annotations

import re
from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.drv.common import pairs
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule

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
    for path, base_text, text in pairs(bundle, ".py"):
        base_lines, lines = _code_lines(base_text), _code_lines(text)
        if base_lines >= 20 and lines < ratio * base_lines:
            yield Hit(path, f"{path} has {lines} code lines against {base_lines} in the base "
                            f"({lines / base_lines:.0%}, below {ratio:.0%}); restore what was cut")
