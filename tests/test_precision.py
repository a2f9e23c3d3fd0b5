"""No error finding on the real corpora is unlabelled or labelled a false finding (benchmarks/labels/)."""
from __future__ import annotations

import sys

import pytest

from conftest import REPO, SHARED

sys.path.insert(0, str(REPO / "benchmarks"))
import precision  # noqa: E402

CORPORA = [c for c in precision.CORPORA if (SHARED / "corpus" / c).is_dir()]


@pytest.mark.parametrize("corpus", precision.CORPORA)
def test_every_error_finding_is_labelled_and_none_is_false(corpus):
    if corpus not in CORPORA:
        pytest.skip(f"../shared/corpus/{corpus} is not beside this checkout")
    labels = precision.read_labels(corpus)
    bad = []
    for seen in precision.error_findings(corpus):
        label = labels.get(seen.key, ("unlabelled", ""))[0]
        if label not in ("TP-crash", "TP-criterion"):
            bad.append(f"{label}: {seen.item} {seen.path}:{seen.line} {seen.code} {seen.message[:120]}")
    assert not bad, f"{len(bad)} error findings are unlabelled or false (see benchmarks/precision.py):\n" + "\n".join(bad[:40])


def test_labels_are_well_formed():
    for corpus in precision.CORPORA:
        for key, (label, reason) in precision.read_labels(corpus).items():
            assert label in precision.KINDS, (corpus, key, label)
            assert reason.strip() and "\n" not in reason, (corpus, key)
