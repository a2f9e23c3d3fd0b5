"""DATA002: `datasets.load_dataset` of a Hub dataset that has several configurations and no
default one, called without a configuration name. The datasets library then raises
`ValueError: Config name is missing. Please pick one among the available configs: […]` before
anything is downloaded.

The table holds only datasets whose missing-config error is on public record (the datasets
library's own issues and pull requests, and a crashed run of the runtime corpus), with their
configurations; a dataset that is not in it is never judged."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.conditions import under_branch
from expreview.facts.config_values import config_values
from expreview.facts.values import calls_named, resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import dotted_name, string_value

_GLUE = ("cola", "sst2", "mrpc", "qqp", "stsb", "mnli", "mnli_mismatched", "mnli_matched", "qnli", "rte", "wnli", "ax")
# dataset id (and its namespaced id) -> its configurations; none is the default.
NEEDS_CONFIG: dict[str, tuple[str, ...]] = {
    "gsm8k": ("main", "socratic"), "openai/gsm8k": ("main", "socratic"),
    "glue": _GLUE, "nyu-mll/glue": _GLUE,
    "wikitext": ("wikitext-103-raw-v1", "wikitext-2-raw-v1", "wikitext-103-v1", "wikitext-2-v1"),
    "Salesforce/wikitext": ("wikitext-103-raw-v1", "wikitext-2-raw-v1", "wikitext-103-v1", "wikitext-2-v1"),
}
# Arguments that choose what to load without a configuration name, or through one.
_CHOOSERS = ("name", "data_files", "data_dir")


def _dataset_ids(bundle: Bundle, source, expr: cst.CSTNode, scope) -> Optional[set]:
    """The dataset ids `expr` holds: a literal, or a config path in every run."""
    value = resolve(source.index, expr, scope)
    text = string_value(value)
    if text is not None and not isinstance(value, cst.FormattedString):
        return {text}
    name = dotted_name(value)
    return config_values(bundle, source, name, scope) if name else None


@rule(
    code="DATA002", name="dataset-config-missing", severity=ERROR, consequence=CRASH,
    criterion="Code is immediately executable: every dataset the code loads can be loaded as called.",
    rationale="Hub datasets with several configurations and no default (gsm8k: main/socratic; glue; wikitext) "
              "refuse `load_dataset(id)` without a configuration name: `ValueError: Config name is missing`. "
              "The id is read from a literal or from the composed run configs. Silent when any configuration "
              "argument is passed (even a variable), with data_files/data_dir, for local paths and for datasets "
              "outside the shipped table.",
    invalid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset


        def load(cfg):
            return load_dataset(cfg.dataset.name, split='train', cache_dir='.cache/')
        """, "config/config.yaml": "dataset:\n  name: gsm8k\n"}, line=5, message="main, socratic"),
             Example(files={"src/preprocess.py": """
                 import datasets


                 def load():
                     return datasets.load_dataset('glue', split='validation')
                 """}, line=5, message="`glue`")],
    valid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset


        def load(cfg, subset):
            a = load_dataset('gsm8k', 'main', split='train')
            b = load_dataset(cfg.dataset.name, cfg.dataset.get('config'), split='train')
            c = load_dataset('glue', name=subset)
            d = load_dataset('imdb', split='train')
            e = load_dataset('json', data_files='data/train.json')
            return a, b, c, d, e
        """, "config/config.yaml": "dataset:\n  name: gsm8k\n"}),
           # the configuration is chosen by the config: the call without one is the fallback branch
           Example(files={"src/preprocess.py": """
               from datasets import load_dataset


               def load(cfg):
                   subset = cfg.dataset.get('config')
                   if subset:
                       return load_dataset(cfg.dataset.name, subset, split='train')
                   else:
                       return load_dataset(cfg.dataset.name, split='train')
               """, "config/config.yaml": "dataset:\n  name: gsm8k\n  config: main\n"})],
)
def dataset_config_missing(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in calls_named(source, "load_dataset"):
            if call.qualname != "datasets.load_dataset":
                continue
            path = call.positional(0) or call.keyword("path")
            if path is None or call.positional(1) is not None or any(call.keyword(k) is not None for k in _CHOOSERS):
                continue
            if any(a.star for a in call.node.args):
                continue  # **kwargs may hold the configuration name
            if under_branch(source, call.stmt, call.scope) and any(
                    other.scope is call.scope and (other.positional(1) is not None or other.keyword("name") is not None)
                    for other in calls_named(source, "load_dataset") if other.qualname == "datasets.load_dataset"):
                continue  # the other branch passes a configuration: this one is the fallback for none
            ids = _dataset_ids(bundle, source, path, call.scope)
            if not ids:
                continue
            needing = sorted(i for i in ids if isinstance(i, str) and i in NEEDS_CONFIG)
            if not needing:
                continue
            shown = "; ".join(f"`{i}` has the configurations {', '.join(NEEDS_CONFIG[i])} and no default"
                              for i in needing)
            yield Hit(source.path, f"load_dataset is called here with no configuration name, and {shown}: "
                                   f"datasets raises `ValueError: Config name is missing` before loading anything. "
                                   f"Pass the configuration as the second argument "
                                   f"(load_dataset({needing[0]!r}, {NEEDS_CONFIG[needing[0]][0]!r}, …))", call.node)
