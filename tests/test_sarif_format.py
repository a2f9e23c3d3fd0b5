"""`--format sarif`: SARIF 2.1.0 that validates, merges reports into one run and fingerprints stably."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from expreview import __version__
from expreview.output import sarif as sarif_format
from expreview.engine import Report, review_bundle
from expreview.findings import Finding
from expreview.inputs.loaders import decide_stage, load_path
from expreview.rule import REGISTRY

SCHEMA = Path(__file__).resolve().parents[2] / "shared/schemas/sarif-schema-2.1.0.json"
# (stage, variant; None: the good repository): reviewed from the directory above `fixtures/`
REAL = [("base", "pipe-deadlock"), ("base", "yaml-float"), ("base", "deps-table"), ("base", None),
        ("hydra", "struct-merge"), ("hydra", "cfg-path")]


def report(findings, root="", source="", stage="base"):
    return Report(stage=stage, findings=list(findings), ready_key=f"is_{stage}_code_ready",
                  issue_key=f"{stage}_code_issue", source=source, notes=[], root=root)


def reviewed(path: str, stage: str) -> Report:
    bundle = load_path(path)
    decide_stage(bundle, stage)
    return review_bundle(bundle)


@pytest.fixture
def real_reports(monkeypatch, variants) -> list[Report]:
    root = variants.root  # variants are built at <root>/<stage>/<name>; the good ones are copied beside them
    for stage, name in REAL:
        if name is None and not (root / "fixtures" / stage / "good").exists():
            shutil.copytree(REPO / "fixtures" / stage / "good", root / "fixtures" / stage / "good")
        elif name is not None:
            variants(stage, name)
    monkeypatch.chdir(root)  # roots are relative to the working directory
    return [reviewed(f"fixtures/{stage}/good" if name is None else f"{stage}/{name}", stage) for stage, name in REAL]


def constructed() -> list[Report]:
    return [report([
        Finding("RUN005", "error", "src/main.py", 37, 16, 41, 1, "pipes: both\nstreams"),
        Finding("CFG003", "error", "config/a b:c,d#e%.yaml", 21, 8, 21, 3, "end before start"),
        Finding("PY001", "warning", "src/ünï.py", 0, 0, 0, 0, "line 0 is clamped"),
        Finding("INT001", "error", "(expreview)", 1, 1, 1, 1, "internal error in rule X (x): boom"),
        Finding("SUP001", "warning", "src/model.py", 2, 1, 2, 1, "`# expreview: ignore` suppresses nothing"),
    ], root="exp/run 1")]


def validator():
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.is_file():
        pytest.skip(f"{SCHEMA} is not available")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def errors_of(log: dict) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(log)]


def relative_uri_reference(uri: str) -> bool:
    """RFC 3986 relative-path reference: allowed characters only, and no ':' in the first segment
    (which would make it a scheme). jsonschema checks the "uri" format only with extra packages."""
    allowed = re.fullmatch(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})+", uri)
    return bool(allowed) and ":" not in uri.split("/")[0] and not uri.startswith("/")


def results_of(log: dict) -> list[dict]:
    return log["runs"][0]["results"]


def test_real_reports_validate_against_the_schema(real_reports):
    log = json.loads(sarif_format.render(real_reports))
    assert errors_of(log) == []
    assert {r["ruleId"] for r in results_of(log)} >= {"RUN005", "CFG003", "DEP001"}


def test_each_real_report_validates_alone(real_reports):
    for rep in real_reports:
        assert errors_of(json.loads(sarif_format.render([rep]))) == []


def test_constructed_reports_validate(real_reports):
    assert errors_of(json.loads(sarif_format.render(constructed() + real_reports))) == []


def test_one_run_with_every_rule(real_reports):
    log = json.loads(sarif_format.render(real_reports))
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "expreview" and driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    ids = [rule["id"] for rule in driver["rules"]]
    assert ids == sorted(REGISTRY) and len(set(ids)) == len(ids)
    for rule in driver["rules"]:
        source = REGISTRY[rule["id"]]
        assert rule["name"] == source.name
        assert rule["shortDescription"]["text"] == source.summary
        assert rule["fullDescription"]["text"] == source.criterion
        assert source.rationale in rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] == source.severity
        assert source.family in rule["properties"]["tags"]
        assert all(f"stage:{s}" in rule["properties"]["tags"] for s in source.stages)
        assert rule["properties"]["consequence"] == source.consequence
        assert f"consequence:{source.consequence}" in rule["properties"]["tags"]
    # every finding of every report is a result, in report order, with its own consequence
    assert [(r["ruleId"], r["message"]["text"]) for r in results_of(log)] == [
        (f.code, f.message) for rep in real_reports for f in rep.findings]
    assert [r["properties"] for r in results_of(log)] == [
        {"consequence": f.consequence} for rep in real_reports for f in rep.findings]


def test_locations_are_repository_relative(real_reports):
    log = json.loads(sarif_format.render(real_reports))
    assert "originalUriBaseIds" not in log["runs"][0]
    for result in results_of(log):
        (loc,) = result["locations"]
        artifact = loc["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert artifact["uri"].startswith(("base/", "hydra/", "fixtures/")) and "://" not in artifact["uri"]
        assert not artifact["uri"].startswith("/") and "\\" not in artifact["uri"]
        assert relative_uri_reference(artifact["uri"]), artifact["uri"]
    first = results_of(log)[0]["locations"][0]["physicalLocation"]
    assert first["artifactLocation"]["uri"] == "base/pipe-deadlock/src/main.py"
    assert first["region"] == {"startLine": 37, "startColumn": 16, "endLine": 41, "endColumn": 1}


def test_rule_index_points_at_the_rule_id(real_reports):
    log = json.loads(sarif_format.render(constructed() + real_reports))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    for result in results_of(log):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_regions_uris_and_engine_codes():
    log = json.loads(sarif_format.render(constructed()))
    results = results_of(log)
    by_code = {r["ruleId"]: r for r in results}
    assert "INT001" not in by_code  # no location: a tool notification, not a result
    run5, cfg3, py1, sup1 = (by_code[c] for c in ("RUN005", "CFG003", "PY001", "SUP001"))

    def where(result):
        return result["locations"][0]["physicalLocation"]

    assert where(run5)["artifactLocation"]["uri"] == "exp/run%201/src/main.py"
    assert where(cfg3)["artifactLocation"]["uri"] == "exp/run%201/config/a%20b%3Ac%2Cd%23e%25.yaml"
    assert where(py1)["artifactLocation"]["uri"] == "exp/run%201/src/%C3%BCn%C3%AF.py"
    assert where(cfg3)["region"] == {"startLine": 21, "startColumn": 8}  # end before start: dropped
    assert where(py1)["region"] == {"startLine": 1, "startColumn": 1}
    assert where(sup1)["region"] == {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 1}
    for result in results:
        assert relative_uri_reference(where(result)["artifactLocation"]["uri"])
        region = where(result)["region"]
        if region.get("endLine") == region["startLine"]:
            assert region["endColumn"] >= region["startColumn"]
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["SUP001"]["defaultConfiguration"]["level"] == "warning"
    assert rules["SUP001"]["properties"]["consequence"] == "advice"
    assert "consequence:advice" in rules["SUP001"]["properties"]["tags"]
    assert "INT001" not in rules
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note == {"level": "error", "message": {"text": "internal error in rule X (x): boom"},
                    "descriptor": {"id": "INT001"}}


def test_clean_run_is_successful_with_no_results():
    log = json.loads(sarif_format.render([report([])]))
    assert results_of(log) == []
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True}]


def test_output_is_byte_identical(real_reports):
    assert sarif_format.render(real_reports) == sarif_format.render(real_reports)
    text = sarif_format.render(real_reports)
    assert text.endswith("}\n") and str(REPO) not in text


def fingerprints(reports) -> dict[tuple, str]:
    log = json.loads(sarif_format.render(reports))
    out = {}
    for r in results_of(log):
        loc = r["locations"][0]["physicalLocation"]
        key = (r["ruleId"], loc["artifactLocation"]["uri"], r["message"]["text"])
        assert key not in out
        out[key] = r["partialFingerprints"]["expreview/v1"]
    return out


def test_fingerprints_are_stable(real_reports):
    before = fingerprints(real_reports)
    assert before == fingerprints(real_reports)
    assert len(set(before.values())) == len(before)
    # an unrelated finding elsewhere changes nothing
    extra = Finding("PY001", "warning", "src/train.py", 1, 1, 1, 2, "an unrelated new finding")
    first = real_reports[0]
    grown = [dataclasses.replace(first, findings=sorted(first.findings + [extra], key=Finding.sort_key))]
    after = fingerprints(grown + real_reports[1:])
    assert {k: v for k, v in after.items() if k in before} == before
    # lines inserted above move every finding down; the fingerprints stay
    moved = [dataclasses.replace(rep, findings=[dataclasses.replace(f, line=f.line + 5, end_line=f.end_line + 5)
                                                for f in rep.findings]) for rep in real_reports]
    assert fingerprints(moved) == before


def test_duplicate_messages_get_distinct_fingerprints():
    same = [Finding("PY001", "warning", "src/x.py", n, 1, n, 2, "same message") for n in (3, 9)]
    log = json.loads(sarif_format.render([report(same)]))
    prints = [r["partialFingerprints"]["expreview/v1"] for r in results_of(log)]
    assert prints[0].endswith(":1") and prints[1].endswith(":2") and prints[0][:-2] == prints[1][:-2]


def test_cli_format_sarif(variants):
    from expreview.output.formats import RENDERERS

    if "sarif" not in RENDERERS:
        pytest.skip("--format sarif is not registered in expreview.output.formats yet")
    proc = run_cli("check", str(variants("base", "pipe-deadlock")), "--stage", "base", "--format", "sarif")
    assert proc.returncode == 1, proc.stderr
    log = json.loads(proc.stdout)
    assert [r["ruleId"] for r in results_of(log)] == ["RUN005"]
    assert errors_of(log) == []
