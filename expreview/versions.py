"""Prompt versions: the groups of a stage's reviewer prompt (rules/<stage>.yaml `versions`, from
../shared/PROMPT_VERSIONS.md), what each group changes in the stage's profile, and which group a
logged prompt is.

A prompt is matched on its instruction region only (the text after `Input:`, cut at the first
research heading, whitespace collapsed), so phrases in the generated code cannot fool the test. The
groups are tried newest first and the first whose marker the region holds wins; that group's
identifying set (phrases that must be present or absent) confirms it. A prompt that no group
confirms is an unknown variant, judged as the group whose identifying set it matches best."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Optional

# Lines that end the instructions: what follows describes the research, not the review.
_REGION_END = re.compile(r"^(# Current Research Method|# Hypothesis|# Research Hypothesis)\s*$", re.M)
_INPUT = re.compile(r"^Input:\s*", re.M)
_SPACE = re.compile(r"\s+")


class VersionError(ValueError):
    """A `versions` entry of a profile that is not well formed."""


@dataclass(frozen=True)
class VersionGroup:
    """One prompt version group and what it changes in its stage's profile."""
    group: str
    marker: str  # the ordered test phrase (normalised whitespace)
    present: tuple[str, ...] = ()  # the rest of its identifying set: phrases that must be there...
    absent: tuple[str, ...] = ()  # ...and phrases that must not
    options: dict[str, Any] = field(default_factory=dict)  # option values this version asked for
    off: tuple[str, ...] = ()  # `rules_off`: rules of the stage whose criterion this version did not ask
    on: tuple[str, ...] = ()  # `rules_on`: rules the stage does not list that this version asks for
    severity: dict[str, str] = field(default_factory=dict)  # rule -> severity for this version
    note: str = ""
    # Phrases that tell this group from a repository's own files, for stages whose prompts are not
    # logged (the template stage: the generator's instructions leave names such as `sanity_check`
    # in the code). All of them must occur in the bundle's code or configs.
    in_files: tuple[str, ...] = ()

    def conditions(self) -> list[tuple[str, bool]]:
        return [(self.marker, True)] + [(p, True) for p in self.present] + [(p, False) for p in self.absent]

    def score(self, region: str) -> tuple[int, int]:
        """(how many conditions of the identifying set hold, how many there are)."""
        conditions = self.conditions()
        return sum((phrase in region) == wanted for phrase, wanted in conditions), len(conditions)

    def identifies(self, region: str) -> bool:
        held, total = self.score(region)
        return held == total


@dataclass(frozen=True)
class Detected:
    group: str
    how: str  # what the group was told from, for the report
    exact: bool  # False: an unknown variant (or a conflict), judged as the nearest group


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def instruction_region(prompt: str) -> str:
    """The prompt's instructions, whitespace collapsed: after `Input:`, before the research."""
    start = _INPUT.search(prompt)
    text = prompt[start.end():] if start else prompt
    end = _REGION_END.search(text)
    return normalise(text[: end.start()] if end else text)


def detect(groups: tuple[VersionGroup, ...], prompt: str) -> Optional[Detected]:
    """Which group a logged prompt is (None when the stage has no version groups)."""
    if not groups:
        return None
    region = instruction_region(prompt)
    first = next((g for g in groups if g.marker in region), None)
    if first is not None and first.identifies(region):
        others = [g.group for g in groups if g is not first and g.identifies(region)]
        if not others:
            return Detected(first.group, f"prompt version {first.group} detected from the marker `{first.marker}`",
                            True)
        return Detected(first.group, f"prompt version {first.group} detected from the marker `{first.marker}`, "
                                     f"but the prompt also fits {', '.join(others)} (a conflict)", False)
    # An unknown variant: the group whose identifying set it matches best (newest first on a tie).
    best = max(groups, key=lambda g: (g.score(region)[0] / g.score(region)[1], -groups.index(g)))
    held, total = best.score(region)
    return Detected(best.group, f"unknown prompt version (no version group's markers fit); judged as the nearest "
                                f"group {best.group}, which matches {held} of its {total} markers", False)


def detect_in_files(groups: tuple[VersionGroup, ...], files: dict[str, str]) -> Optional[Detected]:
    """The newest group whose `in_files` phrases all occur in the bundle's Python or YAML files;
    None when no group names any, or none fits (then the stage's newest applies)."""
    texts = sorted((path, text) for path, text in files.items() if path.endswith((".py", ".yaml", ".yml")))
    for group in groups:
        if not group.in_files:
            continue
        where = [next((path for path, text in texts if phrase in text), None) for phrase in group.in_files]
        if all(where):
            found = ", ".join(f"`{phrase}` in {path}" for phrase, path in zip(group.in_files, where))
            return Detected(group.group, f"prompt version {group.group} detected from {found}", True)
    return None


def parse_groups(where: str, data: Any, rules: tuple[str, ...]) -> tuple[VersionGroup, ...]:
    """The `versions` list of a profile, checked: unique groups, known rule codes for `off`."""
    if data is None:
        return ()
    if not isinstance(data, list):
        raise VersionError(f"{where}: `versions` must be a list of groups, newest first")
    groups: list[VersionGroup] = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("group"), str) or not entry.get("marker"):
            raise VersionError(f"{where}: each version needs a `group` name and a `marker` phrase: {entry!r}")
        unknown = set(map(str, entry)) - {"group", "marker", "present", "absent", "options", "rules_off", "rules_on",
                                          "severity", "note", "in_files"}
        if unknown:
            raise VersionError(f"{where}: version {entry['group']}: unknown key(s) {', '.join(sorted(unknown))}")
        off = tuple(entry.get("rules_off") or ())
        stray = [code for code in off if code not in rules]
        if stray:
            raise VersionError(f"{where}: version {entry['group']} switches off rules the stage does not run: "
                               f"{', '.join(stray)}")
        groups.append(VersionGroup(
            group=entry["group"], marker=normalise(entry["marker"]),
            present=tuple(normalise(p) for p in entry.get("present") or ()),
            absent=tuple(normalise(p) for p in entry.get("absent") or ()),
            options=dict(entry.get("options") or {}), off=off, on=tuple(entry.get("rules_on") or ()),
            severity=dict(entry.get("severity") or {}), note=str(entry.get("note") or ""),
            in_files=tuple(str(p) for p in entry.get("in_files") or ()),
        ))
    names = [g.group for g in groups]
    if len(set(names)) != len(names):
        raise VersionError(f"{where}: a version group is listed twice: {names}")
    return tuple(groups)
