"""Run a stage's rules over a bundle and aggregate the findings into a report."""
from __future__ import annotations

import gc
from dataclasses import dataclass, field
from typing import Iterable, Optional

from . import baseline as baselines
from . import checks  # noqa: F401  (registers the built-in rules)
from . import suppressions
from expreview.bundle import Bundle
from expreview.findings import ERROR, WARNING, CRITERION, Finding
from expreview.plugins import PLUGIN_CODES, load_plugins
from expreview.profiles import Profile, ProfileError, load_profile
from expreview.rule import REGISTRY, Rule

INTERNAL_ERROR = "INT001"
# Findings the engine itself reports (they belong to no rule's check).
ENGINE_CODES = {
    INTERNAL_ERROR: ("error", "a rule failed internally; its checks did not run"),
    suppressions.UNUSED_SUPPRESSION: ("warning", "an `# expreview: ignore[…]` comment suppresses nothing"),
    baselines.STALE_ENTRY: ("warning", "a baseline entry no longer matches any finding"),
}


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
    load_plugins()
    select, ignore = tuple(select), tuple(ignore)
    chosen = []
    plugins = sorted(c for c in PLUGIN_CODES if profile.stage in REGISTRY[c].stages and c not in profile.rules)
    for code in list(profile.rules) + plugins:
        if select and not code.startswith(select):
            continue
        if ignore and code.startswith(ignore):
            continue
        chosen.append(REGISTRY[code])
    return chosen


def review_bundle(bundle: Bundle, *args, **kwargs) -> Report:
    """Review `bundle` with its stage's profile (see `_review` for the arguments).

    Parsing allocates millions of small, acyclic objects; the cyclic collector would traverse them
    again and again while they are alive. It is paused for the review (reference counting still
    frees everything) and restored afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _review(bundle, *args, **kwargs)
    finally:
        if enabled:
            gc.enable()


def _review(
    bundle: Bundle,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    severities: Optional[dict[str, str]] = None,
    rules: Optional[list[Rule]] = None,
    baseline: Optional[list[dict]] = None,
) -> Report:
    stage = bundle.stage
    if stage is None:
        raise ProfileError("the bundle's stage is not decided; decide it first (inputs.loaders.decide_stage)")
    profile = load_profile(stage)
    bundle.options = {**profile.options, **bundle.options}
    if rules is None:
        rules = selected_rules(profile, select, ignore)
    severities = severities or {}
    findings: list[Finding] = list(bundle.load_findings)
    for rule in rules:
        findings.extend(run_contained(rule, bundle, _severity(severities, rule.code)))
    findings = list({(f.code, f.path, f.line, f.column, f.message): f for f in findings}.values())
    findings = suppressions.apply(bundle, findings, {r.code for r in rules})
    if baseline is not None:
        findings = baselines.apply(bundle, findings, baseline, bundle.source)
    ordered = sorted(findings, key=Finding.sort_key)
    return Report(stage, ordered, profile.ready_key, profile.issue_key, bundle.source, list(bundle.notes),
                  bundle.root)


def _severity(overrides: dict[str, str], code: str) -> Optional[str]:
    """The override for `code`, by exact code first, then by the longest matching prefix."""
    for key in sorted(overrides, key=len, reverse=True):
        if code.startswith(key):
            return overrides[key]
    return None


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
            consequence=CRITERION,  # the review is incomplete: not the project's crash, but it blocks
        )]
