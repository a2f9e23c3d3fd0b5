"""CKPT: a model that is saved is also loaded somewhere."""
from __future__ import annotations

from typing import Iterator

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.pretrained import loads_local_directory
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import dotted_name


@rule(
    code="CKPT001", name="checkpoint-never-loaded", severity=ERROR,
    consequence=CRITERION,
    criterion="Model saving/loading mechanisms are implemented.",
    rationale="A checkpoint that nothing loads cannot be evaluated or resumed; the reviewer asks "
              "for both halves. Loading a hub model by id is not loading the saved model.",
    invalid=[Example(files={"src/train.py": """
        import torch


        def save(model, path):
            torch.save(model.state_dict(), path)
        """}, line=5, message='no file loads a saved model')],
    valid=[Example(files={"src/train.py": """
        import torch


        def save(model, path):
            torch.save(model.state_dict(), path)


        def load(model, path):
            model.load_state_dict(torch.load(path, map_location='cpu'))
        """})],
)
def checkpoint_never_loaded(bundle: Bundle) -> Iterator[Hit]:
    saves, torch_load, load_state, pretrained_local = [], False, False, False
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in source.index.calls:
            if call.qualname == "torch.save" or call.name.endswith(".save_pretrained"):
                saves.append((source, call))
            elif call.qualname in ("torch.load", "safetensors.torch.load_file") or call.name.endswith("load_file"):
                torch_load = True
            elif call.name.endswith(".load_state_dict"):
                load_state = True
            elif call.name.endswith(".from_pretrained") and loads_local_directory(source, call):
                pretrained_local = True
    whole_model_saved = any(
        (a := call.positional(0)) is not None and not dotted_name(getattr(a, "func", a)).endswith("state_dict")
        and not isinstance(a, cst.Dict)
        for _, call in saves if call.qualname == "torch.save"
    )
    loaded = (torch_load and (load_state or whole_model_saved)) or pretrained_local
    if loaded:
        return
    for source, call in saves:
        yield Hit(source.path, f"the model is saved here (`{call.name}`) but no file loads a saved model "
                               "(torch.load + load_state_dict, or from_pretrained(<saved dir>)); add the "
                               "loading code, e.g. to evaluate the best checkpoint", call.node)
