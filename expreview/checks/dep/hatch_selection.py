"""For DEP001: whether hatchling, the project's build backend, can decide what its wheel ships.

`uv run` (and `uv sync`) installs a project that has a [build-system] before anything runs, as an
editable wheel built by that backend. Since hatchling 1.19.0 (2023-12) its wheel builder raises
"Unable to determine which files to ship inside the wheel" when no file selection option is set and
none of its heuristics finds the project's package: `<name>/__init__.py`, `src/<name>/__init__.py`,
`<name>.py`, or exactly one `*/<name>/__init__.py`, where `<name>` is the project name as written and
as normalised, each with every run of characters other than letters, digits and dots replaced by
`_` (hatchling.builders.wheel.WheelBuilderConfig.default_file_selection_options). A generated
experiment names its project `sara-optimizer-research` and keeps its code in `src/train.py`, so
nothing matches.

Silent wherever hatchling would not reach that error, or where what it reads is not all in view: a
selection option (`include`, `packages`, `only-include`), forced inclusion, artifacts,
`bypass-selection`, `dev-mode-dirs` or build hooks under [tool.hatch.build] or its wheel target; a
hatch.toml; `tool.uv.package = false`; a hatchling requirement that admits no release from 1.19 on;
a dynamic or missing name."""
from __future__ import annotations

import re
from typing import Optional

from packaging.requirements import InvalidRequirement, Requirement

from expreview.bundle import Bundle
from expreview.checks.dep.common import table

BACKEND = "hatchling.build"
# Any of these in [tool.hatch.build] or [tool.hatch.build.targets.wheel] changes what hatchling selects.
_SELECTION_KEYS = ("include", "packages", "only-include", "force-include", "artifacts", "bypass-selection",
                   "dev-mode-dirs", "hooks")
# Releases from the one that raises on: a requirement that admits none of them pins an older hatchling.
_RAISING = ("1.19.0", "1.21.1", "1.25.0", "1.27.0", "1.29.0", "1.33.0", "2.0.0", "99.0.0")


def _file_name(name: str) -> str:
    """hatchling's normalize_file_name_component (PEP 427 escaping)."""
    return re.sub(r"[^\w\d.]+", "_", name, flags=re.UNICODE)


def _admits_a_raising_hatchling(requires: object) -> bool:
    entries = [r for r in requires if isinstance(r, str)] if isinstance(requires, list) else []
    for entry in entries:
        try:
            requirement = Requirement(entry)
        except InvalidRequirement:
            return False  # DEP001 reports the string; what it would install is unknown
        if requirement.name.lower() == "hatchling":
            return not requirement.specifier or any(requirement.specifier.contains(v) for v in _RAISING)
    return False  # hatchling is not even required: the build fails otherwise (not judged here)


def unselected_package(bundle: Bundle, data: dict) -> Optional[str]:
    """The package name hatchling looked for in vain (`sara_optimizer_research`), when its wheel
    builder will refuse this project; None when it will not, or when that is not certain."""
    build_system = table(data, "build-system")
    if build_system.get("build-backend") != BACKEND or not _admits_a_raising_hatchling(build_system.get("requires")):
        return None
    tool = table(data, "tool")
    if table(tool, "uv").get("package") is False or bundle.has("hatch.toml"):
        return None
    build = table(table(tool, "hatch"), "build")
    wheel = table(table(build, "targets"), "wheel")
    if any(key in build or key in wheel for key in _SELECTION_KEYS):
        return None
    name = table(data, "project").get("name")
    if not isinstance(name, str) or not name:
        return None
    names = tuple(dict.fromkeys(_file_name(n) for n in (name, re.sub(r"[-_.]+", "-", name).lower())))
    paths = set(bundle.paths())
    for candidate in names:
        if {f"{candidate}/__init__.py", f"src/{candidate}/__init__.py", f"{candidate}.py"} & paths:
            return None
        nested = [p for p in paths if p.count("/") == 2 and p.endswith(f"/{candidate}/__init__.py")]
        if len(nested) == 1:
            return None
    return names[0]
