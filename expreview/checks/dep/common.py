"""DEP: what pyproject.toml declares, read leniently (the `declared` fact that DEP002-DEP004 and LAY
read), the lenient table and line look-ups DEP001 shares, and the valid project the examples build on."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from packaging.requirements import InvalidRequirement, Requirement

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.sources.tomlfile import TomlSource


PYPROJECT = "pyproject.toml"
GOOD_TOML = '[project]\nname = "exp"\nversion = "0.1.0"\nrequires-python = ">=3.10"\ndependencies = ["torch>=2.0", "PyYAML>=6.0"]\n'
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass
class Declared:
    name: str
    line: int
    extras: tuple[str, ...] = ()  # `transformers[torch]`


@bundle_fact
def declared(bundle: Bundle) -> Optional[list[Declared]]:
    """What pyproject.toml declares, read leniently (a table of dependencies counts too).
    None when there is no readable pyproject.toml."""
    doc = bundle.toml(PYPROJECT)
    if doc is None or doc.data is None:
        return None
    data = doc.data
    out: list[Declared] = []
    project = table(data, "project")
    sections = [("project.dependencies", project.get("dependencies"))]
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        sections += [(f"dependency-groups.{k}", v) for k, v in groups.items()]
    tool = table(data, "tool")
    sections.append(("tool.uv.dev-dependencies", table(tool, "uv").get("dev-dependencies")))
    sections.append(("tool.poetry.dependencies", table(tool, "poetry").get("dependencies")))
    for section, value in sections:
        start = doc.table_line(section) or 1
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    match = NAME.match(item)
                    if match:
                        out.append(Declared(match.group(1), line_of_string(doc, item, start), _extras_of(item)))
        elif isinstance(value, dict):
            for key, spec in value.items():
                if key != "python":
                    extras = spec.get("extras") if isinstance(spec, dict) else None
                    out.append(Declared(key, doc.line_of(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=", start) or start,
                                        tuple(e for e in extras if isinstance(e, str)) if isinstance(extras, list) else ()))
    return out


def _extras_of(item: str) -> tuple[str, ...]:
    """The extras a requirement string asks for (`transformers[torch]>=4` -> ("torch",))."""
    try:
        return tuple(sorted(Requirement(item).extras))
    except InvalidRequirement:
        match = re.match(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*\[([^\]]*)\]", item)
        return tuple(e.strip() for e in match.group(1).split(",") if e.strip()) if match else ()


def table(data, key: str) -> dict:
    """`data[key]` when it is a table, else {} (a pyproject may hold anything anywhere)."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def line_of_string(doc: TomlSource, text: str, start: int) -> int:
    return doc.line_of(re.escape(text), start) or doc.line_of(re.escape(text)) or start
