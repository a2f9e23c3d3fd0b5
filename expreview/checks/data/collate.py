"""DATA001: a DataLoader batches rows whose list fields its collator does not pad.

A tokenizer call without padding, mapped over a dataset, leaves `input_ids` (and everything copied
from it, such as `labels = input_ids.copy()`) at each row's own length. Torch's default collate and
transformers' DefaultDataCollator/default_data_collator pad nothing; DataCollatorWithPadding and
DataCollatorForLanguageModeling pad only the tokenizer's own fields (tokenizer.pad). Batching two
rows of different lengths then raises, the first time the training loop draws a batch."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.bundle_defs import calls_by_node
from expreview.facts.config_values import config_values
from expreview.facts.tokenized_rows import RaggedRows, ragged_rows
from expreview.facts.values import calls_named, resolve
from expreview.findings import CRASH, ERROR, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource

NOTHING, INPUTS = "nothing", "inputs"
# What a collator pads, by its name in transformers (or torch's own default).
_COLLATORS = {"DefaultDataCollator": NOTHING, "default_data_collator": NOTHING,
              "DataCollatorWithPadding": INPUTS, "DataCollatorForLanguageModeling": INPUTS}
# The fields tokenizer.pad pads (input_ids, then its mask and type ids).
_PADDED_BY_TOKENIZER = {"input_ids", "attention_mask", "token_type_ids", "special_tokens_mask"}
_ERRORS = {NOTHING: "ValueError: expected sequence of length …",
           INPUTS: "ValueError: Unable to create tensor … (`{field}` in this case)"}
# A module returning an unpadded split and a padded one, for the examples that unpack its result.
_TWO_SPLITS = """
def build(tokenizer):
    def short(example):
        return tokenizer(example['text'], truncation=True, max_length=64)

    def padded(example):
        return tokenizer(example['text'], padding='max_length', max_length=64)

    return RAW.map(short), RAW.map(padded)
"""
_DEFAULT_COLLATE_ERROR = "RuntimeError: each element in list of batch should be of equal size"


def _qualified(source: PythonSource, name: str, scope) -> str:
    """`name` with its first part resolved through the imports seen from `scope`."""
    head, _, rest = name.partition(".")
    return source.index.aliases(scope).get(head, head) + ("." + rest if rest else "")


def _collator(source: PythonSource, loader: Call) -> Optional[tuple[str, str, cst.CSTNode]]:
    """(what it pads, its name, where it is made) for the DataLoader's collate_fn, when known."""
    given = loader.keyword("collate_fn")
    if given is None:
        return NOTHING, "torch's default collate", loader.node
    value = resolve(source.index, given, loader.scope)
    target = value.func if isinstance(value, cst.Call) else value
    name = dotted_name(target)
    if not name:
        return None
    if isinstance(value, cst.Call):
        call = calls_by_node(source).get(id(value))
        qualified = call.qualname if call is not None else name
    else:
        qualified = _qualified(source, name, loader.scope)
    last = qualified.rsplit(".", 1)[-1]
    if isinstance(value, cst.Call) and name in source.index.classes:
        base = _delegated_base(source, source.index.classes[name])
        if base is None:
            return None
        return _COLLATORS[base], f"{name} (a {base})", value
    if not qualified.startswith("transformers.") or last not in _COLLATORS:
        return None  # the bundle's own collate function, or one this rule does not model
    if isinstance(value, cst.Call) != (last[0].isupper()):
        return None  # a class passed uncalled, or a function called: not a collator of rows
    return _COLLATORS[last], last, value


def _delegated_base(source: PythonSource, cls: cst.ClassDef) -> Optional[str]:
    """The transformers collator a bundle subclass batches with: its one base, when the class
    changes nothing of how rows are padded. It may set itself up (`__init__`) and may wrap
    `__call__` to take string fields out, as long as the wrapper hands the rows to
    `super().__call__` and never names `labels` or pads anything itself."""
    if len(cls.bases) != 1:
        return None
    base = _qualified(source, dotted_name(cls.bases[0].value), None).rsplit(".", 1)
    if len(base) != 2 or not base[0].startswith("transformers") or base[1] not in _COLLATORS:
        return None
    for statement in cls.body.body:
        if not isinstance(statement, cst.FunctionDef) or statement.name.value == "__init__":
            continue
        if statement.name.value in ("torch_call", "numpy_call", "tf_call", "_torch_collate_batch"):
            return None
        if statement.name.value == "__call__" and not _only_delegates(statement):
            return None
    return base[1]


def _only_delegates(method: cst.FunctionDef) -> bool:
    """`__call__` hands the rows to `super().__call__(…)` and never names labels, the tokenizer or
    a pad call: whatever else it does (popping a string field), the base pads the rows."""
    nodes = list(iter_subtree(method.body))
    delegates = any(isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "__call__"
                    and isinstance(n.func.value, cst.Call) and dotted_name(n.func.value.func) == "super"
                    for n in nodes)
    names_labels = any(isinstance(n, (cst.SimpleString, cst.ConcatenatedString)) and string_value(n) in ("labels", "label")
                       for n in nodes)
    pads = any(isinstance(n, cst.Attribute) and n.attr.value in ("pad", "tokenizer") for n in nodes)
    return delegates and not names_labels and not pads


_UNKNOWN_SIZE = 0  # a batch size the rule cannot read (it may be 1)


def _batch_size(bundle: Bundle, source: PythonSource, loader: Call) -> Optional[int]:
    """The loader's batch size when it is above 1, _UNKNOWN_SIZE when it cannot be read, None when
    the loader batches one row at a time (or a sampler decides)."""
    if loader.keyword("batch_sampler") is not None:
        return None
    given = loader.keyword("batch_size") or loader.positional(1)
    if given is None:
        return None  # DataLoader's default batch size is 1
    value = resolve(source.index, given, loader.scope)
    if isinstance(value, cst.Integer):
        return int(value.value) if int(value.value) > 1 else None
    name = dotted_name(value)
    values = config_values(bundle, source, name, loader.scope) if name else None
    if values is not None and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        largest = max(values)
        return largest if largest > 1 else None
    return _UNKNOWN_SIZE


def _line(source: PythonSource, node: cst.CSTNode) -> int:
    return source.span(node).line


@rule(
    code="DATA001", name="collator-cannot-batch", severity=ERROR, consequence=CRASH,
    criterion="Code is immediately executable: every batch the DataLoader draws can be collated.",
    rationale="A tokenizer called without padding in `dataset.map(fn)` leaves each row's input_ids (and "
              "labels copied from it) at its own length. Torch's default collate and DefaultDataCollator pad "
              "nothing; DataCollatorWithPadding and DataCollatorForLanguageModeling pad only the tokenizer's "
              "fields, not labels. Batching rows of different lengths raises on the first batch (checked "
              "against transformers' collators). Silent for padding=\"max_length\", batch size 1, "
              "DataCollatorForSeq2Seq/TokenClassification (they pad labels), the bundle's own collate "
              "functions, and rows the rule cannot follow. A batch size it cannot read makes a warning.",
    invalid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset
        from torch.utils.data import DataLoader
        from transformers import DefaultDataCollator


        def loaders(tokenizer):
            ds = load_dataset('gsm8k', 'main', split='train', cache_dir='.cache/')

            def tok(example):
                out = tokenizer(example['question'], truncation=True, max_length=256)
                out['labels'] = out['input_ids'].copy()
                return out

            ds = ds.map(tok, remove_columns=ds.column_names)
            collator = DefaultDataCollator(return_tensors='pt')
            return DataLoader(ds, batch_size=8, shuffle=True, collate_fn=collator)
        """}, line=15, message="DefaultDataCollator pads nothing"),
             # a padding collator leaves the copied labels at their own lengths
             Example(files={"src/preprocess.py": """
                 from torch.utils.data import DataLoader
                 from transformers import DataCollatorWithPadding


                 class Data:
                     def __init__(self, tokenizer, raw, cfg):
                         self.tokenizer = tokenizer
                         self.cfg = cfg
                         self.ds = raw.map(self._tok).shuffle(seed=0).select(range(8))

                     def _tok(self, example):
                         out = self.tokenizer(example['text'], truncation=True)
                         out['labels'] = list(out['input_ids'])
                         return out

                     def loader(self):
                         collator = DataCollatorWithPadding(tokenizer=self.tokenizer)
                         return DataLoader(self.ds, batch_size=self.cfg.training.batch_size, collate_fn=collator)
                 """, "config/config.yaml": "training:\n  batch_size: 4\n"},
                 line=13, message="`labels`"),
             # no collate_fn: torch's default collate
             Example(files={"src/train.py": """
                 from torch.utils.data import DataLoader


                 def tokenize(batch, tokenizer):
                     return tokenizer(batch['text'], truncation=True, max_length=128)


                 def make(ds, tokenizer, batch_size):
                     ds = ds.map(lambda b: tokenize(b, tokenizer), batched=True)
                     ds = ds.map(tokenize, fn_kwargs={'tokenizer': tokenizer}, batched=True)
                     return DataLoader(ds, batch_size=batch_size)
                 """}, line=11, message="torch's default collate"),
             # rows made in another module, returned as the first item of a tuple
             Example(files={"src/train.py": """
                 from torch.utils.data import DataLoader
                 from src.preprocess import build


                 def main(tokenizer):
                     train_ds, val_ds = build(tokenizer)
                     return DataLoader(train_ds, batch_size=16, shuffle=True)
                 """, "src/preprocess.py": _TWO_SPLITS}, line=7, message="come from `short`"),
             # a subclass that only takes a string field out before the base batches the rows
             Example(files={"src/preprocess.py": """
                 from torch.utils.data import DataLoader
                 from transformers import DataCollatorForLanguageModeling


                 class AnswerCollator(DataCollatorForLanguageModeling):
                     def __call__(self, examples):
                         answers = [ex.pop('answer') for ex in examples]
                         batch = super().__call__(examples)
                         batch['answers'] = answers
                         return batch


                 def encode(example, tokenizer):
                     enc = tokenizer(example['question'] + example['answer'], truncation=True)
                     enc['labels'] = enc['input_ids'][:]
                     enc['answer'] = example['answer']
                     return enc


                 def loader(raw, tokenizer):
                     ds = raw.map(lambda e: encode(e, tokenizer))
                     return DataLoader(ds, batch_size=4, collate_fn=AnswerCollator(tokenizer, mlm=False))
                 """}, line=15, message="AnswerCollator (a DataCollatorForLanguageModeling)")],
    valid=[
        # padded to max_length in the tokenizer
        Example(files={"src/preprocess.py": """
            from torch.utils.data import DataLoader
            from transformers import default_data_collator


            def loader(ds, tokenizer):
                def tok(example):
                    out = tokenizer(example['text'], truncation=True, padding='max_length', max_length=256)
                    out['labels'] = out['input_ids'].copy()
                    return out

                ds = ds.map(tok)
                return DataLoader(ds, batch_size=8, collate_fn=default_data_collator)
            """}),
        # a collator that pads labels too, and one that makes the labels itself
        Example(files={"src/preprocess.py": """
            from torch.utils.data import DataLoader
            from transformers import DataCollatorForLanguageModeling, DataCollatorForSeq2Seq


            def loaders(ds, tokenizer):
                def tok(example):
                    out = tokenizer(example['text'], truncation=True)
                    out['labels'] = out['input_ids'].copy()
                    return out

                def plain(example):
                    return tokenizer(example['text'], truncation=True)

                ds1 = ds.map(tok)
                ds2 = ds.map(plain)
                a = DataLoader(ds1, batch_size=8, collate_fn=DataCollatorForSeq2Seq(tokenizer))
                b = DataLoader(ds2, batch_size=8, collate_fn=DataCollatorForLanguageModeling(tokenizer, mlm=False))
                return a, b
            """}),
        # one row per batch, the bundle's own collate function, a batched map that pads to the longest
        Example(files={"src/preprocess.py": """
            from torch.utils.data import DataLoader


            def pad_batch(rows):
                return rows


            def loaders(ds, tokenizer):
                def tok(example):
                    return tokenizer(example['text'], truncation=True)

                def tok_batched(batch):
                    return tokenizer(batch['text'], truncation=True, padding=True)

                ds1 = ds.map(tok)
                ds2 = ds.map(tok_batched, batched=True)
                a = DataLoader(ds1, batch_size=1)
                b = DataLoader(ds1, batch_size=8, collate_fn=pad_batch)
                c = DataLoader(ds2, batch_size=8)
                return a, b, c
            """}),
        # padded on one branch, unpadded on the other: which one runs is not known
        Example(files={"src/preprocess.py": """
            from torch.utils.data import DataLoader


            def loader(ds, tokenizer, fixed):
                def tok(example):
                    return tokenizer(example['text'], truncation=True)

                def tok_padded(example):
                    return tokenizer(example['text'], padding='max_length', max_length=64)

                if fixed:
                    ds = ds.map(tok_padded)
                else:
                    ds = ds.map(tok)
                return DataLoader(ds, batch_size=8)
            """}),
        # labels rewritten after the copy, and a later map the rule does not follow
        Example(files={"src/preprocess.py": """
            from torch.utils.data import DataLoader
            from transformers import DataCollatorWithPadding


            def loaders(ds, tokenizer, group):
                def tok(example):
                    out = tokenizer(example['text'], truncation=True)
                    out['labels'] = out['input_ids'].copy()
                    out['labels'] = example['label']
                    return out

                ds1 = ds.map(tok)
                ds2 = ds.map(tok).map(group, batched=True)
                collator = DataCollatorWithPadding(tokenizer)
                return DataLoader(ds1, batch_size=8, collate_fn=collator), DataLoader(ds2, batch_size=8)
            """}),
        # the padded item of the tuple another module returns, and a batch size of 1 in every run config
        Example(files={"src/train.py": """
            from torch.utils.data import DataLoader
            from src.preprocess import build


            def main(cfg, tokenizer):
                train_ds, val_ds = build(tokenizer)
                return DataLoader(val_ds, batch_size=16), DataLoader(train_ds, batch_size=cfg.training.batch_size)
            """, "src/preprocess.py": _TWO_SPLITS, "config/config.yaml": "training:\n  batch_size: 1\n"}),
        # a subclass that pads the labels itself
        Example(files={"src/preprocess.py": """
            from torch.utils.data import DataLoader
            from transformers import DataCollatorWithPadding


            class LabelPadding(DataCollatorWithPadding):
                def __call__(self, examples):
                    longest = max(len(ex['labels']) for ex in examples)
                    for ex in examples:
                        ex['labels'] = ex['labels'] + [-100] * (longest - len(ex['labels']))
                    return super().__call__(examples)


            def loader(raw, tokenizer):
                def encode(example):
                    enc = tokenizer(example['text'], truncation=True)
                    enc['labels'] = enc['input_ids'].copy()
                    return enc

                return DataLoader(raw.map(encode), batch_size=4, collate_fn=LabelPadding(tokenizer))
            """}),
    ],
)
def collator_cannot_batch(bundle: Bundle) -> Iterator[Hit]:
    seen: set[tuple[str, int]] = set()
    for source in bundle.python_files():
        if not source.ok:
            continue
        for loader in calls_named(source, "DataLoader"):
            if not loader.qualname.startswith("torch."):
                continue
            dataset = loader.positional(0) or loader.keyword("dataset")
            if dataset is None:
                continue
            collator = _collator(source, loader)
            if collator is None:
                continue
            size = _batch_size(bundle, source, loader)
            if size is None:
                continue
            rows = ragged_rows(bundle, source, dataset, loader.scope, loader.stmt)
            if rows is None:
                continue
            hit = _finding(source, loader, collator, size, rows)
            if hit is not None and (hit.path, id(hit.where)) not in seen:
                seen.add((hit.path, id(hit.where)))
                yield hit


def _finding(source: PythonSource, loader: Call, collator: tuple[str, str, cst.CSTNode], size: int,
             rows: RaggedRows) -> Optional[Hit]:
    pads, name, made = collator
    where_rows = f"{rows.source.path}:{_line(rows.source, rows.tokenizer_call)}"
    batch = f"a batch of {size} rows" if size != _UNKNOWN_SIZE else "a batch of more than one row"
    severity = None if size != _UNKNOWN_SIZE else WARNING
    unsure = "" if severity is None else " (the batch size is not read from a literal or the config; at 1 this cannot fail)"
    if pads == NOTHING:
        fields = ", ".join(f"`{f}`" for f in rows.ragged)
        return Hit(source.path, f"{name} pads nothing, and the rows it batches come from `{rows.function}`, whose "
                                f"tokenizer call ({where_rows}) does not pad: {fields} vary in length, so {batch} "
                                f"raises `{_DEFAULT_COLLATE_ERROR if made is loader.node else _ERRORS[NOTHING]}`"
                                f"{unsure}. Pad in the tokenizer call (padding=\"max_length\") or pass a collator "
                                f"that pads (DataCollatorWithPadding(tokenizer), or DataCollatorForSeq2Seq when "
                                f"the rows carry labels)", made, severity=severity)
    extra = [f for f in rows.ragged if f not in _PADDED_BY_TOKENIZER]
    if not extra:
        return None
    field = extra[0]
    at = f"{source.path}:{_line(source, made)}"
    return Hit(rows.source.path, f"`{field}` written here copies the unpadded output of the tokenizer call at line "
                                 f"{_line(rows.source, rows.tokenizer_call)}, and {name} at {at} pads only the "
                                 f"tokenizer's own fields, so {batch} raises "
                                 f"{_ERRORS[INPUTS].format(field=field)}{unsure}. Pad in the tokenizer call "
                                 f"(padding=\"max_length\", with the labels' pad positions set to -100), use "
                                 f"DataCollatorForSeq2Seq, which pads labels, or leave `{field}` out and let "
                                 f"DataCollatorForLanguageModeling(tokenizer, mlm=False) make the labels",
               rows.ragged[field], severity=severity)
