"""FIG001: evaluate.py saves its figures as PDF, itself or through a helper of another project
module."""
from __future__ import annotations

from typing import Iterator, Optional

from expreview.bundle import Bundle
from expreview.checks.fig.common import EVALUATE, PLOT
from expreview.checks.fig.paths import Part, PartKind, figure_path, path_parts, savefig_calls
from expreview.facts.call_graph import reachable
from expreview.facts.literals import literal
from expreview.facts.project_imports import project_module
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.pyfile import PythonSource


def _extension(parts: Optional[list[Part]]) -> Optional[str]:
    if not parts:
        return None
    last = parts[-1]
    if last.kind is PartKind.UNKNOWN or "." not in last.text.rsplit("}", 1)[-1]:
        return None
    return last.text.rsplit(".", 1)[-1].lower()


def _saves_through_helper(bundle: Bundle, source: PythonSource) -> bool:
    """evaluate saves its figures through a helper of another project module (`from .plotting import
    save_fig`): one that calls savefig, or, when it cannot be read (its module is not in the
    bundle: that is its own finding), one handed a `.pdf` path."""
    index = source.index
    imported = {imp.alias: imp for imp in index.imports if project_module(imp) is not None}
    for call in index.calls:
        head, _, rest = call.name.partition(".")
        imp = imported.get(head)
        if imp is None or "." in rest:
            continue
        module = project_module(imp) or ""
        if imp.name is None:  # import src.plotting as plotting; plotting.save_fig(…)
            function = rest
        elif rest:  # from src import plotting; plotting.save_fig(…)
            module, function = f"{module}.{imp.name}", rest
        else:  # from src.plotting import save_fig; save_fig(…)
            function = imp.name
        helper_file = bundle.python(module.replace(".", "/") + ".py")
        helper = helper_file.index.function(function) if helper_file is not None and helper_file.ok else None
        if helper_file is not None and helper is not None:
            reached = reachable(helper_file.index, helper)
            if any(c.scope is not None and c.scope.name in reached for c in savefig_calls(helper_file)):
                return True
            continue
        if helper is None and any(
                _extension(path_parts(source, arg.value, call.scope)) == "pdf" for arg in call.node.args):
            return True
    return False


@rule(
    code="FIG001", name="figure-not-pdf", severity=ERROR,
    consequence=CRITERION,
    criterion="Result visualization and figure generation is complete: evaluate.py saves its "
              "figures as PDF.",
    rationale="The paper pipeline includes the PDFs evaluate writes; a PNG, or no figure at all, "
              "leaves the results section without its figures.",
    invalid=[Example(files={EVALUATE: PLOT.replace("accuracy.pdf", "accuracy.png")}, line=13),
             Example(files={EVALUATE: """
                 import json
                 print(json.dumps({}))
                 """}, line=1),
             # a helper that only draws saves nothing
             Example(files={EVALUATE: """
                 from src.plotting import draw


                 def main(results_dir, runs):
                     draw(runs, f'{results_dir}/images/accuracy.pdf')
                 """, "src/plotting.py": """
                 import matplotlib.pyplot as plt


                 def draw(runs, path):
                     for name, ys in runs.items():
                         plt.plot(ys, label=name)
                 """}, line=1, message="saves no figure"),
             # a helper outside the bundle counts only when handed a `.pdf` path
             Example(files={EVALUATE: """
                 import matplotlib.pyplot as plt
                 from .utils import save_image


                 def main(images_dir):
                     plt.plot([1, 2], label='a')
                     save_image(plt, images_dir / 'accuracy.png')
                 """}, line=1, message="saves no figure")],
    valid=[Example(files={EVALUATE: PLOT}),
           # saved through a helper of the same file, given a `.pdf` path
           Example(files={EVALUATE: """
               import matplotlib.pyplot as plt


               def save_fig(fig, path):
                   fig.savefig(path, bbox_inches='tight')


               def main(results_dir, runs):
                   fig, ax = plt.subplots()
                   for name, ys in runs.items():
                       ax.plot(ys, label=name)
                   save_fig(fig, f'{results_dir}/images/accuracy.pdf')
               """}),
           # saved through a helper of another project module
           Example(files={EVALUATE: """
               from src.plotting import save_fig


               def main(results_dir, fig):
                   save_fig(fig, results_dir)
               """, "src/plotting.py": """
               def save_fig(fig, results_dir):
                   fig.savefig(f'{results_dir}/images/accuracy', format='pdf')
               """}),
           # a helper module outside the bundle, handed a `.pdf` path
           Example(files={EVALUATE: """
               import matplotlib.pyplot as plt
               from .utils import save_pdf


               def main(images_dir):
                   plt.plot([1, 2], label='a')
                   save_pdf(plt, images_dir / 'accuracy.pdf')
               """})],
)
def figure_not_pdf(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(EVALUATE)
    if source is None:
        return
    calls = savefig_calls(source)
    if not calls and _saves_through_helper(bundle, source):
        return
    if not calls:
        yield Hit(EVALUATE, "src/evaluate.py saves no figure; plot the comparison and save it with "
                            "`fig.savefig(<path>.pdf)`")
        return
    for call in calls:
        fmt = literal(call.keyword("format"))
        if isinstance(fmt, str):
            if fmt.lower() != "pdf":
                yield Hit(EVALUATE, f"saves a figure with format={fmt!r}; save it as PDF (format=\"pdf\")", call.node)
            continue
        ext = _extension(figure_path(source, call))
        if ext is not None and ext != "pdf":
            yield Hit(EVALUATE, f"saves a .{ext} figure; save it as .pdf", call.node)
