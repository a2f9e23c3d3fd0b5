"""CKPT: a model that is saved is also loaded somewhere, and the base code saves and loads one."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.facts.pretrained import loads_local_directory
from expreview.facts.values import resolve
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource

_TRAIN = "src/train.py"
# The words of a saved object's name (`best_model_state`, `ckpt`, `samples`) that say it is a
# model or its weights, and the head words that say it is something a model produced.
_MODEL_WORDS = {"model", "models", "net", "network", "state", "weights", "ckpt", "checkpoint", "params",
                "parameters", "learner", "classifier", "encoder", "decoder", "backbone", "module", "policy",
                "generator", "discriminator", "lm", "vae", "unet", "transformer"}
_PRODUCED_WORDS = {"sample", "samples", "embedding", "embeddings", "emb", "embs", "pred", "preds", "prediction",
                   "predictions", "output", "outputs", "logit", "logits", "feature", "features", "feats", "latent",
                   "latents", "generation", "generations", "generated", "result", "results", "metric", "metrics",
                   "history", "score", "scores", "activation", "activations", "token", "tokens", "ids", "image",
                   "images", "imgs", "audio", "label", "labels", "target", "targets", "mask", "masks", "grads",
                   "gradients", "stats", "statistics", "data", "dataset", "batch", "batches", "tensor", "tensors",
                   "vector", "vectors", "probs", "probabilities", "losses", "curve", "curves", "indices", "attention"}
_NOT_A_MODEL = re.compile(r"(?i)tokeni[sz]er|processor|feature_extractor")
MODEL, OTHER, UNKNOWN = "model", "other", "unknown"


@dataclass
class _Checkpoints:
    """The model saves of a bundle and whether anything loads a saved model."""
    saves: list[tuple[PythonSource, Call]] = field(default_factory=list)
    maybe_saves: int = 0  # `torch.save(x, …)` where nothing tells whether x is a model
    torch_load: bool = False
    load_state: bool = False
    pretrained_local: bool = False

    @property
    def whole_model_saved(self) -> bool:
        """Some `torch.save` stores the model object itself, which torch.load alone restores."""
        return any(
            (a := call.positional(0)) is not None and not dotted_name(getattr(a, "func", a)).endswith("state_dict")
            and not isinstance(a, cst.Dict)
            for _, call in self.saves if call.qualname == "torch.save"
        )

    @property
    def loaded(self) -> bool:
        return (self.torch_load and (self.load_state or self.whole_model_saved)) or self.pretrained_local


def name_kind(name: str) -> str:
    """MODEL, OTHER or UNKNOWN for what a name says it holds: its head word decides first
    (`model_outputs` holds outputs), then any word (`best_model_state` is weights)."""
    words = [w.lower() for w in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name.rsplit(".", 1)[-1]) if w]
    if not words:
        return UNKNOWN
    if _NOT_A_MODEL.search(name) or words[-1] in _PRODUCED_WORDS:
        return OTHER
    return MODEL if any(w in _MODEL_WORDS for w in words) else UNKNOWN


def _saved_kind(source: PythonSource, call: Call) -> str:
    """What `torch.save(x, …)` stores: MODEL for a state_dict (alone or in a dict), a dict with a
    model-like key, or an object named like a model (`model`, `best_state`, `ckpt.pt` contents);
    OTHER for tensors a model produced (`torch.save(samples, …)`, `torch.save({"preds": …}, …)`,
    `embeddings.cpu()`); UNKNOWN when nothing tells (`torch.save(obj, …)`)."""
    arg = call.positional(0) or call.keyword("obj")
    if arg is None:
        return UNKNOWN
    named = dotted_name(arg)
    if named and name_kind(named) != UNKNOWN:
        return name_kind(named)
    value = resolve(source.index, arg, call.scope) if isinstance(arg, cst.Name) else arg
    for node in iter_subtree(value):
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "state_dict":
            return MODEL
    if isinstance(value, cst.Dict):
        words = [string_value(el.key) or dotted_name(el.key) for el in value.elements if isinstance(el, cst.DictElement)]
        words += [dotted_name(el.value) for el in value.elements if isinstance(el, cst.DictElement)]
        return MODEL if any(w and name_kind(w) == MODEL for w in words) else OTHER
    subject = value  # `embeddings.cpu()`, `model.to("cpu")`: the object the methods are called on
    while isinstance(subject, cst.Call) and isinstance(subject.func, cst.Attribute):
        subject = subject.func.value
    named = dotted_name(subject)
    return name_kind(named) if named else UNKNOWN


@bundle_fact
def _checkpoints(bundle: Bundle) -> _Checkpoints:
    found = _Checkpoints()
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in source.index.calls:
            if call.qualname == "torch.save":
                kind = _saved_kind(source, call)
                if kind == MODEL:
                    found.saves.append((source, call))
                found.maybe_saves += kind == UNKNOWN
            elif call.name.endswith(".save_pretrained"):
                if not _NOT_A_MODEL.search(call.name.rsplit(".", 1)[0]):
                    found.saves.append((source, call))
            elif call.qualname in ("torch.load", "safetensors.torch.load_file") or call.name.endswith("load_file"):
                found.torch_load = True
            elif call.name.endswith(".load_state_dict"):
                found.load_state = True
            elif call.name.endswith(".from_pretrained") and loads_local_directory(source, call):
                found.pretrained_local = True
    return found


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
        """}, line=5, message='no file loads a saved model'),
             # a checkpoint dict holding the state_dict next to the generated samples
             Example(files={"src/train.py": """
                 import torch


                 def save(model, samples, path):
                     torch.save(samples, path.with_suffix(".samples"))
                     torch.save({"epoch": 3, "weights": model.state_dict()}, path)
                 """}, line=6)],
    valid=[Example(files={"src/train.py": """
        import torch


        def save(model, path):
            torch.save(model.state_dict(), path)


        def load(model, path):
            model.load_state_dict(torch.load(path, map_location='cpu'))
        """}),
           # tensors that are not a model: generated samples, embeddings, predictions
           Example(files={"src/train.py": """
               import torch


               def save_outputs(samples, embeddings, preds, run_dir):
                   torch.save(samples, run_dir / "samples.pt")
                   torch.save(embeddings.cpu(), run_dir / "embeddings.pt")
                   torch.save({"preds": preds, "labels": preds.argmax(-1)}, run_dir / "preds.pt")
               """})],
)
def checkpoint_never_loaded(bundle: Bundle) -> Iterator[Hit]:
    found = _checkpoints(bundle)
    if found.loaded:
        return
    for source, call in found.saves:
        yield Hit(source.path, f"the model is saved here (`{call.name}`) but no file loads a saved model "
                               "(torch.load + load_state_dict, or from_pretrained(<saved dir>)); add the "
                               "loading code, e.g. to evaluate the best checkpoint", call.node)


@rule(
    code="CKPT002", name="no-checkpointing", severity=ERROR,
    consequence=CRITERION,
    criterion="Model saving/loading mechanisms are implemented.",
    rationale="The base prompt asks for both halves: the trained model is saved and a saved model "
              "is loaded (to evaluate the best checkpoint or resume). Base code with neither leaves "
              "every derived experiment without them.",
    invalid=[Example(files={"src/train.py": """
        import torch


        def train(model, data, run_dir):
            for x, y in data:
                model(x).sum().backward()
            outputs = model(data[0][0])
            torch.save(outputs.detach(), run_dir / "outputs.pt")
        """}, line=1, message="neither saves nor loads a model")],
    valid=[Example(files={"src/train.py": """
        import torch


        def train(model, run_dir):
            torch.save(model.state_dict(), run_dir / "model.pt")
        """}),
           Example(files={"src/train.py": """
               def train(model, tokenizer, run_dir):
                   model.save_pretrained(run_dir / "best")
               """}),
           Example(files={"src/evaluate.py": """
               from transformers import AutoModelForCausalLM


               def load(run_dir):
                   return AutoModelForCausalLM.from_pretrained(run_dir / "best")
               """}),
           Example(files={"src/evaluate.py": """
               def restore(model, state):
                   model.load_state_dict(state)
               """})],
)
def no_checkpointing(bundle: Bundle) -> Iterator[Hit]:
    if not any(source.ok for source in bundle.python_files()):
        return
    found = _checkpoints(bundle)
    # a save that may be a model (`torch.save(obj, …)`), or any torch.load, is not "neither"
    if found.saves or found.maybe_saves or found.torch_load or found.load_state or found.pretrained_local:
        return
    path = _TRAIN if bundle.python(_TRAIN) is not None else bundle.python_files()[0].path
    yield Hit(path, "the code neither saves nor loads a model; save the trained model in src/train.py "
                    "(`torch.save(model.state_dict(), …)` or `model.save_pretrained(…)`) and load it where it "
                    "is evaluated (`model.load_state_dict(torch.load(…))` or `from_pretrained(<saved dir>)`)")
