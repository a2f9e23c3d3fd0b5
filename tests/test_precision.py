"""Precision on real code (benchmarks/labels/): no error finding on the dev and runtime corpora is
unlabelled, and the false ones do not grow.

The goal is no FP-labelled error finding at all. Until then benchmarks/labels/ceiling.json records how
many remain per corpus; a change that adds one fails, a change that removes some lowers the ceiling."""
from __future__ import annotations

import json
import sys

import pytest

from conftest import REPO, SHARED

sys.path.insert(0, str(REPO / "benchmarks"))
import precision  # noqa: E402

CEILING = REPO / "benchmarks" / "labels" / "ceiling.json"


def judged(corpus: str) -> list[tuple[str, precision.Seen]]:
    if not (SHARED / "corpus" / corpus).is_dir():
        pytest.skip(f"../shared/corpus/{corpus} is not beside this checkout")
    labels = precision.read_labels(corpus)
    return [(labels.label(seen), seen) for seen in precision.error_findings(corpus)]


def show(found: list[tuple[str, precision.Seen]]) -> str:
    return "\n".join(f"{label}: {s.item} {s.path}:{s.line} {s.code} {s.message[:120]}" for label, s in found[:40])


@pytest.mark.parametrize("corpus", precision.CORPORA)
def test_every_error_finding_is_labelled(corpus):
    unlabelled = [(label, s) for label, s in judged(corpus) if label not in precision.KINDS]
    assert not unlabelled, (f"{len(unlabelled)} error findings have no label; judge them in benchmarks/labels/"
                            f"{corpus}.tsv (benchmarks/precision.py --append adds their rows):\n" + show(unlabelled))


@pytest.mark.parametrize("corpus", precision.CORPORA)
def test_false_error_findings_do_not_grow(corpus):
    false = [(label, s) for label, s in judged(corpus) if label == "FP"]
    ceiling = json.loads(CEILING.read_text(encoding="utf-8"))[corpus]
    assert len(false) <= ceiling, f"{len(false)} FP-labelled error findings, ceiling {ceiling}:\n" + show(false)


def test_labels_are_well_formed():
    for corpus in precision.CORPORA:
        for key, (label, reason) in precision.read_labels(corpus).items():
            assert label in precision.KINDS, (corpus, key, label)
            assert reason.strip() and "\n" not in reason, (corpus, key)
