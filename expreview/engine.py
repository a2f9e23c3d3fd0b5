"""Run a stage's rules over a bundle and aggregate the findings into a report."""
from __future__ import annotations

import gc
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Optional

from . import baseline as baselines
from . import checks
from . import suppressions
from expreview.bundle import Bundle
from expreview.errors import LoadError
from expreview.findings import ADVICE, CRASH, CRITERION, ERROR, WARNING, Finding
from expreview.plugins import PLUGIN_CODES, load_plugins
from expreview.profiles import Profile, ProfileError, load_profile
from expreview.versions import VersionGroup, detect_in_files
from expreview.rule import REGISTRY, Rule

INTERNAL_ERROR = "INT001"
# Findings the engine itself reports (they belong to no rule's check).
ENGINE_CODES = {
    INTERNAL_ERROR: ("error", "a rule failed internally; its checks did not run"),
    suppressions.UNUSED_SUPPRESSION: ("warning", "an `# expreview: ignore[…]` comment suppresses nothing"),
    suppressions.UNKNOWN_CODE: ("warning", "an `# expreview: ignore[…]` comment names a code that does not exist"),
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
    prompt_version: Optional[str] = None  # the version group judged by (None: the stage has none)

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
        """The blocking findings as a numbered list a code generator can act on, top to bottom.

        Crash findings first, then criterion ones, then advice (an advice rule made an error), each
        in report order. One item per (consequence, rule, file): one finding reads
        `N. [crash] path:line: message [CODE]`; several read
        `N. [criterion] CODE at path:l1, l2, l3 (3 findings), the first at line l1: message`
        (`…(3 findings): message` when their messages are all the same; `…; also at line l2: message`
        for the first finding of each other kind, see `_kind`). Whole items are cut to stay within
        ISSUE_BUDGET characters, and a last line counts what was left out. The first item is always
        shown: only a first item longer than the budget itself can exceed it."""
        items = issue_items(self.errors)
        return fit_items([text for text, _ in items], [count for _, count in items], ISSUE_BUDGET)

    def verdict(self) -> dict:
        return {self.ready_key: self.ready, self.issue_key: self.issue_text()}

    def as_dict(self) -> dict:
        return {
            "stage": self.stage,
            "prompt_version": self.prompt_version,
            "ready": self.ready,
            "verdict": self.verdict(),
            "findings": [f.as_dict() for f in self.findings],
        }


# The verdict's issue text: at most this many characters (whole items are cut, see Report.issue_text),
# and at most this many line numbers listed in one grouped item.
ISSUE_BUDGET = 4_000
ISSUE_GROUP_LINES = 20
# A grouped item quotes the first message of each kind its findings are of (see `_kind`), this many at most.
ISSUE_GROUP_KINDS = 3
# Blocking findings in the order a code generator should fix them (unknown consequences last).
CONSEQUENCE_ORDER = (CRASH, CRITERION, ADVICE)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' * (count != 1)}"


def _kind(message: str) -> str:
    """What a message says apart from the names and numbers it quotes: findings of one rule that
    differ only there are the same kind (`placeholder `A` …` and `placeholder `B` …`)."""
    return re.sub(r"`[^`]*`|'[^'\s]*'|\"[^\"\s]*\"|\d+", "…", message)


def issue_items(errors: list[Finding]) -> list[tuple[str, int]]:
    """(item text, findings in it) for `errors`: grouped by (consequence, rule, file), ordered by
    consequence (CONSEQUENCE_ORDER), then by each group's first finding in `errors`."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for f in errors:
        groups.setdefault((f.consequence, f.code, f.path), []).append(f)
    rank = {c: n for n, c in enumerate(CONSEQUENCE_ORDER)}
    ordered = sorted(groups.values(), key=lambda g: rank.get(g[0].consequence, len(rank)))  # stable
    items = []
    for group in ordered:
        first = group[0]
        if len(group) == 1:
            text = f"[{first.consequence}] {first.path}:{first.line}: {first.message} [{first.code}]"
            items.append((text, 1))
            continue
        lines = list(dict.fromkeys(f.line for f in group))
        where = ", ".join(str(n) for n in lines[:ISSUE_GROUP_LINES])
        if len(lines) > ISSUE_GROUP_LINES:
            where += f" and {_plural(len(lines) - ISSUE_GROUP_LINES, 'more line')}"
        if all(f.message == first.message for f in group):
            what = f": {first.message}"
        else:
            firsts: dict[str, Finding] = {}
            for f in group:
                firsts.setdefault(_kind(f.message), f)
            kinds = list(firsts.values())
            what = ""
            for n, f in enumerate(kinds[:ISSUE_GROUP_KINDS]):
                at = "" if len(lines) == 1 else f" at line {f.line}"
                what += f"{', the first' if n == 0 else '; also'}{at}: {f.message}"
            if len(kinds) > ISSUE_GROUP_KINDS:
                what += f"; and {_plural(len(kinds) - ISSUE_GROUP_KINDS, 'more kind')}"
        items.append((f"[{first.consequence}] {first.code} at {first.path}:{where} "
                      f"({_plural(len(group), 'finding')}){what}", len(group)))
    return items


def fit_items(texts: list[str], counts: list[int], budget: int) -> str:
    """`texts` numbered 1., 2., … one a line, as many whole ones as fit in `budget` characters with
    a last line counting the items (and the findings in them) left out. The first is always kept."""
    numbered = [f"{n}. {text}" for n, text in enumerate(texts, 1)]
    whole = "\n".join(numbered)
    if len(whole) <= budget:
        return whole

    def rest(shown: int) -> str:
        left = len(texts) - shown
        return (f"… {_plural(left, 'more item')} ({_plural(sum(counts[shown:]), 'finding')}) not shown; "
                "run expreview for the full list")

    shown, used = 1, len(numbered[0])
    while shown < len(texts) and used + 1 + len(numbered[shown]) + 1 + len(rest(shown + 1)) <= budget:
        used += 1 + len(numbered[shown])
        shown += 1
    return "\n".join(numbered[:shown] + [rest(shown)])


def selected_rules(profile: Profile, select: Iterable[str] = (), ignore: Iterable[str] = (),
                   version: Optional[VersionGroup] = None) -> list[Rule]:
    """The rules a review runs: the stage's, as the prompt version changes them, then plugins'."""
    load_plugins()
    select, ignore = tuple(select), tuple(ignore)
    chosen = []
    listed = list(profile.rules)
    if version is not None:
        listed = [c for c in listed if c not in version.off] + [c for c in version.on if c not in listed]
    checks.load(listed)
    plugins = sorted(c for c in PLUGIN_CODES if profile.stage in REGISTRY[c].stages and c not in listed)
    for code in listed + plugins:
        if select and not code.startswith(select):
            continue
        if ignore and code.startswith(ignore):
            continue
        chosen.append(REGISTRY[code])
    return chosen


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused, then restored as it was.

    Parsing allocates millions of small, acyclic objects; the cyclic collector would traverse them
    again and again while they are alive (reference counting still frees everything). Only a
    process that expreview owns pauses it (the CLI, the benchmarks): `review_bundle` itself leaves
    a host's collector alone, since pausing it would also pause it for the host's other threads."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def review_bundle(
    bundle: Bundle,
    select: Iterable[str] = (),
    ignore: Iterable[str] = (),
    severities: Optional[dict[str, str]] = None,
    rules: Optional[list[Rule]] = None,
    baseline: Optional[list[dict]] = None,
    baseline_key: Optional[str] = None,
) -> Report:
    """Review `bundle` (its stage decided) with its stage's profile and prompt version; `baseline_key`
    names the bundle in `baseline` (default: its source)."""
    stage = bundle.stage
    if stage is None:
        raise ProfileError("the bundle's stage is not decided; decide it first (inputs.loaders.decide_stage)")
    profile = load_profile(stage)
    if bundle.prompt_version is None:
        found = detect_in_files(profile.versions, bundle.files)
        if found is not None:
            bundle.prompt_version = found.group
            bundle.notes.append(found.how)
    version = profile.version(bundle.prompt_version)
    if version is not None and bundle.prompt_version is None:
        bundle.prompt_version = version.group
        bundle.notes.append(f"prompt version {version.group}, the stage's newest")
    asked = version.options if version is not None else {}
    bundle.options = {**profile.options, **asked, **bundle.options}
    if rules is None:
        rules = selected_rules(profile, select, ignore, version)
    comparing = [r.code for r in rules if r.code.startswith(profile.base_rules)] if profile.base_rules else []
    if comparing and bundle.base is None:
        raise LoadError(f"{bundle.source or 'input'}: stage {stage} compares the bundle with the base it was made "
                        f"from ({', '.join(comparing)}), and no base was given; pass --base PATH (or set "
                        "base = \"…\" in [tool.expreview], or base= in the Python API)")
    severities = {**(version.severity if version is not None else {}), **(severities or {})}
    findings: list[Finding] = list(bundle.load_findings)
    for rule in rules:
        findings.extend(run_contained(rule, bundle, _severity(severities, rule.code)))
    findings = list({(f.code, f.path, f.line, f.column, f.message): f for f in findings}.values())
    findings = suppressions.apply(bundle, findings, {r.code for r in rules}, all_codes)
    if baseline is not None:
        findings = baselines.apply(bundle, findings, baseline, baseline_key or bundle.source)
    ordered = sorted(findings, key=Finding.sort_key)
    return Report(stage, ordered, profile.ready_key, profile.issue_key, bundle.source, list(bundle.notes),
                  bundle.root, version.group if version is not None else None)


def all_codes() -> set[str]:
    """Every rule's code (all families loaded: a code of another stage is still a code) and the
    engine's own."""
    checks.load_all()
    return set(REGISTRY) | set(ENGINE_CODES)


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
