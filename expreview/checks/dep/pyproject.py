"""DEP: pyproject.toml is a valid PEP 621 project that `uv run` accepts (DEP001)."""
from __future__ import annotations

import copy
import re
from functools import partial
from typing import Any, Iterator, Optional

from packaging.requirements import InvalidRequirement, Requirement

from expreview.bundle import Bundle
from expreview.checks.dep.common import GOOD_TOML, NAME, PYPROJECT, line_of_string, table
from expreview.checks.dep.hatch_selection import unselected_package
from expreview.edits import SAFE, Fix
from expreview.findings import ADVICE, CRASH, ERROR, WARNING, FixOffer
from expreview.rule import Example, Hit, rule
from expreview.sources.toml_edits import rewritten
from expreview.sources.tomlfile import TomlSource


_VALID = [Example(files={PYPROJECT: GOOD_TOML}),
          Example(files={PYPROJECT: GOOD_TOML + '\n[tool]\npoetry = "not a table"\n'})]


_HATCH = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "exp-research"
version = "0.1.0"
dependencies = ["torch>=2.0"]
"""


@rule(
    code="DEP001", name="invalid-pyproject", severity=ERROR,
    consequence=CRASH, fixable=True,
    criterion="All imports and dependencies are properly specified: pyproject.toml is a valid "
              "PEP 621 project that `uv run` accepts.",
    rationale="`uv run` refuses a project whose `[project.dependencies]` is a table, whose "
              "requirements use Poetry `^`/`~` ranges, or that lacks a name or version; nothing runs. With "
              "the dependencies only under [tool.poetry.dependencies] it starts, installs nothing, and the "
              "first third-party import fails. A malformed field that only a build backend reads (`authors` "
              "as strings, `keywords` as a string) breaks the project only where uv builds it (a "
              "[build-system] table): elsewhere uv never reads it, so it is a warning. hatchling refuses to "
              "build a project whose name matches no package (`src/train.py` of `exp-research`), and uv "
              "installs the project before it runs anything.",
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
        Example(files={PYPROJECT: """
            [project]
            name = "exp"
            version = "0.1.0"

            [tool.poetry.dependencies]
            python = "^3.10"
            torch = "^2.1"
            """, "src/train.py": "import torch\n"}, line=5, message="installs nothing, and the first third-party import fails"),
        # string authors with a build backend: the backend rejects the project
        Example(files={PYPROJECT: """
            [project]
            name = "exp"
            version = "0.1.0"
            authors = ["Jane Doe"]
            dependencies = ["torch>=2.0"]

            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"
            """}, line=4, message="its build backend rejects it, so nothing runs"),
        # without one uv never reads `authors`: a warning, and the fields after it are still checked
        Example(files={PYPROJECT: """
            [project]
            name = "exp"
            version = "0.1.0"
            authors = ["Jane Doe"]
            optional-dependencies = "none"
            dependencies = ["torch>=2.0"]
            """}, line=4, message="uv does not build this project"),
        # hatchling finds no package named like the project: the install fails before anything runs
        Example(files={PYPROJECT: _HATCH, "src/__init__.py": "", "src/train.py": "import torch\n"}, line=3,
                message="Unable to determine which files to ship"),
    ],
    valid=_VALID + [Example(files={PYPROJECT: GOOD_TOML.replace(
        'version = "0.1.0"\n', 'version = "0.1.0"\nauthors = [{ name = "Jane Doe" }]\n')}),
        # what hatchling ships is named, or it finds the package by the project's name
        Example(files={PYPROJECT: _HATCH + '\n[tool.hatch.build.targets.wheel]\npackages = ["src"]\n',
                       "src/train.py": "import torch\n"}),
        Example(files={PYPROJECT: _HATCH + '\n[tool.hatch.build]\nonly-include = ["src"]\n',
                       "src/train.py": "import torch\n"}),
        Example(files={PYPROJECT: _HATCH, "src/exp_research/__init__.py": "", "src/exp_research/train.py": "x = 1\n"}),
        Example(files={PYPROJECT: _HATCH, "exp_research.py": "x = 1\n"}),
        # uv does not build it, hatch.toml may select the files, or the pinned hatchling predates the error
        Example(files={PYPROJECT: _HATCH + "\n[tool.uv]\npackage = false\n", "src/train.py": "import torch\n"}),
        Example(files={PYPROJECT: _HATCH, "hatch.toml": '[build.targets.wheel]\npackages = ["src"]\n',
                       "src/train.py": "import torch\n"}),
        Example(files={PYPROJECT: _HATCH.replace('"hatchling"', '"hatchling<1.19"'), "src/train.py": "import torch\n"}),
    ],
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
                  doc.table_line("project.dependencies") or header, fix=partial(_dependency_list_fix, doc.text, deps))
    elif isinstance(deps, list):
        reported_deps = True
        for item in deps:
            problem = _requirement_problem(item)
            if problem:
                line = line_of_string(doc, item, header) if isinstance(item, str) else header
                yield Hit(PYPROJECT, problem, line)
    poetry_deps = table(table(table(data, "tool"), "poetry"), "dependencies")
    if poetry_deps and "dependencies" not in project and len(poetry_deps) > ("python" in poetry_deps):
        wanted = [(k, v) for k, v in poetry_deps.items() if k != "python"]
        listed = ", ".join(f'"{_as_pep508(k, v)}"' for k, v in wanted[:4]) + (", …" if len(wanted) > 4 else "")
        yield Hit(PYPROJECT, "the dependencies are declared only under [tool.poetry.dependencies], which uv ignores: "
                             "`uv run` starts, installs nothing, and the first third-party import fails with "
                             "ModuleNotFoundError; list them under [project] as PEP 508 strings: "
                             f"`dependencies = [{listed}]`",
                  doc.table_line("tool.poetry.dependencies") or header, fix=partial(_poetry_list_fix, doc.text, dict(wanted)))
    for key in ("name", "version"):
        if key not in project and key not in (project.get("dynamic") or []):
            yield Hit(PYPROJECT, f"[project] has no `{key}`; add `{key} = \"…\"` (uv refuses the project without it)", header)
    for message, line, severity, consequence, fix in _schema_problems(doc, data, skip_dependencies=reported_deps,
                                                                      built=_is_built(data)):
        yield Hit(PYPROJECT, message, line, consequence=consequence, severity=severity, fix=fix)
    name = unselected_package(bundle, data)
    if name is not None:
        in_src = any(p.startswith("src/") and p.endswith(".py") for p in bundle.paths())
        shipped = '["src"]' if in_src else '["<your package>"]'
        yield Hit(PYPROJECT, f"the build backend, hatchling, finds no package named like the project "
                             f"(no {name}/__init__.py, src/{name}/__init__.py or {name}.py), so it refuses to build it "
                             "(\"Unable to determine which files to ship inside the wheel\") and `uv run`, which "
                             "installs the project first, stops before any code runs; name what the wheel ships: "
                             f"`[tool.hatch.build.targets.wheel]` with `packages = {shipped}`",
                  doc.table_line("build-system.build-backend") or doc.table_line("build-system") or 1,
                  fix=partial(_hatch_packages_fix, doc.text) if in_src else None)


def _is_built(data: dict) -> bool:
    """Whether `uv run` builds the project itself, so that a build backend reads all of [project]:
    `tool.uv.package` when set; else with a [build-system] table; else, as uv 0.13 does, when
    [project] has no `dependencies` but [tool.poetry.dependencies] exists (uv builds it, with the
    setuptools fallback, to learn its dependencies)."""
    package = table(table(data, "tool"), "uv").get("package")
    if isinstance(package, bool):
        return package
    if isinstance(data.get("build-system"), dict):
        return True
    poetry = table(table(table(data, "tool"), "poetry"), "dependencies")
    return bool(poetry) and "dependencies" not in table(data, "project")


def _caret(version: str) -> Optional[str]:
    """Poetry's `^X.Y.Z` as a PEP 440 range: below the next release of the leftmost non-zero part."""
    parts = version.split(".")
    if not all(p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts]
    bump = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
    upper = numbers[:bump] + [numbers[bump] + 1]
    return f">={version},<{'.'.join(map(str, upper))}"


def _tilde(version: str) -> Optional[str]:
    """Poetry's `~X.Y[.Z]`: below X.(Y+1); `~X`: below X+1."""
    parts = version.split(".")
    if not all(p.isdigit() for p in parts):
        return None
    upper = [int(parts[0]) + 1] if len(parts) == 1 else [int(parts[0]), int(parts[1]) + 1]
    return f">={version},<{'.'.join(map(str, upper))}"


def _exact_requirement(name: str, spec: Any) -> Optional[str]:
    """The PEP 508 string a Poetry-style table entry means, or None when that is not certain (git,
    path, markers, python constraints: anything but a version and extras)."""
    extras: list[str] = []
    if isinstance(spec, dict):
        if not set(spec) <= {"version", "extras"} or not isinstance(spec.get("extras", []), list):
            return None
        extras = [str(e) for e in spec.get("extras", [])]
        spec = spec.get("version", "*")
    if not isinstance(spec, str):
        return None
    spec = spec.strip()
    if spec in ("*", ""):
        version = ""
    elif spec.startswith("^"):
        version = _caret(spec[1:].strip()) or ""
        if not version:
            return None
    elif spec.startswith("~") and not spec.startswith("~="):
        version = _tilde(spec[1:].strip()) or ""
        if not version:
            return None
    elif spec[0] in "<>=!~":
        version = spec
    else:
        version = f"=={spec}"
    text = name + (f"[{','.join(extras)}]" if extras else "") + version
    try:
        Requirement(text)
    except InvalidRequirement:
        return None
    return text


def _dependency_list_fix(text: str, deps: dict) -> Optional[Fix]:
    """[project.dependencies] as a table -> `dependencies = [...]` in [project]."""
    edit = _project_dependencies_edit(text, deps)
    return Fix("Write the dependencies as a list of PEP 508 strings", SAFE, (edit,)) if edit else None


def _hatch_packages_fix(text: str) -> Optional[Fix]:
    """`[tool.hatch.build.targets.wheel] packages = ["src"]`: hatchling then ships src/, where the
    code is, and the editable install uv makes succeeds."""
    def add_packages(document) -> None:
        import tomlkit

        tool = document.setdefault("tool", tomlkit.table(is_super_table=True))
        hatch = tool.setdefault("hatch", tomlkit.table(is_super_table=True))
        build = hatch.setdefault("build", tomlkit.table(is_super_table=True))
        targets = build.setdefault("targets", tomlkit.table(is_super_table=True))
        wheel = targets.setdefault("wheel", tomlkit.table())
        wheel["packages"] = ["src"]

    edit = rewritten(PYPROJECT, text, add_packages)
    return Fix("Ship src/ in the wheel: [tool.hatch.build.targets.wheel] packages = [\"src\"]", SAFE,
               (edit,)) if edit else None


def _poetry_list_fix(text: str, deps: dict) -> Optional[Fix]:
    """Poetry-only dependencies -> the same as PEP 508 strings in `project.dependencies` (the Poetry
    table stays: Poetry still reads it)."""
    edit = _project_dependencies_edit(text, deps)
    return Fix("Declare the dependencies under [project] as PEP 508 strings", SAFE, (edit,)) if edit else None


def _project_dependencies_edit(text: str, deps: dict):
    """`project.dependencies` (re)written as a multi-line list of `deps` in PEP 508 form; None unless
    every entry converts for certain."""
    wanted = [_exact_requirement(str(name), spec) for name, spec in deps.items()]
    if not wanted or any(w is None for w in wanted):
        return None

    def as_list(document) -> None:
        import tomlkit

        project = document["project"]
        listed = tomlkit.array()
        for requirement in wanted:
            listed.append(requirement)
        listed.multiline(True)
        if "dependencies" in project:
            del project["dependencies"]
        project["dependencies"] = listed

    return rewritten(PYPROJECT, text, as_list)


# "Jane Doe", "Jane Doe <jane@example.org>", "<jane@example.org>": the forms people write
_PERSON = re.compile(r"^\s*(?P<name>[^<>@,\s][^<>@,]*?)?\s*(?:<(?P<email>[^<>@\s]+@[^<>@\s]+)>)?\s*$")


def _people_fix(text: str, key: str, people: Any) -> Optional[Fix]:
    """`authors = ["Jane Doe <jane@example.org>"]` -> `[{name = "Jane Doe", email = "jane@example.org"}]`
    (PEP 621's form), when every entry is a table already or a string of one of those forms."""
    if not isinstance(people, list) or not people:
        return None
    tables: list[Optional[dict]] = []
    for person in people:
        if isinstance(person, dict):
            tables.append(None)  # kept as written
            continue
        match = _PERSON.match(person) if isinstance(person, str) else None
        if match is None or not (match["name"] or match["email"]):
            return None
        tables.append({k: v.strip() for k, v in (("name", match["name"]), ("email", match["email"])) if v})

    def as_tables(document) -> None:
        import tomlkit

        written = document["project"][key]
        for i, wanted in enumerate(tables):
            if wanted is not None:
                entry = tomlkit.inline_table()
                entry.update(wanted)
                written[i] = entry

    edit = rewritten(PYPROJECT, text, as_tables)
    return Fix(f"Write each of `{key}` as a table with name and email", SAFE, (edit,)) if edit else None


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
        name = match.group(1) if (match := NAME.match(item)) else item
        return (f"`{item}` uses a Poetry `^`/`~` range, which is not PEP 508 and which uv rejects; "
                f"write a range such as `{name}>=X.Y,<X+1`")
    try:
        Requirement(item)
    except InvalidRequirement as exc:
        return f"`{item}` is not a valid PEP 508 requirement ({str(exc).splitlines()[0]}); fix it"
    return None


def pyproject_validator() -> Any:
    """validate-pyproject's PEP 621 validator, in the pre-compiled form the library generates
    (make_pyproject_validator): building `validate_pyproject.api.Validator` compiles its schema in
    every process, which costs more than a small review. Imported on first use: a bundle without
    pyproject.toml never needs it."""
    from expreview.checks.dep import pyproject_validator as compiled

    return compiled.validate


# [project] fields that only a build backend reads: uv itself parses name, version, requires-python,
# dependencies, optional-dependencies and dynamic, and `uv run` (0.13) runs a project it does not build
# whatever the others hold.
_BUILD_ONLY_FIELDS = ("authors", "maintainers", "description", "readme", "license", "keywords", "classifiers",
                      "urls", "scripts", "gui-scripts", "entry-points", "import-names")


def _schema_problems(doc: TomlSource, data: dict, skip_dependencies: bool,
                     built: bool) -> list[tuple[str, int, Optional[str], Optional[str], FixOffer]]:
    """Everything else PEP 621 forbids, as validate-pyproject judges it: (message, line, severity and
    consequence, None for the rule's; and the fix, if one is certain). validate-pyproject stops at the first problem, so a field already reported
    (or only a warning) is removed and the rest validated again."""
    from expreview.checks.dep.pyproject_validator import ValidationError  # see pyproject_validator

    out: list[tuple[str, int, Optional[str], Optional[str], FixOffer]] = []
    data = copy.deepcopy(data)
    for _ in range(1 + len(_BUILD_ONLY_FIELDS) + 1):
        try:
            pyproject_validator()(data)
        except ValidationError as exc:
            name = (exc.name or "").strip("`")
            field = re.sub(r"\[\d+\]", "", name)
            key = field.split(".")[1] if field.startswith("project.") and field.count(".") >= 1 else ""
            if skip_dependencies and key == "dependencies":
                del data["project"]["dependencies"]
                continue
            line = doc.table_line(field) or doc.table_line(field.rpartition(".")[0]) or 1
            if key in _BUILD_ONLY_FIELDS:
                form = (f'write `{key} = [{{ name = "Jane Doe", email = "jane@example.org" }}]`'
                        if key in ("authors", "maintainers") else "see PEP 621 for the field's form")
                fix = partial(_people_fix, doc.text, key, data["project"].get(key)) if key in ("authors", "maintainers") else None
                if built:
                    out.append((f"pyproject.toml: {exc.message}; `uv run` builds this project and its build backend "
                                f"rejects it, so nothing runs; {form}", line, None, None, fix))
                    return out
                out.append((f"pyproject.toml: {exc.message}; uv does not build this project (it has no "
                            f"[build-system]) and never reads `project.{key}`, so it still runs, but a build backend "
                            f"would reject it; {form}", line, WARNING, ADVICE, fix))
                del data["project"][key]
                continue
            out.append((f"pyproject.toml: {exc.message}; see PEP 621 for the field's form", line, None, None, None))
            return out
        except Exception:  # noqa: BLE001 - the schema library failing is not the user's problem
            return out
        return out
    return out
