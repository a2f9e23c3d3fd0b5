"""The crashes PY010 and CFG011 claim, reproduced with the real thing: the template each failing
example reports is formatted by str.format with the keywords its call passes (and raises), and each
interpolation CFG011 reports is resolved by OmegaConf after Hydra's own resolvers are registered
(and raises UnsupportedInterpolationType), while those of the passing examples resolve. Only string
literals and YAML values are evaluated, never the examples' code."""
from __future__ import annotations

import ast
import re

import pytest

from expreview import checks
from expreview.engine import review_bundle
from expreview.rule import REGISTRY

checks.load_all()


def _findings(code: str, example):
    rule = REGISTRY[code]
    report = review_bundle(example.bundle(default_stage=rule.stages[0]), rules=[rule])
    return [f for f in report.findings if f.code == code]


def _line_literal(text: str, line: int) -> str:
    """The longest string literal that starts on `line` of a Python file (a dict entry's value,
    not its key)."""
    found = [node.value for node in ast.walk(ast.parse(text))
             if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.lineno == line]
    assert found, f"no string literal at line {line}"
    return max(found, key=len)


@pytest.mark.parametrize("index", range(len(REGISTRY["PY010"].invalid)))
def test_each_reported_template_raises_when_formatted(index):
    example = REGISTRY["PY010"].invalid[index]
    findings = _findings("PY010", example)
    assert findings
    for finding in findings:
        template = _line_literal(example.files[finding.path], finding.line)
        keywords = re.search(r"\.format\(([^)]*)\)", finding.message)[1]
        given = {k.strip().rstrip("="): "x" for k in keywords.split(",") if k.strip()}
        with pytest.raises((KeyError, IndexError)):
            template.format(**given)


def test_the_escaped_template_of_a_passing_example_formats():
    source = REGISTRY["PY010"].valid[0].files["src/model.py"]
    template = _line_literal(source, 4)
    assert template.format(q="x") == 'x\nRespond ONLY as JSON: {"answer": "A"}.'


omegaconf = pytest.importorskip("omegaconf")
hydra_utils = pytest.importorskip("hydra.core.utils")


def _resolve(yaml_text: str, path: str):
    hydra_utils.setup_globals()  # what a Hydra app registers before main runs
    cfg = omegaconf.OmegaConf.create(yaml_text)
    return omegaconf.OmegaConf.select(cfg, path, throw_on_resolution_failure=True)


@pytest.mark.parametrize("index", range(len(REGISTRY["CFG011"].invalid)))
def test_each_reported_interpolation_fails_to_resolve(index):
    example = REGISTRY["CFG011"].invalid[index]
    findings = _findings("CFG011", example)
    assert findings
    for finding in findings:
        key = re.search(r"`cfg\.run\.([\w.]+)`", finding.message)[1]
        with pytest.raises(omegaconf.errors.UnsupportedInterpolationType):
            _resolve(example.files[finding.path], key)


def test_the_library_resolvers_of_a_passing_example_resolve():
    text = REGISTRY["CFG011"].valid[0].files["config/run/r1.yaml"]
    assert re.match(r"outputs/\d{4}-\d\d-\d\d$", _resolve(text, "out"))
    assert _resolve(text, "home")
