"""FIG004: train.py and main.py make no figures; only evaluate.py does."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule


@rule(
    code="FIG004", name="figures-outside-evaluate", severity=ERROR,
    consequence=CRITERION,
    criterion="train.py and main.py generate NO figures.",
    rationale="Figures are made once by evaluate from the WandB data of all runs; figures made "
              "during training are per process and uncollected.",
    invalid=[Example(files={"src/train.py": """
        import matplotlib.pyplot as plt


        def end(h):
            plt.plot(h)
            plt.savefig('loss.pdf')
        """}, line=6)],
    valid=[Example(files={"src/train.py": """
        import wandb


        def end(run, h):
            run.log({'loss': h[-1]})
        """})],
)
def figures_outside_evaluate(bundle: Bundle) -> Iterator[Hit]:
    for path in ("src/train.py", "src/main.py"):
        source = bundle.parsed(path)
        if source is None:
            continue
        for call in source.index.calls:
            last = call.name.rsplit(".", 1)[-1]
            if call.qualname.startswith("matplotlib.pyplot.") and last in ("figure", "subplots", "savefig") \
                    or last == "savefig":
                yield Hit(path, f"{path} creates a figure (`{call.name}`); make figures only in src/evaluate.py",
                          call.node)
                break
