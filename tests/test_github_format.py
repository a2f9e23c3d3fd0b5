"""`--format github`: workflow-command annotations and the markdown job summary."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, run_cli
from expreview.output import github as github_format
from expreview.engine import Report
from expreview.findings import Finding

GOLDEN = Path(__file__).resolve().parent / "golden"
# EXPREVIEW_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing (review the diff!).
UPDATE = os.environ.get("EXPREVIEW_UPDATE_GOLDEN") == "1"


def report(findings, root="", source="", stage="base", notes=()):
    return Report(stage=stage, findings=list(findings), ready_key=f"is_{stage}_code_ready",
                  issue_key=f"{stage}_code_issue", source=source, notes=list(notes), root=root)


def sample_reports() -> list[Report]:
    """Every case the renderer must get right, in an order that is not the output's order."""
    first = report([
        # warnings before errors in the input; the output lists errors first
        Finding("CFG005", "warning", "config/a:b,c.yaml", 3, 5, 3, 9, "key `lr` is unused: remove it, or read it",
                consequence="advice"),
        Finding("RUN005", "error", "src/main.py", 37, 16, 41, 1,
                "100% blocked\r\nnext line: a, b :: c", consequence="crash"),  # multi-line range: no columns
        Finding("CFG003", "error", "config/smoke_test.yaml", 21, 8, 21, 14, "`1e-3` is read as a string",
                consequence="crash"),
        Finding("PY001", "error", "src/train.py", 5, 9, 5, 3, "end before start: columns are dropped",
                consequence="crash"),
        Finding("INT001", "error", "(expreview)", 1, 1, 1, 1,
                "internal error in rule X (x): ValueError: a, b: c\nsecond line"),
    ], root="experiments/run 1", source="experiments/run 1", notes=["stage base from --stage"])
    second = report([
        Finding("SUP001", "warning", "src/model.py", 2, 1, 2, 1, "`# expreview: ignore` suppresses nothing",
                consequence="advice"),
        Finding("DEP002", "error", "src/evaluate.py", 16, 1, 16, 12, "`scipy` | not declared", consequence="crash"),
    ], root=".", source="other")
    return [first, second]


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert text == path.read_bytes().decode("utf-8")


def test_render_matches_golden():
    check_golden("github.txt", github_format.render(sample_reports()))


def test_render_details():
    lines = github_format.render(sample_reports()).splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == 7 and len(lines) == 9
    # errors of every report first, then warnings
    assert [c.split(" ", 1)[0] for c in commands] == ["::error"] * 5 + ["::warning"] * 2
    titles = [c.split("title=")[1].split("::")[0] for c in commands]
    # the title names the code and the finding's consequence
    # errors by consequence (crash first), then warnings
    assert titles == ["expreview RUN005 (crash)", "expreview CFG003 (crash)", "expreview PY001 (crash)",
                      "expreview DEP002 (crash)", "expreview INT001 (criterion)", "expreview CFG005 (advice)",
                      "expreview SUP001 (advice)"]
    run, cfg, py, dep, internal, unused, sup = commands
    # data escaping: %, CR, LF; ':' and ',' stay in the message
    assert run.endswith("::100%25 blocked%0D%0Anext line: a, b :: c")
    # multi-line range: endLine, no columns; the root is prefixed
    assert run.startswith("::error file=experiments/run 1/src/main.py,line=37,endLine=41,title=")
    # single-line range: columns, no endLine
    assert cfg.startswith("::error file=experiments/run 1/config/smoke_test.yaml,line=21,col=8,endColumn=14,")
    # endColumn before col: columns dropped
    assert py.startswith("::error file=experiments/run 1/src/train.py,line=5,title=")
    # internal: no location at all
    assert internal == "::error title=expreview INT001 (criterion)::internal error in rule X (x): ValueError: a, b: c%0Asecond line"
    # property escaping in a path
    assert unused.startswith("::warning file=experiments/run 1/config/a%3Ab%2Cc.yaml,line=3,col=5,endColumn=9,")
    # root "." adds nothing
    assert dep.startswith("::error file=src/evaluate.py,line=16,col=1,endColumn=12,")
    assert sup.startswith("::warning file=src/model.py,line=2,col=1,endColumn=1,")
    assert lines[-2:] == [
        "expreview: experiments/run 1: 4 errors, 1 warning (stage base from --stage): not ready",
        "expreview: other: 1 error, 1 warning (stage base): not ready",
    ]


def test_escaping_matches_the_toolkit():
    assert github_format.escape_data("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad:e,f"
    assert github_format.escape_property("a%b\rc\nd:e,f") == "a%25b%0Dc%0Ad%3Ae%2Cf"
    # '%' first: an already escaped-looking value is escaped again, not passed through
    assert github_format.escape_property("%3A") == "%253A"


def test_no_line_of_a_message_can_start_a_command():
    evil = report([Finding("PY001", "error", "src/x.py", 1, 1, 1, 2, "x\n::add-mask::secret\r::stop-commands::t")])
    lines = github_format.render([evil]).splitlines()
    assert len(lines) == 2 and lines[0].startswith("::error ") and lines[1].startswith("expreview: ")


def test_clean_report_is_one_summary_line():
    assert github_format.render([report([])]) == "expreview: 0 errors, 0 warnings (stage base): ready\n"


def test_step_summary_matches_golden():
    check_golden("github_summary.md", github_format.step_summary(sample_reports()))


def test_step_summary_lists_every_finding():
    many = report([Finding("PY001", "warning", "src/x.py", n, 1, n, 2, f"finding {n}") for n in range(1, 31)])
    text = github_format.step_summary([many])
    assert all(f"| `src/x.py:{n}` | finding {n} |" in text for n in range(1, 31))
    assert "0 errors, 30 warnings" in text and "ready" in text


def test_step_summary_escapes_table_cells():
    text = github_format.step_summary(sample_reports())
    assert r"`scipy` \| not declared" in text
    assert "100% blocked<br>next line: a, b :: c" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    # every row has exactly the table's 5 cells: 6 unescaped pipes
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 6 for row in rows), rows


def test_step_summary_stays_under_the_limit(monkeypatch):
    monkeypatch.setattr(github_format, "SUMMARY_BUDGET", 2_000)
    many = report([Finding("PY001", "error", "src/x.py", n, 1, n, 2, "x" * 100) for n in range(1, 101)])
    text = github_format.step_summary([many])
    assert len(text.encode()) < 2_400
    assert "more findings not shown" in text


def test_write_step_summary_appends(tmp_path):
    target = tmp_path / "summary.md"
    target.write_text("# earlier step\n", encoding="utf-8")
    reports = sample_reports()
    assert github_format.write_step_summary(reports, environ={"GITHUB_STEP_SUMMARY": str(target)})
    assert github_format.write_step_summary(reports, environ={"GITHUB_STEP_SUMMARY": str(target)})
    expected = github_format.step_summary(reports)
    assert target.read_text(encoding="utf-8") == "# earlier step\n" + expected + expected


def test_write_step_summary_without_the_variable_does_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert not github_format.write_step_summary(sample_reports(), environ={})
    assert not github_format.write_step_summary(sample_reports(), environ={"GITHUB_STEP_SUMMARY": ""})
    assert list(tmp_path.iterdir()) == []


def test_write_step_summary_unwritable_warns(tmp_path, capsys):
    target = tmp_path / "missing-dir" / "summary.md"
    assert not github_format.write_step_summary(sample_reports(), environ={"GITHUB_STEP_SUMMARY": str(target)})
    assert "could not write the job summary" in capsys.readouterr().err


def test_real_fixture(monkeypatch, variants):
    from expreview.engine import review_bundle
    from expreview.inputs.loaders import decide_stage, load_path

    variants("base", "pipe-deadlock")
    monkeypatch.chdir(variants.root)
    bundle = load_path("base/pipe-deadlock")
    decide_stage(bundle, "base")
    out = github_format.render([review_bundle(bundle)])
    assert out.startswith("::error file=base/pipe-deadlock/src/main.py,line=37,endLine=41,"
                          "title=expreview RUN005 (crash)::`proc` pipes both stdout and stderr")


def test_cli_format_github(tmp_path, variants):
    from expreview.output.formats import RENDERERS

    if "github" not in RENDERERS:
        pytest.skip("--format github is not registered in expreview.output.formats yet")
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    variants("base", "pipe-deadlock")
    proc = run_cli("check", "base/pipe-deadlock", "--stage", "base", "--format", "github",
                   cwd=variants.root, env=env)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines()[0].startswith(
        "::error file=base/pipe-deadlock/src/main.py,line=37,endLine=41,title=expreview RUN005 (crash)::")
    good = run_cli("check", str(FIXTURES / "base" / "good"), "--stage", "base", "--format", "github",
                   cwd=REPO, env=env)
    assert good.returncode == 0 and not any(line.startswith("::") for line in good.stdout.splitlines())
    if summary.exists():  # written once the CLI calls write_step_summary
        text = summary.read_text(encoding="utf-8")
        assert "RUN005" in text and "expreview: ready" in text


def test_annotations_put_crashes_first_and_stay_within_githubs_limits():
    kinds = ["advice", "criterion", "crash"]
    errors = [Finding(f"PY00{i % 3 + 1}", "error", f"src/m{i:02}.py", 1, 1, 1, 2, f"error {i}",
                      consequence=kinds[i % 3]) for i in range(25)]
    warnings = [Finding("CFG005", "warning", f"config/w{i:02}.yaml", 1, 1, 1, 2, f"warning {i}",
                        consequence="advice") for i in range(12)]
    lines = github_format.render([report(errors + warnings)]).splitlines()
    shown = [line for line in lines if line.startswith("::error ")]
    assert len(shown) == 10 and len([line for line in lines if line.startswith("::warning ")]) == 10
    # all 8 crash findings first, then criterion ones, in path order within each
    consequences = [re.search(r"\((\w+)\)::", line).group(1) for line in shown]
    assert consequences == ["crash"] * 8 + ["criterion"] * 2
    assert [line.rsplit("::", 1)[1] for line in shown[:3]] == ["error 2", "error 5", "error 8"]
    (notice,) = [line for line in lines if line.startswith("::notice")]
    assert "15 more errors and 2 more warnings" in notice and "summary" in notice
    assert lines.index(notice) < lines.index(next(line for line in lines if line.startswith("expreview:")))


def test_no_notice_within_the_limits():
    findings = [Finding("PY001", "error", "src/a.py", i, 1, i, 2, "x", consequence="crash") for i in range(1, 11)]
    assert not any(line.startswith("::notice") for line in github_format.render([report(findings)]).splitlines())
