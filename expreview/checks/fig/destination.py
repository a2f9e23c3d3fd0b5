"""FIG002, FIG005: where a figure is saved: directly in `{results_dir}/images/` (FIG002), under a
name unique across runs, `{run_id}_…` or `comparison_…` (FIG005)."""
from __future__ import annotations

import re
from typing import Iterator, Optional

from expreview.bundle import Bundle
from expreview.checks.fig.common import EVALUATE, PLOT
from expreview.checks.fig.paths import Part, PartKind, figure_path, render, savefig_calls
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule

_ROOT = re.compile(r"(result|output|out_dir|^out$|save_dir|root|base_dir|exp_dir)", re.I)


def _outside_images(parts: list[Part]) -> Optional[str]:
    """Why the directory of `parts` is not `{results_dir}/images`, or None when it is (or unknown)."""
    directory = parts[:-1]
    if not directory:
        return None if parts and parts[0].kind is not PartKind.LITERAL else "the current directory"
    names = [p.text for p in directory]
    if "images" in names:
        prefix = directory[: names.index("images")]
        if len(prefix) == 1 and prefix[0].kind is PartKind.VARIABLE:
            return None
        if not prefix:
            return None if directory[0].kind is not PartKind.LITERAL else "images/ relative to the working directory"
        if all(p.kind is not PartKind.UNKNOWN for p in prefix) and prefix[0].kind is PartKind.VARIABLE and _ROOT.search(prefix[0].text):
            return render(directory)
        return None
    if directory[0].kind is PartKind.VARIABLE and _ROOT.search(directory[0].text) and "run" not in directory[0].text \
            and all(p.kind is not PartKind.UNKNOWN for p in directory):
        return render(directory)
    return None


@rule(
    code="FIG002", name="figure-outside-images-dir", severity=ERROR,
    consequence=CRITERION,
    criterion="Figure generation with proper formatting (PDF output to `{results_dir}/images/` directory).",
    rationale="The paper pipeline collects figures from `{results_dir}/images/` only; a figure "
              "saved per run or elsewhere is never included (seed 003).",
    invalid=[Example(files={EVALUATE: PLOT.replace("os.path.join(results_dir, 'images', 'accuracy.pdf')",
                                                  "os.path.join(results_dir, 'figures', 'accuracy.pdf')")}, line=13),
             Example(files={"src/train.py": """
                 import matplotlib.pyplot as plt
                 from pathlib import Path


                 def run(results_dir: Path, run_id: str):
                     run_dir = results_dir / run_id
                     images = run_dir / 'images'
                     plt.plot([1, 2])
                     plt.legend(['a'])
                     plt.savefig(images / f'loss_{run_id}.pdf')
                 """}, line=10)],
    valid=[Example(files={EVALUATE: PLOT}),
           Example(files={EVALUATE: PLOT.replace("os.path.join(results_dir, 'images', 'accuracy.pdf')",
                                                  "os.path.join(results_dir, 'figures', 'accuracy.pdf')")},
                   options={"figure_dir": "any"})],
)
def figure_outside_images(bundle: Bundle) -> Iterator[Hit]:
    if bundle.option("figure_dir", "any") != "results_dir/images":
        return
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in savefig_calls(source):
            parts = figure_path(source, call)
            if not parts:
                continue
            where = _outside_images(parts)
            if where is not None:
                yield Hit(source.path, f"saves a figure to {render(parts)} (under {where}), outside "
                                       "{results_dir}/images/; save every figure directly in "
                                       "os.path.join(results_dir, \"images\")", call.node)


@rule(
    code="FIG005", name="figure-name", severity=ERROR,
    consequence=CRITERION,
    criterion="Figure names follow `{run_id}_{figure_topic}[_<condition>][_pairN].pdf` per run and "
              "`comparison_{figure_topic}[_<condition>][_pairN].pdf` for comparisons.",
    rationale="Figures from all runs land in one paper; names without the run id or `comparison_` "
              "prefix collide and overwrite each other.",
    invalid=[Example(files={EVALUATE: PLOT.replace("'accuracy.pdf'", "'learning_curve.pdf'")}, line=13)],
    valid=[Example(files={EVALUATE: PLOT.replace("'accuracy.pdf'", "'comparison_accuracy.pdf'")}),
           Example(files={EVALUATE: PLOT.replace("'accuracy.pdf'", "f'{run_id}_learning_curve.pdf'")})],
)
def figure_name(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(EVALUATE)
    if source is None or bundle.option("figure_names", "unique") != "unique":
        return
    for call in savefig_calls(source):
        parts = figure_path(source, call)
        if not parts or parts[-1].kind is PartKind.UNKNOWN:
            continue
        name = parts[-1].text
        if parts[-1].kind is not PartKind.LITERAL or "." not in name:
            continue  # built from values (`{run_id}_…`): which value is not known here
        if name.startswith("comparison_"):
            continue
        yield Hit(EVALUATE, f"the figure name `{name}` is neither `{{run_id}}_<topic>.pdf` nor "
                            "`comparison_<topic>.pdf`; prefix it so names stay unique across runs", call.node)
