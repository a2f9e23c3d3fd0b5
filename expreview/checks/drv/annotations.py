"""DRV004: the derived figures keep the legends and annotations the base drew."""
from __future__ import annotations

import re
from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.drv.common import pairs
from expreview.findings import ADVICE, WARNING
from expreview.rule import Example, Hit, rule

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
    for path, base_text, text in pairs(bundle, ".py"):
        before = [m.group(1) for m in _PLOT_CALL.finditer(base_text)]
        after = [m.group(1) for m in _PLOT_CALL.finditer(text)]
        dropped = [f"{name} ({before.count(name)} → {after.count(name)})" for name in _PLOT_CALLS
                   if after.count(name) < before.count(name)]
        if dropped:
            yield Hit(path, f"plotting calls were dropped relative to the base: {', '.join(dropped)}; keep the "
                            "base's legends and annotations")
