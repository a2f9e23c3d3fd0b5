"""HYD005: datasets and models are downloaded into `.cache/` (cache_dir=, data_home=, root=)."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.pretrained import loads_local_directory
from expreview.edits import SAFE, UNSAFE, Fix
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import string_value
from expreview.sources.python_edits import replace_node, with_keyword

CACHE = '".cache/"'

_HUB_LOADERS = ("load_dataset", "from_pretrained", "hf_hub_download", "snapshot_download")
_SKLEARN_FETCH = "sklearn.datasets.fetch_"


@rule(
    code="HYD005", name="cache-dir", severity=ERROR,
    consequence=CRITERION, fixable=True,
    criterion="Uses `.cache/` as the cache directory for all datasets and models.",
    rationale="Runs share one download cache; without `cache_dir=\".cache/\"` every run downloads "
              "into the home directory of whatever machine it lands on.",
    invalid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset


        def data(cfg):
            return load_dataset(cfg.dataset.name)
        """}, line=5, message='pass cache_dir=".cache/"'),
             Example(files={"src/model.py": """
        from transformers import AutoModel


        def model(cfg):
            return AutoModel.from_pretrained(cfg.model.name, cache_dir="models/")
        """}, line=5, message="caches in 'models/'")],
    valid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset as hf_load


        def load_dataset(cfg):
            return hf_load(cfg.dataset.name, cache_dir="./.cache/")


        def data(cfg):
            return load_dataset(cfg)
        """}),
           # keywords unpacked from a mapping cannot be read here: they may hold cache_dir
           Example(files={"src/model.py": """
               from transformers import AutoModel

               CACHE_DIR = ".cache/"


               def build(name):
                   kwargs = {"cache_dir": CACHE_DIR, "trust_remote_code": False}
                   return AutoModel.from_pretrained(name, **kwargs)
               """})],
)
def cache_dir(bundle: Bundle) -> Iterator[Hit]:
    local = {fn.name for source in bundle.python_files() for fn in source.index.functions}
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in source.index.calls:
            keyword = None
            if call.name in local or call.name.split(".")[0] in ("self", "cls"):
                continue  # the bundle's own wrappers
            if call.name.endswith(_HUB_LOADERS) or call.qualname.endswith(_HUB_LOADERS):
                if call.name.endswith(".from_pretrained") and loads_local_directory(source, call):
                    continue  # a saved checkpoint directory, not a hub download
                keyword = "cache_dir"
            elif call.qualname.startswith(_SKLEARN_FETCH):
                keyword = "data_home"
            elif call.qualname.startswith("torchvision.datasets."):
                keyword = "root"
            if keyword is None:
                continue
            value = call.keyword(keyword)
            if value is None and keyword == "root":
                value = call.positional(0)
            if value is None and any(arg.star == "**" for arg in call.node.args):
                continue  # `**kwargs` may carry the keyword; what it holds is not read here
            if value is None:
                # safe: where the download lands is exactly what the criterion asks, nothing else changes
                added = replace_node(source, call.node, with_keyword(call.node, keyword, cst.SimpleString(CACHE)), call.stmt)
                yield Hit(source.path, f"`{call.name}(…)` has no {keyword}=; pass {keyword}=\".cache/\"", call.node,
                          fix=Fix(f"Pass {keyword}=\".cache/\"", SAFE, (added,)) if added else None)
                continue
            text = string_value(value) if not isinstance(value, cst.FormattedString) else None
            if text is not None and not text.removeprefix("./").startswith(".cache"):
                # unsafe: files the project put in the old folder are not looked for in the new one
                moved = replace_node(source, value, cst.SimpleString(CACHE), call.stmt)
                yield Hit(source.path, f"`{call.name}(…)` caches in {text!r}; use {keyword}=\".cache/\"", call.node,
                          fix=Fix(f"Use {keyword}=\".cache/\"", UNSAFE, (moved,)) if moved else None)
