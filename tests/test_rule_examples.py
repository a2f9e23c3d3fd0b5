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


def test_a_pinned_example_fails_when_the_line_or_message_differs():
    from dataclasses import replace

    from expreview.rule import Example

    rule = REGISTRY["DEP001"]
    example = Example(files={"pyproject.toml": '[project]\nname = "x"\ndependencies = {torch = "*"}\n'}, line=3,
                      message="list")
    test_rule_example(rule, "invalid", 0, example)
    for wrong in (replace(example, line=2), replace(example, message="no such text")):
        with pytest.raises(AssertionError):
            test_rule_example(rule, "invalid", 0, wrong)


def test_an_example_written_as_indented_code_is_dedented():
    from expreview.rule import Example

    example = Example(files={"a.py": """
        def f():
            return 1
        """}, base={"b.py": "x = 1\n"})
    assert example.files == {"a.py": "def f():\n    return 1\n"} and example.base == {"b.py": "x = 1\n"}


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
        mine = [f for f in report.findings if f.code == rule.code and f.path == example.pinned_path]
        if example.line is not None:
            assert example.line in [f.line for f in mine], \
                f"{rule.code} example {index}: expected at {example.pinned_path}:{example.line}, got {mine}"
        if example.message is not None:
            assert any(example.message in f.message for f in mine), [f.message for f in mine]
    else:
        assert rule.code not in codes, [f.message for f in report.findings]
