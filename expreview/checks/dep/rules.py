"""DEP: pyproject.toml is a project uv can install, and it declares what the code imports."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from validate_pyproject import api, errors

from expreview.bundle import Bundle
from expreview.checks.dep.distributions import (NOT_IMPORTED_BY_DESIGN, OTHER_FRAMEWORKS, STDLIB, candidates, installs,
                                                is_namespace, provides, requirements_known, user_map)
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
                        out.append(Declared(match.group(1), _line_of_string(doc, item, start), _extras_of(item)))
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
              "requirements use Poetry `^`/`~` ranges, or that lacks a name or version; nothing runs. With "
              "the dependencies only under [tool.poetry.dependencies] it starts, installs nothing, and the "
              "first third-party import fails. A malformed field that only a build backend reads (`authors` "
              "as strings, `keywords` as a string) breaks the project only where uv builds it (a "
              "[build-system] table): elsewhere uv never reads it, so it is a warning.",
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
            """}, line=5, message="installs nothing, and the first third-party import fails"),
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
    ],
    valid=_VALID + [Example(files={PYPROJECT: _GOOD_TOML.replace(
        'version = "0.1.0"\n', 'version = "0.1.0"\nauthors = [{ name = "Jane Doe" }]\n')})],
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
        wanted = [(k, v) for k, v in poetry_deps.items() if k != "python"]
        listed = ", ".join(f'"{_as_pep508(k, v)}"' for k, v in wanted[:4]) + (", …" if len(wanted) > 4 else "")
        yield Hit(PYPROJECT, "the dependencies are declared only under [tool.poetry.dependencies], which uv ignores: "
                             "`uv run` starts, installs nothing, and the first third-party import fails with "
                             "ModuleNotFoundError; list them under [project] as PEP 508 strings: "
                             f"`dependencies = [{listed}]`",
                  doc.table_line("tool.poetry.dependencies") or header)
    for key in ("name", "version"):
        if key not in project and key not in (project.get("dynamic") or []):
            yield Hit(PYPROJECT, f"[project] has no `{key}`; add `{key} = \"…\"` (uv refuses the project without it)", header)
    for message, line, severity, consequence in _schema_problems(doc, data, skip_dependencies=reported_deps,
                                                                 built=_is_built(data)):
        yield Hit(PYPROJECT, message, line, consequence=consequence, severity=severity)


def _is_built(data: dict) -> bool:
    """Whether `uv run` builds the project itself, so that a build backend reads all of [project]:
    `tool.uv.package` when set; else with a [build-system] table; else, as uv 0.13 does, when
    [project] has no `dependencies` but [tool.poetry.dependencies] exists (uv builds it, with the
    setuptools fallback, to learn its dependencies)."""
    package = _table(_table(data, "tool"), "uv").get("package")
    if isinstance(package, bool):
        return package
    if isinstance(data.get("build-system"), dict):
        return True
    poetry = _table(_table(_table(data, "tool"), "poetry"), "dependencies")
    return bool(poetry) and "dependencies" not in _table(data, "project")


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



# [project] fields that only a build backend reads: uv itself parses name, version, requires-python,
# dependencies, optional-dependencies and dynamic, and `uv run` (0.13) runs a project it does not build
# whatever the others hold.
_BUILD_ONLY_FIELDS = ("authors", "maintainers", "description", "readme", "license", "keywords", "classifiers",
                      "urls", "scripts", "gui-scripts", "entry-points", "import-names")


def _schema_problems(doc: TomlSource, data: dict, skip_dependencies: bool,
                     built: bool) -> list[tuple[str, int, Optional[str], Optional[str]]]:
    """Everything else PEP 621 forbids, as validate-pyproject judges it: (message, line, severity and
    consequence, None for the rule's). validate-pyproject stops at the first problem, so a field already reported
    (or only a warning) is removed and the rest validated again."""
    out: list[tuple[str, int, Optional[str], Optional[str]]] = []
    data = copy.deepcopy(data)
    for _ in range(1 + len(_BUILD_ONLY_FIELDS) + 1):
        try:
            pyproject_validator()(data)
        except errors.ValidationError as exc:
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
                if built:
                    out.append((f"pyproject.toml: {exc.message}; `uv run` builds this project and its build backend "
                                f"rejects it, so nothing runs; {form}", line, None, None))
                    return out
                out.append((f"pyproject.toml: {exc.message}; uv does not build this project (it has no "
                            f"[build-system]) and never reads `project.{key}`, so it still runs, but a build backend "
                            f"would reject it; {form}", line, WARNING, ADVICE))
                del data["project"][key]
                continue
            out.append((f"pyproject.toml: {exc.message}; see PEP 621 for the field's form", line, None, None))
            return out
        except Exception:  # noqa: BLE001 - the schema library failing is not the user's problem
            return out
        return out
    return out


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


_ONLY_TORCH = '[project]\nname = "exp"\nversion = "0.1.0"\ndependencies = ["torch>=2.0"]\n'
_HYDRA = '[project]\nname = "exp"\nversion = "0.1.0"\ndependencies = ["hydra-core>=1.3", "torch>=2.0"]\n'


@rule(
    code="DEP002", name="undeclared-dependency", severity=ERROR,
    consequence=CRASH,
    criterion="All imports and dependencies are properly specified: every third-party module the "
              "code imports is declared in `project.dependencies`.",
    rationale="uv installs only what is declared (and what that requires): an import that nothing declared "
              "installs fails with ModuleNotFoundError. One that a declared dependency installs anyway "
              "(`yaml` with hydra-core, `tqdm` with transformers, by the packages' own Requires-Dist, see "
              "checks/dep/requires.json) runs, so it is a warning, unless the prompt asks that all imports be "
              "declared (option `dependency_criterion`, the derived prompts' d16), where it blocks. An import "
              "whose distribution expreview does not know is never given a made-up name; "
              "`[tool.expreview] distributions` maps more.",
    invalid=[
        Example(files={PYPROJECT: _GOOD_TOML, "src/train.py": """
            import numpy as np
            import torch
            import yaml
            """}, path="src/train.py", line=1, message='add "numpy"'),
        # torch does not require numpy: nothing declared installs it
        Example(files={PYPROJECT: _ONLY_TORCH, "src/train.py": "import torch\nimport numpy\n"},
                path="src/train.py", line=2, message="nothing declared installs it"),
        # installed anyway through hydra-core -> omegaconf: a warning that names the chain
        Example(files={PYPROJECT: _HYDRA, "src/train.py": "import torch\nimport yaml\n"},
                path="src/train.py", line=2, message="installed only because `hydra-core` requires it (through omegaconf)"),
        Example(files={PYPROJECT: _HYDRA, "src/train.py": "import yaml\n"}, options={"dependency_criterion": True},
                path="src/train.py", line=1, message="the prompt asks that every import be declared"),
        # no distribution name is guessed for an unknown import
        Example(files={PYPROJECT: _ONLY_TORCH, "src/train.py": "import torch\nimport frobnicate_lab\n"},
                path="src/train.py", line=2, message="does not know which distribution provides it"),
        Example(files={PYPROJECT: _ONLY_TORCH, "src/train.py": "from google.cloud import storage\n"},
                path="src/train.py", line=1, message='add "google-cloud-storage"'),
    ],
    valid=[
        Example(files={PYPROJECT: _GOOD_TOML, "src/train.py": """
            import os
            import torch
            import yaml
            """}),
        # omegaconf is part of Hydra's own interface
        Example(files={PYPROJECT: _HYDRA, "src/train.py": "import hydra\nfrom omegaconf import DictConfig\n"}),
        # guarded by ImportError
        Example(files={PYPROJECT: _ONLY_TORCH, "src/train.py": """
            try:
                import numpy
            except ImportError:
                numpy = None
            """}),
        # the user's map says which distribution provides an import
        Example(files={PYPROJECT: _ONLY_TORCH.replace('"torch>=2.0"', '"torch>=2.0", "my-lib-dist"'),
                       "src/train.py": "import mylib\n"},
                options={"distributions": {"mylib": "my-lib-dist"}}),
        # a dotted import name of a namespace package
        Example(files={PYPROJECT: _ONLY_TORCH.replace('"torch>=2.0"', '"google-cloud-storage"'),
                       "src/train.py": "from google.cloud import storage\n"}),
    ],
)
def undeclared_dependency(bundle: Bundle) -> Iterator[Hit]:
    deps = declared(bundle)
    if deps is None:
        return
    extra = user_map(bundle.option("distributions"))
    asked = bundle.option("dependency_criterion", False) is True
    names = [d.name for d in deps]
    seen = set()
    for source, imp in third_party_imports(bundle):
        if imp.guarded:
            continue
        module = _imported(imp)
        if any(provides(name, module, extra) for name in names):
            continue
        dists = candidates(module, extra)
        shown = _import_shown(module, dists, extra)
        if (source.path, shown) in seen:
            continue
        seen.add((source.path, shown))
        yield _undeclared(source.path, imp, shown, dists, deps, extra, asked)


def _imported(imp: Import) -> str:
    """The dotted name an import reaches: `from google.cloud import storage` may import the module
    google.cloud.storage (a submodule is tried first, falling back to its package)."""
    return f"{imp.module}.{imp.name}" if imp.name and imp.name != "*" and imp.module else imp.module


def _import_shown(module: str, dists: tuple[str, ...], extra) -> str:
    """The import as the message names it: its top level, or as much of a dotted name as tells its
    distribution (`google.cloud.storage`); an unknown module of a namespace (`google.cloud.x`) whole."""
    parts = module.split(".")
    if not dists:
        return module if is_namespace(parts[0]) else parts[0]
    for depth in range(1, len(parts) + 1):
        if candidates(".".join(parts[:depth]), extra) == dists:
            return ".".join(parts[:depth])
    return module


def _undeclared(path: str, imp: Import, shown: str, dists: tuple[str, ...], deps: list[Declared], extra, asked: bool) -> Hit:
    undeclared = f"`{shown}` is imported but not declared in pyproject.toml"
    unknown = [d.name for d in deps if not requirements_known(d.name)]
    maybe = (f" ({', '.join(f'`{n}`' for n in unknown[:3])}{' and others' if len(unknown) > 3 else ''} may: "
             "expreview does not know what it requires)") if unknown else ""
    if not dists:
        key = f'"{shown}"' if "." in shown else shown
        ask = (f"; add the package that provides `{shown}` to `project.dependencies`, or, if a declared one "
               f"provides it, say which in `[tool.expreview] distributions = {{{key} = \"…\"}}`")
        message = f"{undeclared}, and expreview does not know which distribution provides it{maybe}{ask}"
        sure = asked or not unknown
        return Hit(path, message, imp.node, severity=None if sure else WARNING)
    through = _installed_through(dists, deps)
    if through is None:
        message = f"{undeclared}, and nothing declared installs it{maybe}; add \"{dists[0]}\" to `project.dependencies`"
        sure = asked or not unknown
        return Hit(path, message, imp.node, severity=None if sure else WARNING)
    dep, dist, chain = through
    via = f" (through {', '.join(chain[:-1])})" if len(chain) > 1 else ""
    named = f"{dep.name}[{','.join(dep.extras)}]" if dep.extras else dep.name
    message = f"{undeclared}; it is installed only because `{named}` requires it{via}"
    if asked:
        message += f", and the prompt asks that every import be declared: add \"{dist}\" to `project.dependencies`"
        return Hit(path, message, imp.node, consequence=CRITERION)
    message += f"; declare it: add \"{dist}\" to `project.dependencies`"
    return Hit(path, message, imp.node, consequence=CRITERION, severity=WARNING)


def _installed_through(dists: tuple[str, ...], deps: list[Declared]) -> Optional[tuple[Declared, str, tuple[str, ...]]]:
    """(the declared dependency, the distribution, the chain of requirements) by which a declared
    dependency installs one of `dists`, by the shortest chain (then the first declared); None when none does."""
    wanted = {canonicalize_name(d): d for d in dists}
    best: Optional[tuple[Declared, str, tuple[str, ...]]] = None
    for dep in deps:
        reached = installs(dep.name, dep.extras)
        for key, dist in wanted.items():
            chain = reached.get(key)
            if chain is not None and (best is None or len(chain) < len(best[2])):
                best = (dep, dist, chain)
    return best


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
    imported = {_imported(imp) for _, imp in third_party_imports(bundle)}
    extra = user_map(bundle.option("distributions"))
    for dep in deps:
        key = canonicalize_name(dep.name)
        if key in NOT_IMPORTED_BY_DESIGN or key.startswith("hydra-") and key != "hydra-core":
            continue
        if any(provides(dep.name, module, extra) for module in imported):
            continue
        yield Hit(PYPROJECT, f"`{dep.name}` is declared but no file imports it; remove it or use it", dep.line)
