"""Run a stage's rules over a bundle and aggregate the findings into a report."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from . import checks  # noqa: F401  (registers the built-in rules)
from .bundle import Bundle
from .findings import ERROR, WARNING, Finding
from .profiles import Profile, load_profile
from .rule import REGISTRY, Rule

INTERNAL_ERROR = "INT001"


@dataclass
class Report:
    stage: str
    findings: list[Finding]
    ready_key: str
    issue_key: str
    source: str = ""
    notes: list[str] = field(default_factory=list)
    # The bundle's directory relative to the working directory (POSIX), when it is one on disk;
    # "" otherwise. Reporters for CI prefix it to make paths repository-relative.
    root: str = ""

    def repo_path(self, path: str) -> str:
        return f"{self.root}/{path}" if self.root and self.root != "." else path

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    @property
    def ready(self) -> bool:
        return not self.errors

    def issue_text(self) -> str:
        """The blocking findings as a numbered list a code generator can act on."""
        lines = []
        for number, f in enumerate(self.errors, 1):
            lines.append(f"{number}. {f.path}:{f.line}: {f.message} [{f.code}]")
        return "\n".join(lines)

    def verdict(self) -> dict:
        return {self.ready_key: self.ready, self.issue_key: self.issue_text()}

    def as_dict(self) -> dict:
        return {
            "stage": self.stage,
            "ready": self.ready,
            "verdict": self.verdict(),
            "findings": [f.as_dict() for f in self.findings],
        }


def selected_rules(profile: Profile, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Rule]:
    select, ignore = tuple(select), tuple(ignore)
    chosen = []
    for code in profile.rules:
        if select and not code.startswith(select):
            continue
        if ignore and code.startswith(ignore):
            continue
        chosen.append(REGISTRY[code])
    return chosen


def review_bundle(
    bundle: Bundle,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    severities: Optional[dict[str, str]] = None,
    rules: Optional[list[Rule]] = None,
) -> Report:
    profile = load_profile(bundle.stage)
    bundle.options = {**profile.options, **bundle.options}
    if rules is None:
        rules = selected_rules(profile, select, ignore)
    severities = severities or {}
    findings: list[Finding] = list(bundle.load_findings)
    for rule in rules:
        findings.extend(run_contained(rule, bundle, severities.get(rule.code)))
    unique = {(f.code, f.path, f.line, f.column, f.message): f for f in findings}
    ordered = sorted(unique.values(), key=Finding.sort_key)
    return Report(bundle.stage, ordered, profile.ready_key, profile.issue_key, bundle.source, list(bundle.notes),
                  bundle.root)


def run_contained(rule: Rule, bundle: Bundle, severity: Optional[str] = None) -> list[Finding]:
    """A rule that raises costs its own findings, never the others'."""
    try:
        return rule.run(bundle, severity)
    except Exception as exc:  # noqa: BLE001 - containment is the point
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        return [Finding(
            INTERNAL_ERROR, ERROR, "(expreview)", 1, 1, 1, 1,
            f"internal error in rule {rule.code} ({rule.name}): {detail}; its checks did not run, "
            "so this bundle was not fully reviewed. Please report this to the expreview maintainers",
        )]
