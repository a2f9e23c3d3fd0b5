"""Every rule flags its own failing examples and leaves its passing examples alone."""
from __future__ import annotations

import pytest

from expreview.engine import review_bundle
from expreview.rule import REGISTRY

CASES = [
    pytest.param(rule, kind, i, example, id=f"{code}-{kind}-{i}")
    for code, rule in sorted(REGISTRY.items())
    for kind, examples in (("invalid", rule.invalid), ("valid", rule.valid))
    for i, example in enumerate(examples)
]


def test_every_rule_has_examples():
    for code, rule in REGISTRY.items():
        assert rule.invalid and rule.valid, f"{code} needs failing and passing examples"
        assert rule.criterion and rule.rationale, f"{code} needs a criterion and a rationale"


@pytest.mark.parametrize("rule,kind,index,example", CASES)
def test_rule_example(rule, kind, index, example):
    bundle = example.bundle(default_stage=rule.stages[0])
    report = review_bundle(bundle, rules=[rule])
    codes = [f.code for f in report.findings]
    assert "INT001" not in codes, report.findings
    if kind == "invalid":
        assert rule.code in codes, f"{rule.code} missed its failing example {index}"
        for finding in report.findings:
            assert finding.line >= 1 and finding.column >= 1
            assert finding.message and finding.path
    else:
        assert rule.code not in codes, [f.message for f in report.findings]
