"""Stage profiles (rules/*.yaml): everything that defines a stage. Its verdict keys, the prompt
sections that identify it, the signals that detect it in a bundle, its options (default, allowed
values, how a prompt sets them) and the rules it runs.

The profiles are read from `EXPREVIEW_RULES_DIR` when it is set (a directory of `<stage>.yaml`
files, e.g. to try a new stage), else from the installed package (or rules/ in a checkout)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

from expreview.versions import VersionError, VersionGroup, parse_groups

RULES_DIR_ENV = "EXPREVIEW_RULES_DIR"


from expreview.errors import ProfileError  # noqa: E402  (re-exported)


@dataclass(frozen=True)
class PromptCase:
    """One way a prompt's instructions set an option: the first case that holds gives the value.
    A case holds when the instructions contain any of `contains`, or match `matches` (a regex);
    a case with neither always holds (the fallback)."""
    value: Any
    contains: tuple[str, ...] = ()
    matches: Optional[str] = None

    def holds(self, instructions: str) -> bool:
        if self.matches is not None:
            return re.search(self.matches, instructions) is not None
        if self.contains:
            return any(text in instructions for text in self.contains)
        return True


@dataclass(frozen=True)
class OptionSpec:
    name: str
    default: Any
    allowed: Optional[tuple[Any, ...]]  # None: any value
    from_prompt: tuple[PromptCase, ...]

    def prompt_value(self, instructions: str) -> tuple[bool, Any]:
        """(whether the prompt sets this option, the value it sets)."""
        for case in self.from_prompt:
            if case.holds(instructions):
                return True, case.value
        return False, None


@dataclass(frozen=True)
class BaseSection:
    """A prompt section holding the base bundle a derived bundle was made from."""
    header: str
    stage: str  # the stage the base bundle is reviewed as


@dataclass(frozen=True)
class RunsSection:
    """A prompt section listing run configs; each is stored under the `directory_option` folder."""
    section: str
    until: str
    directory_option: str


@dataclass(frozen=True)
class PromptSpec:
    header: str  # the section whose JSON is the bundle under review
    base: Optional[BaseSection] = None
    run_variations: Optional[str] = None  # the line prefix that lists the run variations
    runs: Optional[RunsSection] = None


@dataclass(frozen=True)
class Detect:
    """What tells this stage in a bundle that names no stage: files it holds (`file`, or every one
    of `all_of`; a name ending in `/` is a folder holding at least one file), or a base bundle. The
    stage that asks for more signals is tried first: a template repository holds config/config.yaml
    too, which alone tells a hydra one."""
    file: Optional[str] = None
    all_of: tuple[str, ...] = ()
    base: bool = False

    @property
    def signals(self) -> tuple[str, ...]:
        return self.all_of or ((self.file,) if self.file is not None else ())

    def holds(self, paths) -> bool:
        signals = self.signals
        return bool(signals) and all(any(p.startswith(s) for p in paths) if s.endswith("/") else s in paths
                                     for s in signals)


@dataclass(frozen=True)
class Profile:
    stage: str
    ready_key: str
    issue_key: str
    options: dict[str, Any]  # option -> default; what rules read
    rules: tuple[str, ...]
    option_specs: tuple[OptionSpec, ...] = ()
    prompt: Optional[PromptSpec] = None
    detect: Detect = Detect()
    versions: tuple[VersionGroup, ...] = ()  # the prompt version groups, newest first
    base_rules: tuple[str, ...] = ()  # codes or prefixes of rules that compare with the base bundle
    compose: bool = False  # whether Hydra composes the bundle's runs (`compose: hydra` in the profile)

    def version(self, group: Optional[str]) -> Optional[VersionGroup]:
        """The named group (None: the newest); ProfileError when the stage has no such group."""
        if not self.versions:
            if group is not None:
                raise ProfileError(f"stage {self.stage} has no prompt versions (asked for {group!r})")
            return None
        if group is None:
            return self.versions[0]
        for known in self.versions:
            if known.group == group:
                return known
        raise ProfileError(f"stage {self.stage} has no prompt version {group!r} "
                           f"(have: {', '.join(v.group for v in self.versions)})")


def profile_dir() -> Path:
    return _profile_dir(os.environ.get(RULES_DIR_ENV) or None)


@lru_cache(maxsize=None)
def _profile_dir(chosen: Optional[str]) -> Path:
    # Cached by the variable's value: resolving this file's path costs system calls on every review.
    if chosen:
        return Path(chosen)
    # A wheel installs the top-level rules/ directory as expreview/profiles; a source
    # checkout (or an editable install) reads rules/ in place.
    installed = Path(__file__).resolve().parent / "profiles"
    if (installed / "base.yaml").is_file():
        return installed
    return Path(__file__).resolve().parent.parent / "rules"


@lru_cache(maxsize=None)
def _stages_in(directory: Path) -> tuple[str, ...]:
    if not directory.is_dir():  # then no stage exists; load_profile says so when one is asked for
        return ()
    return tuple(sorted(p.name[:-5] for p in directory.iterdir() if p.name.endswith(".yaml")))


def stages() -> tuple[str, ...]:
    """Every stage, in name order: one per rules/<stage>.yaml."""
    return _stages_in(profile_dir())


def available_stages() -> list[str]:
    return list(stages())


def load_profile(stage: str) -> Profile:
    return _load(profile_dir(), stage)


def profiles() -> list[Profile]:
    return [load_profile(stage) for stage in stages()]


def base_stage() -> Optional[str]:
    """The stage a base bundle is labelled with (a base is compared against, never reviewed): the
    one the profiles' `prompt.base.stage` names, when they agree on one."""
    named = {p.prompt.base.stage for p in profiles() if p.prompt is not None and p.prompt.base is not None}
    return named.pop() if len(named) == 1 else None


def runs_directory(stage: str, options: Optional[dict[str, Any]] = None) -> Optional[str]:
    """Where run configs given apart from the files are stored: the value of the option that the
    stage's `prompt.runs.directory_option` names (for "auto", or a stage without runs: of the one
    stage that has runs)."""
    known = [p for p in profiles() if p.prompt is not None and p.prompt.runs is not None]
    chosen = [p for p in known if p.stage == stage] or known
    if len(chosen) != 1 or chosen[0].prompt is None or chosen[0].prompt.runs is None:
        return None
    option = chosen[0].prompt.runs.directory_option
    return (options or {}).get(option, chosen[0].options.get(option))


def stages_listing(code: str) -> tuple[str, ...]:
    """The stages whose profile runs rule `code`."""
    return _listing(profile_dir()).get(code, ())


@lru_cache(maxsize=None)
def _listing(directory: Path) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for stage in _stages_in(directory):
        for code in _load(directory, stage).rules:
            out.setdefault(code, []).append(stage)
    return {code: tuple(found) for code, found in out.items()}


# libyaml's loader when PyYAML has it: the profiles are read at every start, and the pure-Python
# loader takes about 0.1 s for them.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=None)
def _load(directory: Path, stage: str) -> Profile:
    path = directory.joinpath(f"{stage}.yaml")
    if not path.is_file():
        raise ProfileError(f"no profile for stage {stage!r} (have: {', '.join(available_stages())})")
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    verdict = data.get("verdict", {})
    specs = tuple(_option(path, name, spec) for name, spec in (data.get("options") or {}).items())
    rules = tuple(data.get("rules") or ())
    try:
        versions = parse_groups(str(path), data.get("versions"), rules)
    except VersionError as exc:
        raise ProfileError(str(exc)) from None
    by_name = {spec.name: spec for spec in specs}
    for group in versions:
        for name, value in group.options.items():
            spec = by_name.get(name)
            if spec is None:
                raise ProfileError(f"{path}: version {group.group} sets unknown option {name!r}")
            if spec.allowed is not None and value not in spec.allowed:
                raise ProfileError(f"{path}: version {group.group} sets {name}={value!r}, not one of "
                                   f"{', '.join(map(str, spec.allowed))}")
    return Profile(
        stage=data["stage"],
        ready_key=verdict["ready_key"],
        issue_key=verdict["issue_key"],
        options={spec.name: spec.default for spec in specs},
        rules=rules,
        option_specs=specs,
        prompt=_prompt(path, data.get("prompt")),
        detect=_detect(path, data.get("detect")),
        versions=versions,
        base_rules=tuple(data.get("base_rules") or ()),
        compose=_compose(path, data.get("compose")),
    )


def _compose(path: Path, value: Any) -> bool:
    if value not in (None, "hydra"):
        raise ProfileError(f"{path}: `compose` is `hydra` (compose every run with Hydra) or absent")
    return value == "hydra"


def _detect(path: Path, data: Any) -> Detect:
    if data is None:
        return Detect()
    if not isinstance(data, dict) or set(data) - {"file", "all_of", "base"}:
        raise ProfileError(f"{path}: `detect` takes `file`, `all_of` (a list of paths) and `base`")
    return Detect(file=data.get("file"), all_of=tuple(data.get("all_of") or ()), base=bool(data.get("base")))


def _option(path: Path, name: str, spec: Any) -> OptionSpec:
    if not isinstance(spec, dict) or "default" not in spec:
        raise ProfileError(f"{path}: option {name!r} must be a mapping with a `default`")
    allowed = spec.get("allowed")
    cases = tuple(PromptCase(value=case["value"], contains=tuple(case.get("contains") or ()),
                             matches=case.get("matches"))
                  for case in spec.get("from_prompt") or ())
    return OptionSpec(name, spec["default"], tuple(allowed) if allowed is not None else None, cases)


def _prompt(path: Path, data: Any) -> Optional[PromptSpec]:
    if data is None:
        return None
    if not isinstance(data, dict) or "header" not in data:
        raise ProfileError(f"{path}: `prompt` must be a mapping with a `header`")
    base = BaseSection(**data["base"]) if data.get("base") else None
    runs = RunsSection(**data["runs"]) if data.get("runs") else None
    return PromptSpec(header=data["header"], base=base, run_variations=data.get("run_variations"), runs=runs)
