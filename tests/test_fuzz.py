"""Fuzzing the whole CLI with generated bundles: valid files, mutated fixtures, truncated and
garbled text. Every run must end with exit 0/1 and a well-formed report, or exit 2 and one line;
never a traceback, and never a rule's internal error.

Profiles: `ci` (300 examples, the default) and `long` (10,000):
    EXPREVIEW_FUZZ_PROFILE=long pytest tests/test_fuzz.py
"""
from __future__ import annotations

import json
import os

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from fixture_variants import variant_files
from expreview.cli import main

settings.register_profile("ci", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("long", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("EXPREVIEW_FUZZ_PROFILE", "ci"))


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "README.md"}


SOURCES = [_files(FIXTURES / "base" / "good"), variant_files("base", "pipe-deadlock"),
           _files(FIXTURES / "derived" / "good"), _files(FIXTURES / "hydra" / "good"),
           variant_files("hydra", "struct-merge")]
BASE = _files(FIXTURES / "base" / "good")  # the derived fixtures' base
SNIPPETS = ["def f(:\n", "import torch\n", "cfg.a.b.c = 1\n", "runs:\n  - run_id: x\n", "&a [*a]\n", "\x00",
            "[project]\ndependencies = {}\n", "subprocess.Popen(c, stdout=PIPE, stderr=PIPE)\n", "\ufeff",
            "\r\n", "'''", "PLACEHOLDER", "@hydra.main()\n", "print(json.dumps({'run_id': 1}))\n", "\ud800"]
paths = st.from_regex(r"(src|config|config/runs)/[a-z_]{1,8}\.(py|yaml|toml)|pyproject\.toml", fullmatch=True)


@st.composite
def payloads(draw):
    if draw(st.integers(0, 30)) == 0:  # not a bundle at all
        return draw(st.sampled_from(["", "{", "[]", "null", "{\"files\": 3}", "Input:\nOutput:\n"]))
    files = dict(draw(st.sampled_from(SOURCES)))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["drop", "truncate", "garble", "insert", "add", "noise"]))
        if op == "add" or not files:
            files[draw(paths)] = draw(st.text(max_size=200))
            continue
        path = draw(st.sampled_from(sorted(files)))
        text = files[path]
        cut = draw(st.integers(0, len(text)))
        if op == "drop":
            del files[path]
        elif op == "truncate":
            files[path] = text[:cut]
        elif op == "garble":
            end = draw(st.integers(cut, min(len(text), cut + 80)))
            files[path] = text[:cut] + draw(st.text(max_size=40)) + text[end:]
        elif op == "insert":
            files[path] = text[:cut] + draw(st.sampled_from(SNIPPETS)) + text[cut:]
        else:
            files[path] = draw(st.text(max_size=300))
    bundle = {"files": files}
    if draw(st.booleans()):
        bundle["base"] = {"files": BASE}
        bundle["run_variations"] = ["baseline", "proposed"]
    return json.dumps(bundle)


@given(payload=payloads(), stage=st.sampled_from(["auto", "base", "derived", "hydra"]),
       fmt=st.sampled_from(["json", "text", "verdict"]))
def test_any_bundle_ends_in_a_report_or_one_line_error(payload, stage, fmt):
    result = CliRunner().invoke(main, ["check", "-", "--stage", stage, "--format", "json"], input=payload)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1, 2)
    if result.exit_code == 2:
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
        return
    report = json.loads(result.stdout)
    assert list(report) == ["stage", "prompt_version", "ready", "verdict", "findings"]
    assert report["ready"] is (result.exit_code == 0)
    internal = [f for f in report["findings"] if f["code"] == "INT001"]
    assert not internal, internal
    for f in report["findings"]:
        assert f["line"] >= 1 and f["column"] >= 1 and f["end_line"] >= f["line"] and f["message"]
    if fmt != "json":  # the other formats render the same review without failing
        other = CliRunner().invoke(main, ["check", "-", "--stage", stage, "--format", fmt], input=payload)
        assert other.exit_code == result.exit_code and other.exception is None or isinstance(other.exception, SystemExit)
