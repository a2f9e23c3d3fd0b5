"""EVAL: evaluate.py writes each run's metrics and the aggregated comparison (hydra stage)."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.wb.common import EVALUATE, EVALUATE_EXAMPLE
from expreview.facts.flow import may_hold
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource


@rule(
    code="EVAL001", name="per-run-metrics", severity=ERROR,
    consequence=CRITERION,
    criterion="evaluate.py exports run-specific metrics to `{results_dir}/{run_id}/metrics.json`.",
    rationale="The paper pipeline reads each run's metrics from that file.",
    invalid=[Example(files={EVALUATE: EVALUATE_EXAMPLE.replace("\"metrics.json\"", "\"summary.json\"")}, line=1)],
    valid=[Example(files={EVALUATE: EVALUATE_EXAMPLE})],
)
def per_run_metrics(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(EVALUATE)
    if source is None or bundle.option("eval_outputs", "aggregated") == "none":
        return
    if not any(s.value.endswith("metrics.json") and "aggregated" not in s.value for s in source.index.strings):
        yield Hit(EVALUATE, "src/evaluate.py writes no {results_dir}/{run_id}/metrics.json; export each run's "
                            "metrics there")


_AGGREGATE_KEYS = ("primary_metric", "metrics", "best_proposed", "best_baseline", "gap")


@rule(
    code="EVAL002", name="aggregated-metrics", severity=ERROR,
    consequence=CRITERION,
    criterion="evaluate.py exports `{results_dir}/comparison/aggregated_metrics.json` with "
              "primary_metric, metrics, best_proposed, best_baseline and gap.",
    rationale="The paper pipeline reads the comparison from that file with exactly these keys.",
    invalid=[Example(files={EVALUATE: EVALUATE_EXAMPLE.replace("\"gap\": ", "\"improvement\": ")}, line=1),
             # the comparison directory is made, but the file goes to the directory above it
             Example(files={EVALUATE: EVALUATE_EXAMPLE.replace(
                 'os.path.join(args["results_dir"], "comparison", "aggregated_metrics.json")',
                 'os.path.join(args["results_dir"], "aggregated_metrics.json")')},
                     message="not {results_dir}/comparison/")],
    valid=[Example(files={EVALUATE: EVALUATE_EXAMPLE})],
)
def aggregated_metrics(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(EVALUATE)
    outputs = bundle.option("eval_outputs", "aggregated")
    if source is None or outputs == "none":
        return
    texts = {s.value for s in source.index.strings}
    if not any("aggregated_metrics.json" in t for t in texts):
        yield Hit(EVALUATE, "src/evaluate.py writes no {results_dir}/comparison/aggregated_metrics.json; export "
                            "the comparison there")
        return
    missing = [k for k in _AGGREGATE_KEYS if k not in texts]
    if missing and outputs == "aggregated":
        yield Hit(EVALUATE, f"aggregated_metrics.json lacks {', '.join(missing)}; it needs primary_metric, metrics, "
                            "best_proposed, best_baseline and gap")
    if "comparison" not in texts and not any("comparison/" in t for t in texts):
        yield Hit(EVALUATE, "aggregated_metrics.json is not written under {results_dir}/comparison/; write it there")
        return
    for directory, node, scope in _aggregate_dirs(source):
        if not may_hold(source, directory, scope, _names_comparison, bundle=bundle):
            yield Hit(EVALUATE, "aggregated_metrics.json is written into a directory that is not "
                                "{results_dir}/comparison/ (the directory is followed through its assignments and "
                                "parameters); write it under comparison/", node)
            return


def _names_comparison(node: cst.CSTNode) -> bool:
    text = string_value(node)
    return text is not None and "comparison" in text.split("/")


def _aggregate_dirs(source: PythonSource) -> Iterator[tuple[cst.CSTNode, cst.CSTNode, Optional[Function]]]:
    """(directory expression, path expression, scope) for each `dir / "aggregated_metrics.json"` or
    `os.path.join(dir, "aggregated_metrics.json")` in the file."""
    index = source.index
    for literal in index.strings:
        if literal.value != "aggregated_metrics.json" or literal.stmt < 0:
            continue
        for node in iter_subtree(index.statements[literal.stmt]):
            if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide) and node.right is literal.node:
                yield node.left, node, literal.scope
            elif isinstance(node, cst.Call) and dotted_name(node.func) == "os.path.join" and len(node.args) > 1 \
                    and node.args[-1].value is literal.node:
                yield node.args[-2].value, node, literal.scope
