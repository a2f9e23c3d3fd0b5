"""DATA001's model of transformers' collators, checked against the installed library (skipped
where transformers is not installed): which collators pad nothing, which pad only the tokenizer's
fields, and which pad labels too. The rule's tables must say what the library does."""
from __future__ import annotations

import pytest

from expreview.checks.data.collate import _COLLATORS, _PADDED_BY_TOKENIZER, INPUTS, NOTHING

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")
torch_data = pytest.importorskip("torch.utils.data")


@pytest.fixture(scope="module")
def tokenizer():
    vocab = {"[PAD]": 0, "[UNK]": 1, "a": 2, "b": 3, "c": 4}
    model = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="[UNK]"))
    model.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    return transformers.PreTrainedTokenizerFast(tokenizer_object=model, pad_token="[PAD]", unk_token="[UNK]")


def _rows(tokenizer, labels: bool, padding: bool):
    rows = []
    for text in ("a b c", "a"):
        row = dict(tokenizer(text, truncation=True, max_length=8, **({"padding": "max_length"} if padding else {})))
        if labels:
            row["labels"] = list(row["input_ids"])
        rows.append(row)
    return rows


def _collator(name, tokenizer):
    made = getattr(transformers, name)
    if name == "DefaultDataCollator":
        return made()
    if name == "DataCollatorForLanguageModeling":
        return made(tokenizer, mlm=False)  # causal LM, as these projects use it
    return made(tokenizer) if name[0].isupper() else made


def _batches(collate, rows) -> bool:
    try:
        collate(rows)
    except (ValueError, RuntimeError):
        return False
    return True


@pytest.mark.parametrize("name", sorted(_COLLATORS))
def test_the_rule_knows_what_each_collator_pads(name, tokenizer):
    collate = _collator(name, tokenizer)
    # rows padded by the tokenizer: every collator batches them
    assert _batches(collate, _rows(tokenizer, labels=True, padding=True))
    if _COLLATORS[name] == NOTHING:
        assert not _batches(collate, _rows(tokenizer, labels=False, padding=False))
    else:
        assert _COLLATORS[name] == INPUTS
        assert _batches(collate, _rows(tokenizer, labels=False, padding=False))  # it pads input_ids and the mask
        assert not _batches(collate, _rows(tokenizer, labels=True, padding=False))  # but not labels


def test_torch_default_collate_pads_nothing(tokenizer):
    assert not _batches(torch_data.default_collate, _rows(tokenizer, labels=False, padding=False))
    assert _batches(torch_data.default_collate, _rows(tokenizer, labels=True, padding=True))


@pytest.mark.parametrize("name", ["DataCollatorForSeq2Seq", "DataCollatorForTokenClassification"])
def test_the_collators_the_rule_leaves_alone_pad_labels(name, tokenizer):
    assert name not in _COLLATORS
    assert _batches(getattr(transformers, name)(tokenizer), _rows(tokenizer, labels=True, padding=False))


def test_tokenizer_pad_pads_the_fields_the_rule_says(tokenizer):
    rows = [dict(tokenizer(t)) for t in ("a b c", "a")]
    padded = tokenizer.pad(rows)
    assert set(padded) <= _PADDED_BY_TOKENIZER
    assert len({len(ids) for ids in padded["input_ids"]}) == 1
