"""Consequences in every report, and the verdict's issue text: crash findings first, one item per
(rule, file), within a length budget."""
from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_cli
from expreview import engine
from expreview.bundle import Bundle
from expreview.docs import ENGINE_CONSEQUENCES, rules_markdown
from expreview.engine import ISSUE_BUDGET, Report, run_contained
from expreview.findings import Finding
from expreview.output.text import text
from expreview.rule import REGISTRY, Rule


def finding(code, path, line, message, consequence, severity="error"):
    return Finding(code, severity, path, line, 1, line, 2, message, consequence=consequence)


def report(findings) -> Report:
    """As the engine gives it: findings sorted by (path, line, code, …)."""
    return Report(stage="base", findings=sorted(findings, key=Finding.sort_key), ready_key="is_base_code_ready",
                  issue_key="base_code_issue")


# -- the issue text ---------------------------------------------------------------------------

def test_crash_items_come_before_criterion_and_advice_ones():
    rep = report([
        finding("PH002", "config/a.yaml", 3, "placeholder A has no comment", "criterion"),
        finding("FIG003", "src/evaluate.py", 4, "advice made an error", "advice"),
        finding("OUT001", "src/train.py", 8, "prints through rich", "criterion"),
        finding("RUN005", "src/main.py", 30, "pipes deadlock", "crash"),
        finding("DEP001", "pyproject.toml", 7, "dependencies as a table", "crash"),
        finding("CFG005", "config/a.yaml", 1, "a warning is not in the issue", "advice", severity="warning"),
    ])
    assert report_lines(rep) == [
        "1. [crash] pyproject.toml:7: dependencies as a table [DEP001]",
        "2. [crash] src/main.py:30: pipes deadlock [RUN005]",
        "3. [criterion] config/a.yaml:3: placeholder A has no comment [PH002]",
        "4. [criterion] src/train.py:8: prints through rich [OUT001]",
        "5. [advice] src/evaluate.py:4: advice made an error [FIG003]",
    ]


def report_lines(rep: Report) -> list[str]:
    return rep.issue_text().split("\n")


def test_repeated_findings_of_a_rule_in_a_file_are_one_item():
    rep = report([
        finding("PH002", "config/full.yaml", 4, "placeholder `A` has no comment", "criterion"),
        finding("PH002", "config/full.yaml", 6, "placeholder `B` has no comment", "criterion"),
        finding("CFG003", "config/full.yaml", 5, "`3e-5` is a string", "crash"),
        finding("PH002", "config/full.yaml", 9, "placeholder `C` has no comment", "criterion"),
        finding("PH002", "config/full.yaml", 9, "placeholder `D` has no comment", "criterion"),
        finding("PH002", "config/smoke.yaml", 2, "placeholder `E` has no comment", "criterion"),
        finding("CFG003", "config/full.yaml", 12, "`3e-5` is a string", "crash"),
        finding("DEP002", "src/train.py", 3, "`numpy` is not declared", "crash"),
        finding("DEP002", "src/train.py", 5, "`yaml` is imported, PyYAML is declared anyway", "criterion"),
    ])
    assert report_lines(rep) == [
        # the same message everywhere: said once
        "1. [crash] CFG003 at config/full.yaml:5, 12 (2 findings): `3e-5` is a string",
        "2. [crash] src/train.py:3: `numpy` is not declared [DEP002]",
        # different messages: the first one's, saying whose it is; a line is listed once
        "3. [criterion] PH002 at config/full.yaml:4, 6, 9 (4 findings), the first at line 4: "
        "placeholder `A` has no comment",
        # another file: another item
        "4. [criterion] config/smoke.yaml:2: placeholder `E` has no comment [PH002]",
        # a finding of another consequence than its rule's other findings sits with its consequence
        "5. [criterion] src/train.py:5: `yaml` is imported, PyYAML is declared anyway [DEP002]",
    ]


def test_a_group_quotes_the_first_finding_of_each_kind():
    rep = report([
        finding("PH002", "config/full.yaml", 3, "placeholder `A` has no comment", "criterion"),
        finding("PH002", "config/full.yaml", 7, "placeholder `B` has no comment (its comment only says `# X`)",
                "criterion"),
        finding("PH002", "config/full.yaml", 8, "placeholder `C` has no comment (its comment only says `# Y`)",
                "criterion"),
        finding("PH002", "config/full.yaml", 9, "placeholder `D` has no comment", "criterion"),
        finding("RUN003", "src/main.py", 1, "no run gets its own CUDA_VISIBLE_DEVICES", "criterion"),
        finding("RUN003", "src/main.py", 1, "main keeps no queue of free GPUs", "criterion"),
    ])
    assert report_lines(rep) == [
        "1. [criterion] PH002 at config/full.yaml:3, 7, 8, 9 (4 findings), the first at line 3: placeholder `A` has "
        "no comment; also at line 7: placeholder `B` has no comment (its comment only says `# X`)",
        # one line: no line numbers repeated; report order (at one place, by message)
        "2. [criterion] RUN003 at src/main.py:1 (2 findings), the first: main keeps no queue of free GPUs; "
        "also: no run gets its own CUDA_VISIBLE_DEVICES",
    ]


def test_a_long_group_lists_its_first_lines_only():
    rep = report([finding("PH002", "config/full.yaml", n, f"placeholder {n}", "criterion") for n in range(1, 31)])
    (item,) = report_lines(rep)
    assert item == ("1. [criterion] PH002 at config/full.yaml:" + ", ".join(str(n) for n in range(1, 21))
                    + " and 10 more lines (30 findings), the first at line 1: placeholder 1")


def test_the_issue_text_stays_within_the_budget_cutting_whole_items():
    many = [finding("OUT001", f"src/m{n:03}.py", n, f"finding {n} " + "x" * 150, "criterion") for n in range(60)]
    many += [finding("RUN005", "src/main.py", 900 + n, f"crash {n}", "crash") for n in range(3)]
    issue = report(many).issue_text()
    assert len(issue) <= ISSUE_BUDGET
    lines = issue.split("\n")
    *items, last = lines
    assert items[0].startswith("1. [crash] RUN005 at src/main.py:900, 901, 902 (3 findings), the first at line 900: ")
    assert all(line.startswith(f"{n}. [") for n, line in enumerate(items, 1))  # whole items, numbered
    assert all(line.endswith("x [OUT001]") for line in items[1:])
    shown = len(items) - 1  # OUT001 items shown
    assert 0 < shown < 60
    assert last == (f"… {60 - shown} more items ({60 - shown} findings) not shown; "
                    "run expreview for the full list")
    # one more item would not have fit with its count line
    following = f"{len(items) + 1}. " + engine.issue_items(report(many).errors)[len(items)][0]
    one_more = "\n".join(items + [following, f"… {59 - shown} more items ({59 - shown} findings) not shown; "
                                              "run expreview for the full list"])
    assert len(one_more) > ISSUE_BUDGET


def test_the_left_out_count_counts_findings_in_grouped_items(monkeypatch):
    monkeypatch.setattr(engine, "ISSUE_BUDGET", 240)
    rep = report([finding("RUN005", "src/main.py", 1, "m" * 120, "crash")]
                 + [finding("PH002", "config/a.yaml", n, "p" * 50, "criterion") for n in range(1, 5)]
                 + [finding("OUT001", "src/train.py", 9, "o" * 50, "criterion")])
    issue = rep.issue_text()
    assert issue.split("\n") == ["1. [crash] src/main.py:1: " + "m" * 120 + " [RUN005]",
                                 "… 2 more items (5 findings) not shown; run expreview for the full list"]
    assert len(issue) <= 240


def test_a_first_item_over_the_budget_is_still_shown_whole(monkeypatch):
    monkeypatch.setattr(engine, "ISSUE_BUDGET", 50)
    rep = report([finding("RUN005", "src/main.py", 1, "m" * 80, "crash"),
                  finding("OUT001", "src/train.py", 9, "o", "criterion")])
    assert rep.issue_text().split("\n") == [
        "1. [crash] src/main.py:1: " + "m" * 80 + " [RUN005]",
        "… 1 more item (1 finding) not shown; run expreview for the full list"]


def test_a_ready_report_has_an_empty_issue():
    rep = report([finding("CFG005", "config/a.yaml", 1, "a warning", "advice", severity="warning")])
    assert rep.ready and rep.issue_text() == ""


def test_issue_text_is_deterministic_across_input_orders():
    found = [finding("PH002", "config/a.yaml", n, f"placeholder {n}", "criterion") for n in range(1, 9)]
    found += [finding("DEP002", f"src/m{n}.py", n, "x" * 300, "crash") for n in range(20)]
    forward, backward = report(found).issue_text(), report(found[::-1]).issue_text()
    assert forward == backward and forward.endswith("run expreview for the full list")


def test_verdict_of_a_real_bundle_groups_its_findings():
    proc = run_cli("check", str(FIXTURES / "base" / "good"), "--stage", "base", "-o", "orchestration=gpu-queue",
                   "--format", "verdict")
    issue = json.loads(proc.stdout)["base_code_issue"]
    assert issue.startswith("1. [criterion] RUN003 at src/main.py:1 (2 findings), the first: ")
    assert "; also: " in issue and "\n" not in issue


# -- the other reports --------------------------------------------------------------------------

def test_text_lines_show_severity_and_consequence():
    rep = report([finding("RUN005", "src/main.py", 37, "pipes deadlock", "crash"),
                  finding("CFG005", "config/a.yaml", 3, "key unused", "advice", severity="warning")])
    assert text([rep]).splitlines()[:2] == ["config/a.yaml:3:1: CFG005 warning (advice) key unused",
                                            "src/main.py:37:1: RUN005 error (crash) pipes deadlock"]


def test_engine_findings_have_the_consequence_the_reference_gives_them():
    def boom(bundle):
        raise ValueError("boom")
        yield

    broken = Rule("XBAD001", "broken", ("base",), "error", "c", "r", boom, (), ())
    (internal,) = run_contained(broken, Bundle(files={}, stage="base"))
    assert internal.consequence == ENGINE_CONSEQUENCES[internal.code]
    assert set(ENGINE_CONSEQUENCES) == set(engine.ENGINE_CODES)


@pytest.mark.parametrize("code", ["RUN005", "FIG003", "PH002"])
def test_rule_docs_state_each_rule_consequence(code):
    section = rules_markdown().split(f"### {code} ", 1)[1].split("\n### ", 1)[0]
    assert f"**Consequence:** {REGISTRY[code].consequence}." in section
