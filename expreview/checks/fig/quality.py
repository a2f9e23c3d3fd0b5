"""FIG003: the figure a savefig call saves has a legend and annotated values."""
from __future__ import annotations

from typing import Iterator, Optional, Sequence

from expreview.bundle import Bundle
from expreview.checks.fig.common import EVALUATE, PLOT
from expreview.checks.fig.paths import savefig_calls
from expreview.facts.call_graph import reachable
from expreview.facts.literals import literal
from expreview.findings import ADVICE, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, Function, Index

_PLOTTING = ("plot", "bar", "barh", "scatter", "hist", "imshow", "heatmap", "lineplot", "barplot",
             "scatterplot", "boxplot", "violinplot", "histplot", "kdeplot", "pointplot", "errorbar",
             "fill_between", "step", "pie", "stackplot", "matshow", "pcolormesh", "contourf", "subplots",
             "figure", "catplot", "relplot", "displot", "stripplot", "swarmplot", "countplot")
_ANNOTATIONS = ("annotate", "text", "bar_label", "table")


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


def _calls_with_helpers(index: Index, fn: Optional[Function]) -> list[Call]:
    """The calls of `fn` and of this file's functions it reaches (`annotate_last(ax, …)` puts the
    labels on the figure as well as an inline `ax.annotate` would)."""
    if fn is None:
        return _calls_in(index, fn)
    names = reachable(index, fn)
    return [c for c in index.calls if c.scope is not None and (c.scope is fn or c.scope.name in names)]


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
    invalid=[Example(files={EVALUATE: PLOT.replace("    ax.legend()\n", "")}, line=7)],
    valid=[Example(files={EVALUATE: PLOT}),
           # the labels put on by a helper of the file
           Example(files={EVALUATE: PLOT.replace("        ax.annotate(f'{ys[-1]:.2f}', (len(ys) - 1, ys[-1]))\n",
                                                 "        label_last(ax, ys)\n")
                          + "\n\ndef label_last(ax, ys):\n    ax.annotate(f'{ys[-1]:.2f}', (len(ys) - 1, ys[-1]))\n"})],
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
                calls = _calls_with_helpers(index, fn)
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
