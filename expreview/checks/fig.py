"""FIG: evaluation figures are PDFs, in the right place, with legends and annotations."""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterator, Optional, Sequence

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.call_graph import reachable
from expreview.facts.literals import literal
from expreview.facts.project_imports import project_module
from expreview.facts.values import agreed_argument, resolve
from expreview.findings import ADVICE, CRITERION, ERROR, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, Function, Index, dotted_name, string_value
from expreview.sources.pyfile import PythonSource

EVALUATE = "src/evaluate.py"
_PLOTTING = ("plot", "bar", "barh", "scatter", "hist", "imshow", "heatmap", "lineplot", "barplot",
             "scatterplot", "boxplot", "violinplot", "histplot", "kdeplot", "pointplot", "errorbar",
             "fill_between", "step", "pie", "stackplot", "matshow", "pcolormesh", "contourf", "subplots",
             "figure", "catplot", "relplot", "displot", "stripplot", "swarmplot", "countplot")
_ANNOTATIONS = ("annotate", "text", "bar_label", "table")


# -- a path as literal pieces and named values ------------------------------

class PartKind(Enum):
    LITERAL = "lit"  # a literal piece of path
    VARIABLE = "var"  # a named value
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Part:
    kind: PartKind
    text: str


def path_parts(source: PythonSource, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> list[Part]:
    """A path expression as literal pieces and named values: `results_dir / run_id / "images"`."""
    if depth > 12:
        return [Part(PartKind.UNKNOWN, "…")]
    index = source.index
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = string_value(expr) or ""
        return [Part(PartKind.LITERAL, p) for p in value.split("/") if p and p != "."]
    if isinstance(expr, cst.FormattedString):
        return _fstring_parts(source, expr, scope, depth)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        return path_parts(source, expr.left, scope, depth + 1) + path_parts(source, expr.right, scope, depth + 1)
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func)
        args = [a.value for a in expr.args if a.keyword is None]
        if name in ("os.path.join", "path.join", "Path", "pathlib.Path", "PurePath", "str", "os.fspath"):
            out: list[Part] = []
            for arg in args:
                out.extend(path_parts(source, arg, scope, depth + 1))
            return out
        if name.endswith(".joinpath") and isinstance(expr.func, cst.Attribute):
            out = path_parts(source, expr.func.value, scope, depth + 1)
            for arg in args:
                out.extend(path_parts(source, arg, scope, depth + 1))
            return out
        if name.endswith((".resolve", ".absolute", ".expanduser")) and isinstance(expr.func, cst.Attribute):
            return path_parts(source, expr.func.value, scope, depth + 1)
        return [Part(PartKind.UNKNOWN, name or "call")]
    if isinstance(expr, cst.Attribute):
        return [Part(PartKind.VARIABLE, expr.attr.value)]
    if isinstance(expr, cst.Subscript):  # cfg["run_id"] stands for the run id
        key = next((s.key for s in index.subscripts if s.node is expr), None)
        return [Part(PartKind.VARIABLE, key)] if key else [Part(PartKind.UNKNOWN, "subscript")]
    if isinstance(expr, cst.Name):
        resolved = resolve(index, expr, scope)
        if resolved is not expr:
            return path_parts(source, resolved, scope, depth + 1)
        if scope is not None and expr.value in scope.params:
            bound = _argument_everywhere(source, scope, expr.value, depth)
            if bound is not None:
                return bound
        return [Part(PartKind.VARIABLE, expr.value)]
    return [Part(PartKind.UNKNOWN, type(expr).__name__)]


def _fstring_parts(source: PythonSource, expr: cst.FormattedString, scope: Optional[Function],
                   depth: int) -> list[Part]:
    out: list[Part] = []
    pending = ""
    for piece in expr.parts:
        if isinstance(piece, cst.FormattedStringText):
            pending += piece.value
            continue
        assert isinstance(piece, cst.FormattedStringExpression)  # the parts are text or expressions
        inner = path_parts(source, piece.expression, scope, depth + 1)
        pieces = pending.split("/")
        for p in pieces[:-1]:
            if p:
                out.append(Part(PartKind.LITERAL, p))
        tail = pieces[-1]
        if tail:  # text glued to the value: `{run_id}_loss.pdf` stays one piece
            out.append(Part(PartKind.LITERAL, tail))
        out.extend(inner)
        pending = ""
    for p in pending.split("/"):
        if p:
            out.append(Part(PartKind.LITERAL, p))
    return _glue(out, expr)


def _glue(parts: list[Part], expr: cst.FormattedString) -> list[Part]:
    # f"{a}/{b}_x.pdf": pieces not separated by "/" belong to one path component
    text = "".join(
        p.value if isinstance(p, cst.FormattedStringText) else "\0" for p in expr.parts
    )
    if "/" not in text:
        joined = "".join(p.text if p.kind is PartKind.LITERAL else "{" + p.text + "}" for p in parts)
        kinds = {p.kind for p in parts}
        return [Part(PartKind.LITERAL if kinds == {PartKind.LITERAL} else PartKind.VARIABLE, joined)] if parts else []
    return parts


def _argument_everywhere(source: PythonSource, fn: Function, param: str, depth: int) -> Optional[list[Part]]:
    """The path a parameter receives, when every call of the function in the file agrees."""
    return agreed_argument(source, fn, param, (source,),
                           lambda caller, call, arg: path_parts(caller, arg, call.scope, depth + 1))


def render(parts: list[Part]) -> str:
    """A path as the reader sees it: `results_dir/{run_id}/images`."""
    return "/".join(p.text if p.kind is PartKind.LITERAL or "{" in p.text else "{" + p.text + "}" for p in parts)


# -- rules --------------------------------------------------------------------

def savefig_calls(source: PythonSource) -> list[Call]:
    return [c for c in source.index.calls if c.name == "savefig" or c.name.endswith(".savefig")]


def figure_path(source: PythonSource, call: Call) -> Optional[list[Part]]:
    arg = call.positional(0) or call.keyword("fname")
    if arg is None:
        return None
    return path_parts(source, arg, call.scope)


def _extension(parts: Optional[list[Part]]) -> Optional[str]:
    if not parts:
        return None
    last = parts[-1]
    if last.kind is PartKind.UNKNOWN or "." not in last.text.rsplit("}", 1)[-1]:
        return None
    return last.text.rsplit(".", 1)[-1].lower()


_PLOT = (
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nimport os\n\n\n"
    "def plot(results_dir, runs):\n    fig, ax = plt.subplots()\n    for name, ys in runs.items():\n"
    "        ax.plot(ys, label=name)\n        ax.annotate(f'{ys[-1]:.2f}', (len(ys) - 1, ys[-1]))\n"
    "    ax.legend()\n    fig.savefig(os.path.join(results_dir, 'images', 'accuracy.pdf'))\n"
)


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
    invalid=[Example(files={EVALUATE: _PLOT.replace("accuracy.pdf", "accuracy.png")}, line=13),
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
    valid=[Example(files={EVALUATE: _PLOT}),
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
    source = bundle.python(EVALUATE)
    if source is None or not source.ok:
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
    invalid=[Example(files={EVALUATE: _PLOT.replace("os.path.join(results_dir, 'images', 'accuracy.pdf')",
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
    valid=[Example(files={EVALUATE: _PLOT}),
           Example(files={EVALUATE: _PLOT.replace("os.path.join(results_dir, 'images', 'accuracy.pdf')",
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


def _figure_functions(index: Index, call: Call) -> Sequence[Optional[Function]]:
    """The function that draws the figure saved by `call`: its own, or its callers when it only saves."""
    scope = call.scope
    if scope is None or _draws(index, scope):
        return [scope]
    callers: list[Function] = []
    for other in index.calls:
        if other.name == scope.name and other.scope is not None and other.scope not in callers:
            callers.append(other.scope)
    return callers or [scope]


def _calls_in(index: Index, scope: Optional[Function]) -> list[Call]:
    return [c for c in index.calls if c.scope is scope]


def _draws(index: Index, scope: Function) -> bool:
    return any(c.name.rsplit(".", 1)[-1] in _PLOTTING for c in _calls_in(index, scope))


def _has_legend(calls: list[Call]) -> bool:
    for c in calls:
        last = c.name.rsplit(".", 1)[-1]
        if last in ("legend", "colorbar", "heatmap") or c.keyword("hue") is not None:
            return True
    return False


def _has_annotation(calls: list[Call]) -> bool:
    for c in calls:
        last = c.name.rsplit(".", 1)[-1]
        if last in _ANNOTATIONS or literal(c.keyword("annot")) is True:
            return True
    return False


@rule(
    code="FIG003", name="figure-without-legend-or-annotation",
    severity=WARNING,
    consequence=ADVICE,
    criterion="Proper figure quality: legends, annotations.",
    rationale="A comparison figure without a legend cannot be read; without annotated values the "
              "reader must guess the numbers.",
    invalid=[Example(files={EVALUATE: _PLOT.replace("    ax.legend()\n", "")}, line=7)],
    valid=[Example(files={EVALUATE: _PLOT})],
)
def figure_quality(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        index = source.index
        reported = set()
        for call in savefig_calls(source):
            for fn in _figure_functions(index, call):
                key = id(fn)
                if key in reported:
                    continue
                calls = _calls_in(index, fn)
                missing = [what for what, ok in (("legend", _has_legend(calls)),
                                                 ("annotation", _has_annotation(calls))) if not ok]
                if missing:
                    reported.add(key)
                    name = fn.name if fn is not None else "module level"
                    where = fn.node if fn is not None else call.node
                    yield Hit(source.path, f"the figure drawn in `{name}` has no {' and no '.join(missing)}; add "
                                           + ("ax.legend() (or a seaborn hue=)" if "legend" in missing else "")
                                           + (" and " if len(missing) == 2 else "")
                                           + ("value labels (ax.annotate, ax.text or ax.bar_label)" if "annotation" in missing else ""),
                              where)


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
        source = bundle.python(path)
        if source is None or not source.ok:
            continue
        for call in source.index.calls:
            last = call.name.rsplit(".", 1)[-1]
            if call.qualname.startswith("matplotlib.pyplot.") and last in ("figure", "subplots", "savefig") \
                    or last == "savefig":
                yield Hit(path, f"{path} creates a figure (`{call.name}`); make figures only in src/evaluate.py",
                          call.node)
                break


@rule(
    code="FIG005", name="figure-name", severity=ERROR,
    consequence=CRITERION,
    criterion="Figure names follow `{run_id}_{figure_topic}[_<condition>][_pairN].pdf` per run and "
              "`comparison_{figure_topic}[_<condition>][_pairN].pdf` for comparisons.",
    rationale="Figures from all runs land in one paper; names without the run id or `comparison_` "
              "prefix collide and overwrite each other.",
    invalid=[Example(files={EVALUATE: _PLOT.replace("'accuracy.pdf'", "'learning_curve.pdf'")}, line=13)],
    valid=[Example(files={EVALUATE: _PLOT.replace("'accuracy.pdf'", "'comparison_accuracy.pdf'")}),
           Example(files={EVALUATE: _PLOT.replace("'accuracy.pdf'", "f'{run_id}_learning_curve.pdf'")})],
)
def figure_name(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.python(EVALUATE)
    if source is None or not source.ok or bundle.option("figure_names", "unique") != "unique":
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
