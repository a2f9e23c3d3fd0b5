"""DEP: pyproject.toml is a project uv can install, and it declares what the code imports."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from validate_pyproject import api, errors

from expreview.bundle import Bundle
from expreview.checks.dep.distributions import NOT_IMPORTED_BY_DESIGN, OTHER_FRAMEWORKS, STDLIB, candidates, provides
from expreview.facts.cache import bundle_fact
from expreview.findings import ADVICE, CRASH, CRITERION, ERROR, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Import
from expreview.sources.pyfile import PythonSource
from expreview.sources.tomlfile import TomlSource

PYPROJECT = "pyproject.toml"
_GOOD_TOML = '[project]\nname = "exp"\nversion = "0.1.0"\nrequires-python = ">=3.10"\ndependencies = ["torch>=2.0", "PyYAML>=6.0"]\n'
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass
class Declared:
    name: str
    line: int


@bundle_fact
def declared(bundle: Bundle) -> Optional[list[Declared]]:
    """What pyproject.toml declares, read leniently (a table of dependencies counts too).
    None when there is no readable pyproject.toml."""
    doc = bundle.toml(PYPROJECT)
    if doc is None or doc.data is None:
        return None
    data = doc.data
    out: list[Declared] = []
    project = _table(data, "project")
    sections = [("project.dependencies", project.get("dependencies"))]
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        sections += [(f"dependency-groups.{k}", v) for k, v in groups.items()]
    tool = _table(data, "tool")
    sections.append(("tool.uv.dev-dependencies", _table(tool, "uv").get("dev-dependencies")))
    sections.append(("tool.poetry.dependencies", _table(tool, "poetry").get("dependencies")))
    for section, value in sections:
        start = doc.table_line(section) or 1
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    match = _NAME.match(item)
                    if match:
                        out.append(Declared(match.group(1), _line_of_string(doc, item, start)))
        elif isinstance(value, dict):
            for key in value:
                if key != "python":
                    out.append(Declared(key, doc.line_of(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=", start) or start))
    return out


def _table(data, key: str) -> dict:
    """`data[key]` when it is a table, else {} (a pyproject may hold anything anywhere)."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _line_of_string(doc: TomlSource, text: str, start: int) -> int:
    return doc.line_of(re.escape(text), start) or doc.line_of(re.escape(text)) or start


_VALID = [Example(files={PYPROJECT: _GOOD_TOML}),
          Example(files={PYPROJECT: _GOOD_TOML + '\n[tool]\npoetry = "not a table"\n'})]


@rule(
    code="DEP001", name="invalid-pyproject", severity=ERROR,
    consequence=CRASH,
    criterion="All imports and dependencies are properly specified: pyproject.toml is a valid "
              "PEP 621 project that `uv run` accepts.",
    rationale="`uv run` refuses a project whose `[project.dependencies]` is a table, whose "
              "requirements use Poetry `^`/`~` ranges, or that lacks a name or version; nothing runs.",
    invalid=[
        Example(files={PYPROJECT: """
            [project]
            name = "exp"
            version = "0.1.0"

            [project.dependencies]
            torch = ">=2.0"
            """}, line=5, message='written as a table'),
        Example(files={PYPROJECT: """
            [project]
            name = "exp"
            version = "0.1.0"
            dependencies = ["pyyaml^6.0"]
            """}, line=4),
        Example(files={PYPROJECT: """
            [project]
            version = "0.1.0"
            dependencies = []
            """}),
        Example(files={PYPROJECT: """
            [project
            name = "exp"
            """}, line=1),
    ],
    valid=_VALID,
)
def invalid_pyproject(bundle: Bundle) -> Iterator[Hit]:
    doc = bundle.toml(PYPROJECT)
    if doc is None:
        return
    if doc.problem is not None:
        message, line, col = doc.problem
        yield Hit(PYPROJECT, f"pyproject.toml is not valid TOML ({message}); fix the syntax", line)
        return
    data = doc.data or {}
    project = data.get("project")
    if not isinstance(project, dict):
        yield Hit(PYPROJECT, "pyproject.toml has no [project] table; `uv run` needs one with name, "
                             "version and dependencies (PEP 621)", 1)
        return
    header = doc.table_line("project") or 1
    reported_deps = False
    deps = project.get("dependencies")
    if isinstance(deps, dict):
        reported_deps = True
        listed = ", ".join(f'"{_as_pep508(k, v)}"' for k, v in list(deps.items())[:4])
        poetry = [k for k, v in deps.items() if isinstance(v, str) and re.search(r"^\s*[\^~](?!=)", v)]
        shown = ", ".join(poetry[:4]) + (f" and {len(poetry) - 4} more" if len(poetry) > 4 else "")
        verb = "uses" if len(poetry) == 1 else "use"
        extra = f"; also, {shown} {verb} Poetry `^`/`~` ranges, which PEP 508 does not have" if poetry else ""
        yield Hit(PYPROJECT, "[project.dependencies] is written as a table, but PEP 621 requires a list of "
                             "requirement strings and `uv run` rejects this project; write "
                             f"`dependencies = [{listed}{', …' if len(deps) > 4 else ''}]` under [project]{extra}",
                  doc.table_line("project.dependencies") or header)
    elif isinstance(deps, list):
        reported_deps = True
        for item in deps:
            problem = _requirement_problem(item)
            if problem:
                line = _line_of_string(doc, item, header) if isinstance(item, str) else header
                yield Hit(PYPROJECT, problem, line)
    poetry_deps = _table(_table(_table(data, "tool"), "poetry"), "dependencies")
    if poetry_deps and "dependencies" not in project and len(poetry_deps) > ("python" in poetry_deps):
        yield Hit(PYPROJECT, "the dependencies are declared only under [tool.poetry.dependencies], which uv ignores "
                             "when a [project] table exists, so nothing gets installed; list them in "
                             "`project.dependencies` as PEP 508 strings",
                  doc.table_line("tool.poetry.dependencies") or header)
    for key in ("name", "version"):
        if key not in project and key not in (project.get("dynamic") or []):
            yield Hit(PYPROJECT, f"[project] has no `{key}`; add `{key} = \"…\"` (uv refuses the project without it)", header)
    for message, line in _schema_problems(doc, data, skip_dependencies=reported_deps):
        yield Hit(PYPROJECT, message, line)


def _as_pep508(name: str, spec) -> str:
    if isinstance(spec, str):
        spec = spec.strip()
        if spec in ("*", ""):
            return name
        caret = re.match(r"^\^(\d+)(?:\.(\d+))?", spec)
        if caret:
            return f"{name}>={spec[1:]},<{int(caret.group(1)) + 1}" if caret.group(1) != "0" else f"{name}>={spec[1:]}"
        tilde = re.match(r"^~(?!=)(\d+)(?:\.(\d+))?", spec)
        if tilde:  # Poetry ~X.Y: at least X.Y, below X.(Y+1); ~X: below X+1
            major, minor = int(tilde.group(1)), tilde.group(2)
            upper = f"{major}.{int(minor) + 1}" if minor is not None else f"{major + 1}"
            return f"{name}>={spec[1:]},<{upper}"
        return f"{name}{spec}" if spec[0] in "<>=!~" else f"{name}=={spec}"
    return name


def _requirement_problem(item) -> Optional[str]:
    if not isinstance(item, str):
        return f"dependency {item!r} is not a string; write PEP 508 requirement strings"
    if re.search(r"[\^]|~(?!=)", item):
        name = match.group(1) if (match := _NAME.match(item)) else item
        return (f"`{item}` uses a Poetry `^`/`~` range, which is not PEP 508 and which uv rejects; "
                f"write a range such as `{name}>=X.Y,<X+1`")
    try:
        Requirement(item)
    except InvalidRequirement as exc:
        return f"`{item}` is not a valid PEP 508 requirement ({str(exc).splitlines()[0]}); fix it"
    return None


@lru_cache(maxsize=1)
def pyproject_validator() -> Any:
    """validate-pyproject's validator, built once: compiling its schema costs more than a review."""
    return api.Validator(plugins=[])



def _schema_problems(doc: TomlSource, data: dict, skip_dependencies: bool):
    """Everything else PEP 621 forbids, as validate-pyproject judges it."""
    try:
        pyproject_validator()(data)
    except errors.ValidationError as exc:
        name = (exc.name or "").strip("`")
        if skip_dependencies and name.startswith("project.dependencies"):
            return []
        field = re.sub(r"\[\d+\]", "", name)
        line = doc.table_line(field) or doc.table_line(field.rpartition(".")[0]) or 1
        return [(f"pyproject.toml: {exc.message}; see PEP 621 for the field's form", line)]
    except Exception:  # noqa: BLE001 - the schema library failing is not the user's problem
        return []
    return []


def _import_is_local(bundle: Bundle, module: str) -> bool:
    top = module.split(".")[0]
    return top == "src" or f"src/{top}.py" in bundle.files or f"{top}.py" in bundle.files \
        or top in ("train", "evaluate", "preprocess", "model", "main")


@bundle_fact
def third_party_imports(bundle: Bundle) -> list[tuple[PythonSource, Import]]:
    """(source, import) for every absolute import that is neither stdlib nor the project."""
    return list(_third_party_imports(bundle))


def _third_party_imports(bundle: Bundle) -> Iterator[tuple[PythonSource, Import]]:
    for source in bundle.python_files():
        for imp in source.index.imports:
            if imp.level or not imp.module and imp.name is None:
                continue
            module = imp.module or ""
            top = module.split(".")[0]
            if not top or top in STDLIB or _import_is_local(bundle, module):
                continue
            yield source, imp


@rule(
    code="DEP002", name="undeclared-dependency", severity=ERROR,
    consequence=CRASH,
    criterion="All imports and dependencies are properly specified: every third-party module the "
              "code imports is declared in `project.dependencies`.",
    rationale="uv installs only what is declared; an undeclared import fails with "
              "ModuleNotFoundError (or works by accident through another package's dependencies).",
    invalid=[Example(files={PYPROJECT: _GOOD_TOML, "src/train.py": """
        import numpy as np
        import torch
        import yaml
        """})],
    valid=[Example(files={PYPROJECT: _GOOD_TOML, "src/train.py": """
        import os
        import torch
        import yaml
        """})],
)
def undeclared_dependency(bundle: Bundle) -> Iterator[Hit]:
    deps = declared(bundle)
    if deps is None:
        return
    names = [d.name for d in deps]
    seen = set()
    for source, imp in third_party_imports(bundle):
        if imp.guarded:
            continue
        module = imp.module
        if (source.path, module.split(".")[0]) in seen:
            continue
        if any(provides(name, module) for name in names):
            continue
        seen.add((source.path, module.split(".")[0]))
        dist = candidates(module)[0]
        yield Hit(source.path, f"`{module.split('.')[0]}` is imported but not declared in pyproject.toml; add "
                               f"\"{dist}\" to `project.dependencies`", imp.node)


@rule(
    code="DEP003", name="non-pytorch-framework", severity=ERROR,
    consequence=CRITERION,
    criterion="Uses PyTorch exclusively for deep learning components.",
    rationale="The experiment's infrastructure assumes PyTorch; a second framework doubles the "
              "install and splits the model code.",
    invalid=[Example(files={PYPROJECT: _GOOD_TOML, "src/model.py": "import tensorflow as tf\n"})],
    valid=[Example(files={PYPROJECT: _GOOD_TOML, "src/model.py": "import torch\n"})],
)
def other_framework(bundle: Bundle) -> Iterator[Hit]:
    for source, imp in third_party_imports(bundle):
        top = imp.module.split(".")[0]
        if top in OTHER_FRAMEWORKS:
            yield Hit(source.path, f"imports {OTHER_FRAMEWORKS[top]} (`{imp.module}`); use PyTorch only", imp.node)
    for dep in declared(bundle) or []:
        key = canonicalize_name(dep.name)
        if key in OTHER_FRAMEWORKS:
            yield Hit(PYPROJECT, f"declares {OTHER_FRAMEWORKS[key]} (`{dep.name}`); use PyTorch only", dep.line)


@rule(
    code="DEP004", name="unused-dependency", severity=WARNING,
    consequence=ADVICE,
    criterion="All imports and dependencies are properly specified: nothing is declared that no file imports.",
    rationale="An unused dependency slows every install and often marks code that was planned and "
              "never written (seed 002 declares `datasets` but loads no dataset).",
    invalid=[Example(files={PYPROJECT: _GOOD_TOML, "src/train.py": "import torch\n"}, line=5)],
    valid=[Example(files={PYPROJECT: _GOOD_TOML, "src/train.py": """
        import torch
        import yaml
        """})],
)
def unused_dependency(bundle: Bundle) -> Iterator[Hit]:
    deps = declared(bundle)
    if not deps:
        return
    imported = {imp.module for _, imp in third_party_imports(bundle)}
    for dep in deps:
        key = canonicalize_name(dep.name)
        if key in NOT_IMPORTED_BY_DESIGN or key.startswith("hydra-") and key != "hydra-core":
            continue
        if any(provides(dep.name, module) for module in imported):
            continue
        yield Hit(PYPROJECT, f"`{dep.name}` is declared but no file imports it; remove it or use it", dep.line)
