"""SPEC: base code stays generic: no real datasets, no hard-coded models."""
from __future__ import annotations

from typing import Iterator

import re

import libcst as cst

from expreview.facts.values import resolve
from expreview.bundle import Bundle
from expreview.findings import ADVICE, CRITERION, ERROR, WARNING
from expreview.sources.index import string_value
from expreview.rule import Example, Hit, rule

_REAL_DATA = ("datasets.load_dataset", "datasets.load_from_disk", "tensorflow_datasets.load",
              "huggingface_hub.snapshot_download", "huggingface_hub.hf_hub_download")
_REAL_DATA_PREFIXES = ("torchvision.datasets.", "torchtext.datasets.", "torchaudio.datasets.",
                       "sklearn.datasets.fetch_", "keras.datasets.")
# Generated stand-ins that live under those modules are what the base asks for, not real data:
# `torchvision.datasets.FakeData`, `sklearn.datasets.make_classification`, ...
_SYNTHETIC_NAMES = re.compile(r"^(?:Fake\w*|Synthetic\w*|Random\w*|Dummy\w*|make_\w+)$")


def _loads_real_data(qualname: str) -> bool:
    if qualname not in _REAL_DATA and not qualname.startswith(_REAL_DATA_PREFIXES):
        return False
    return not _SYNTHETIC_NAMES.match(qualname.rsplit(".", 1)[-1])


@rule(
    code="SPEC001", name="real-dataset-in-base", severity=ERROR,
    consequence=CRITERION,
    criterion="No premature specialization: the base code does NOT contain real dataset loading "
              "code (it should be a placeholder).",
    rationale="The base is shared by every derived experiment; a concrete dataset loader in it is "
              "replaced, duplicated or silently kept by each derivation.",
    invalid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset


        def get_data():
            return load_dataset('glue', 'mrpc')
        """}, line=5),
             Example(files={"src/preprocess.py": """
                 import torchvision


                 def get_data():
                     return torchvision.datasets.CIFAR10('data')
                 """}, line=5),
             # a synthetic stand-in beside a real dataset does not excuse the real one
             Example(files={"src/preprocess.py": """
                 from torchvision import datasets


                 def get_data(smoke):
                     if smoke:
                         return datasets.FakeData(size=64, image_size=(3, 32, 32))
                     return datasets.CIFAR10('data', download=True)
                 """}, line=7, message="CIFAR10")],
    valid=[Example(files={"src/preprocess.py": """
        import torch


        def get_data(n):
            # DATASET_PLACEHOLDER: the derive step loads the real dataset here
            return torch.randn(n, 8)
        """}),
           # generated stand-ins (FakeData, make_classification) are synthetic data, not real loading
           Example(files={"src/preprocess.py": """
               import torchvision
               from sklearn.datasets import make_classification


               def get_data(n):
                   # DATASET_PLACEHOLDER: the derive step loads the real dataset here
                   images = torchvision.datasets.FakeData(size=n, image_size=(3, 32, 32))
                   features, labels = make_classification(n_samples=n, n_features=8)
                   return images, features, labels
               """})],
)
def real_dataset(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in source.index.calls:
            if _loads_real_data(call.qualname):
                yield Hit(source.path, f"`{call.name}(…)` loads a real dataset ({call.qualname}) in base code; "
                                       "keep a DATASET_PLACEHOLDER with a synthetic stand-in and leave real "
                                       "loading to the derived experiments", call.node)


# Hub ids look like org/name or a known family; plain words do not.
_MODEL_ID = re.compile(
    r"^(?:[\w.-]+/[\w.-]+|(?:bert|roberta|distilbert|albert|deberta|electra|xlnet|gpt2|gpt-neo|opt|t5|bart|"
    r"llama|mistral|qwen|vit|deit|clip|resnet|efficientnet|tinybert|mobilebert)[\w.-]*)$",
    re.I,
)
_LOADERS = (".from_pretrained", "pipeline", "create_model", "timm.create_model")
_ARCHITECTURE_PREFIXES = ("torchvision.models.", "timm.models.")


def _literal_model_id(source, call):
    arg = call.positional(0) or call.keyword("pretrained_model_name_or_path") or call.keyword("model")
    if arg is None:
        return None, None
    value = resolve(source.index, arg, call.scope)
    if isinstance(value, cst.Call) and value.func and isinstance(value.func, cst.Attribute) \
            and value.func.attr.value == "get" and len(value.args) > 1:
        value = value.args[1].value  # cfg.get("name", "bert-base-uncased")
    text = string_value(value) if value is not None else None
    if text is not None and _MODEL_ID.match(text) and "PLACEHOLDER" not in text:
        return text, value
    return None, None


@rule(
    code="SPEC002", name="hard-coded-model", severity=WARNING,
    consequence=ADVICE,
    criterion="No premature specialization: the base code does NOT assume specific models "
              "(uses placeholders appropriately).",
    rationale="A hard-coded model id or architecture in the base decides what the experiment "
              "design leaves open; each derived experiment then has to undo it.",
    invalid=[Example(files={"src/model.py": """
        from transformers import AutoModel


        def build(cfg):
            name = cfg.get('name', 'bert-base-uncased')
            return AutoModel.from_pretrained(name)
        """}, line=5),
             Example(files={"src/model.py": """
                 from torchvision import models


                 def build():
                     return models.resnet18(weights=None)
                 """}, line=5)],
    valid=[Example(files={"src/model.py": """
        from transformers import AutoModel


        def build(cfg):
            return AutoModel.from_pretrained(cfg['model']['name'])
        """})],
)
def hard_coded_model(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        seen = set()
        for call in source.index.calls:
            if call.name.endswith(_LOADERS) or call.qualname.endswith(_LOADERS):
                model_id, node = _literal_model_id(source, call)
                if model_id and model_id not in seen:
                    seen.add(model_id)
                    yield Hit(source.path, f"hard-codes the model `{model_id}`; take the model from the config "
                                           "(a MODEL_PLACEHOLDER in base code)", node)
            elif call.qualname.startswith(_ARCHITECTURE_PREFIXES) and call.qualname.rsplit(".", 1)[-1][:1].islower():
                arch = call.qualname.rsplit(".", 1)[-1]
                if arch not in seen:
                    seen.add(arch)
                    yield Hit(source.path, f"builds the concrete architecture `{arch}`; in base code keep the model "
                                           "behind a MODEL_PLACEHOLDER chosen by the config", call.node)
