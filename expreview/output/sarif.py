"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run for all the reports given. `tool.driver.rules` describes every registered rule (sorted by
code), plus any engine code (internal error, unused suppression, stale baseline entry) that a
result uses. Each descriptor's `properties` give the rule's consequence (crash, criterion, advice:
`consequence` and a `consequence:<c>` tag); each result's `properties.consequence` is its finding's
(a rule may give some findings another consequence than its own). Locations are
repository-relative URIs (`Report.repo_path`, percent-encoded) under
`uriBaseId: "%SRCROOT%"`; no `originalUriBaseIds` is written, so the output holds nothing
machine-specific and is byte-identical across runs and machines (sorted keys, 2-space indent).

Internal errors (findings of the pseudo path "(expreview)") are not results: GitHub code scanning
rejects a whole upload when one result has no location. They go to
`invocations[0].toolExecutionNotifications`, and `executionSuccessful` is false.

Fingerprints: `partialFingerprints["expreview/v1"]` is sha256(code, repository path, message)
followed by `:n`, the result's ordinal among results of that hash in the run (as GitHub's own
`primaryLocationLineHash` does). A reporter has no file text, so the source line cannot be hashed.
Some messages point at other lines (`defined at src/model.py:12`, `started at line 40`); those
numbers are replaced by `#` before hashing (`fingerprint_text`), so the fingerprint does not move
when lines are inserted above, and results elsewhere do not change it. Editing the flagged code so
that the message changes otherwise gives a new fingerprint, the intended behaviour for a new issue."""
from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

from expreview import checks, engine
from expreview.docs import engine_consequence
from expreview.engine import Report
from expreview.findings import ERROR, Finding
from expreview.output.github import is_internal
from expreview.rule import REGISTRY, Rule
from expreview.version import __version__

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/expreview/"
FINGERPRINT_KEY = "expreview/v1"
SRCROOT = "%SRCROOT%"


def _fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    return "`" * (longest + 1)


def _example_markdown(title: str, example) -> list[str]:
    out = [f"**{title}**", ""]
    for path, text in example.files.items():
        fence = _fence(text)
        lang = {".py": "python", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml"}.get(path[path.rfind("."):], "")
        out += [f"`{path}`", "", f"{fence}{lang}", text.rstrip("\n"), fence, ""]
    if example.options:
        out += ["Options: " + ", ".join(f"`{k}={v}`" for k, v in example.options.items()), ""]
    return out


def rule_descriptor(rule: Rule) -> dict:
    explain = f"Run `expreview explain {rule.code}` for a failing and a passing example."
    markdown = [f"**Criterion.** {rule.criterion}", "", f"**Why it matters and how to fix it.** {rule.rationale}", ""]
    if rule.invalid:
        markdown += _example_markdown("Fails", rule.invalid[0])
    if rule.valid:
        markdown += _example_markdown("Passes", rule.valid[0])
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.criterion},
        "help": {
            "text": f"{rule.rationale}\n\nCriterion: {rule.criterion}\n\n{explain}",
            "markdown": "\n".join(markdown).rstrip("\n") + "\n",
        },
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": {
            "consequence": rule.consequence,
            "tags": ["expreview", rule.family, f"consequence:{rule.consequence}"] + [f"stage:{s}" for s in rule.stages],
        },
    }


def engine_descriptor(code: str) -> dict:
    """A code the engine reports itself (no rule in REGISTRY)."""
    severity, summary = getattr(engine, "ENGINE_CODES", {}).get(code, (ERROR, f"expreview {code}"))
    consequence = engine_consequence(code)
    return {
        "id": code,
        "name": f"expreview-{code.lower()}",
        "shortDescription": {"text": summary},
        "fullDescription": {"text": summary},
        "help": {"text": summary},
        "defaultConfiguration": {"level": _level(severity)},
        "properties": {
            "consequence": consequence,
            "tags": ["expreview", code.rstrip("0123456789"), f"consequence:{consequence}"],
        },
    }


def _level(severity: str) -> str:
    return "error" if severity == ERROR else "warning"


def artifact_uri(report: Report, finding: Finding) -> tuple[str, bool]:
    """(uri, relative): the percent-encoded repository-relative POSIX path, or a file: URI when the
    bundle lies outside the working directory on another drive (its root is then absolute)."""
    path = report.repo_path(finding.path).replace("\\", "/")
    if re.match(r"^[A-Za-z]:/", path):
        return "file:///" + quote(path, safe="/:"), False
    if path.startswith("/"):
        return "file://" + quote(path, safe="/"), False
    return quote(path, safe="/"), True


def region(finding: Finding) -> dict:
    """1-based; endColumn is exclusive in SARIF as in expreview. Inconsistent ends are dropped."""
    line, column = max(1, finding.line), max(1, finding.column)
    out = {"startLine": line, "startColumn": column}
    if finding.end_line > line:
        out["endLine"] = finding.end_line
        out["endColumn"] = max(1, finding.end_column)
    elif finding.end_line == line and finding.end_column >= column:
        out["endLine"] = line
        out["endColumn"] = finding.end_column
    return out


# `line 12`, `lines 4, 6 and 9`, `line 3-5`; and `path.py:12` / `Dockerfile:3-4` (a location)
_LINE_WORDS = re.compile(r"\b(lines?) \d+(?:(?:, | and | or |-|–)\d+)*\b")
_PATH_LINES = re.compile(r"(\.(?:py|pyi|ya?ml|toml|cfg|ini|txt|json|sh)|Dockerfile):\d+(?:[-–]\d+)?\b")


def fingerprint_text(message: str) -> str:
    """`message` with the line numbers it quotes replaced by `#`."""
    return _PATH_LINES.sub(r"\1:#", _LINE_WORDS.sub(r"\1 #", message))


def fingerprint(report: Report, finding: Finding) -> str:
    key = "\0".join((finding.code, report.repo_path(finding.path), fingerprint_text(finding.message)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def render(reports: list[Report]) -> str:
    return json.dumps(sarif_log(reports), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def sarif_log(reports: list[Report]) -> dict:
    located = [(r, f) for r in reports for f in r.findings if not is_internal(f)]
    internal = [f for r in reports for f in r.findings if is_internal(f)]

    checks.load_all()  # the log describes every rule, not only the ones this stage ran
    descriptors = {code: rule_descriptor(rule) for code, rule in REGISTRY.items()}
    for _, f in located:
        if f.code not in descriptors:
            descriptors[f.code] = engine_descriptor(f.code)
    codes = sorted(descriptors)
    index = {code: i for i, code in enumerate(codes)}

    results = []
    seen: dict[str, int] = {}  # fingerprint -> how many results carry it so far
    for report, f in located:
        uri, relative = artifact_uri(report, f)
        artifact = {"uri": uri, "uriBaseId": SRCROOT} if relative else {"uri": uri}
        digest = fingerprint(report, f)
        seen[digest] = seen.get(digest, 0) + 1
        results.append({
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": _level(f.severity),
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {"artifactLocation": artifact, "region": region(f)}}],
            "partialFingerprints": {FINGERPRINT_KEY: f"{digest}:{seen[digest]}"},
            "properties": {"consequence": f.consequence},
        })

    invocation: dict = {"executionSuccessful": not internal}
    if internal:
        invocation["toolExecutionNotifications"] = [
            {"level": _level(f.severity), "message": {"text": f.message}, "descriptor": {"id": f.code}}
            for f in internal
        ]

    run = {
        "tool": {"driver": {
            "name": "expreview",
            "informationUri": INFORMATION_URI,
            "version": __version__,
            "semanticVersion": __version__,
            "rules": [descriptors[code] for code in codes],
        }},
        "columnKind": "unicodeCodePoints",
        "invocations": [invocation],
        "results": results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
