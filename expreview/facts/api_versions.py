"""How a project's declared requirement range relates to the version of a library in the API
snapshot, for PY008: the requirement strings pyproject.toml gives a distribution, the release series
of a version (the major, or for 0.x the minor too), whether a range also allows an earlier series,
and the verdict on a name the snapshot's version lacks (`verdict_for`): an error when every
requirement allows that version and no earlier series, directly or through a declared library's own
requirement; a warning when the distribution is not declared at all; None, silence, otherwise."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from expreview.bundle import Bundle
from expreview.checks.dep.common import NAME, PYPROJECT, declared, table
from expreview.facts.api_snapshot import ApiSnapshot


@dataclass(frozen=True)
class Verdict:
    declared: bool
    allows: str  # how the project's requirements meet the snapshot's version, for the message


def _requirement_texts(bundle: Bundle, distribution: str) -> Optional[list[str]]:
    """The requirement strings pyproject.toml gives `distribution`, where declared() reads them;
    None when one of them is not a string (a Poetry table entry)."""
    doc = bundle.toml(PYPROJECT)
    data = doc.data if doc is not None else None
    if data is None:
        return []
    lists = [table(data, "project").get("dependencies")]
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        lists.extend(groups.values())
    tool = table(data, "tool")
    lists.append(table(tool, "uv").get("dev-dependencies"))
    poetry = table(table(tool, "poetry"), "dependencies")
    if any(canonicalize_name(key) == distribution for key in poetry if isinstance(key, str)):
        return None
    texts = []
    for value in lists:
        for item in value if isinstance(value, list) else ():
            match = NAME.match(item) if isinstance(item, str) else None
            if match and canonicalize_name(match.group(1)) == distribution:
                texts.append(item.strip())
    return texts


def _series(version: Version) -> tuple[int, ...]:
    """The release series: the major version, or for 0.x the minor too (semver: 0.15 and 0.31 differ)."""
    return (version.major,) if version.major else (0, version.minor)


def allows_earlier_series(specifier: SpecifierSet, version: Version) -> bool:
    """Whether the specifier admits a release of an earlier series than `version`'s, tried on the
    releases its own clauses name and the ends of the series before `version`'s."""
    probes = {Version("0"), Version("0.9999.9999")}
    if version.major:
        probes.add(Version(f"{version.major - 1}.9999.9999"))
    elif version.minor:
        probes.add(Version(f"0.{version.minor - 1}.9999"))
    for clause in specifier:
        try:
            named = Version(clause.version.rstrip(".*"))
        except InvalidVersion:  # an arbitrary `===` string: no telling
            return True
        release = ".".join(map(str, named.release))
        probes |= {named, Version(release + ".1"), Version(f"{named.major}.9999.9999"),
                   Version(f"0.{named.minor}.9999") if not named.major else named}
    earlier = _series(version)
    return any(_series(p) < earlier and specifier.contains(p, prereleases=True) for p in probes)


def _public_version(text: str) -> Optional[Version]:
    try:
        return Version(Version(text).public)  # 2.13.0+cpu is 2.13.0 to a requirement
    except InvalidVersion:
        return None


_JUDGED, _EXCLUDED, _LOOSE = "judged", "excluded", "loose"


def _judge(texts: list[str], version: Version) -> str:
    """JUDGED when every requirement allows `version` and no earlier series, EXCLUDED when one
    excludes it (or cannot be read), else LOOSE."""
    loose = False
    for text in texts:
        try:
            specifier = Requirement(text).specifier
        except (InvalidRequirement, InvalidSpecifier):
            return _EXCLUDED
        if not specifier.contains(version, prereleases=True):
            return _EXCLUDED
        loose = loose or allows_earlier_series(specifier, version)
    return _LOOSE if loose else _JUDGED


def _declared_judgement(bundle: Bundle, snapshot: ApiSnapshot, distribution: str) -> Optional[tuple[str, str]]:
    """(judgement, the requirements as shown) for a distribution pyproject.toml declares; None when it
    does not declare it."""
    if not any(canonicalize_name(d.name) == distribution for d in declared(bundle) or ()):
        return None
    version = _public_version(snapshot.version(distribution) or "")
    texts = _requirement_texts(bundle, distribution)
    if version is None or not texts:  # a Poetry table, a section declared() reads and this does not
        return _EXCLUDED, ""
    return _judge(texts, version), " and ".join(f"`{t}`" for t in texts)


def verdict_for(bundle: Bundle, snapshot: ApiSnapshot, distribution: str) -> Optional[Verdict]:
    """How a name that the snapshot's version lacks is judged for this project; None: silence.

    A distribution pyproject.toml does not declare may come with one it declares: hydra-core
    1.3.8 requires `omegaconf<2.4,>=2.2`. When the declared one is judged at its snapshot version
    and that requirement is judged at the other's, the other is judged too."""
    own = _declared_judgement(bundle, snapshot, distribution)
    if own is not None:
        judgement, shown = own
        return Verdict(True, f", which pyproject.toml's {shown} allows") if judgement == _JUDGED else None
    version = _public_version(snapshot.version(distribution) or "")
    if version is None:
        return None
    for other in sorted(snapshot.versions):
        through = _declared_judgement(bundle, snapshot, other) if other != distribution else None
        if through is None or through[0] != _JUDGED:
            continue
        for text in snapshot.requires(other):
            try:
                required = Requirement(text)
            except InvalidRequirement:
                continue
            if canonicalize_name(required.name) != distribution:
                continue
            judgement = _judge([text], version)
            if judgement == _EXCLUDED:
                return None  # what installs is another release: the snapshot says nothing of it
            if judgement == _JUDGED:
                return Verdict(True, f"; pyproject.toml does not declare {distribution}, but its {through[1]} "
                                     f"installs it, and {other} {snapshot.version(other)} requires `{text}`, "
                                     "which allows that version")
    return Verdict(False, f"; pyproject.toml does not declare {distribution}, so the release that installs is not pinned")

