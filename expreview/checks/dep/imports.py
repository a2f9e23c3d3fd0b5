"""DEP: pyproject.toml declares every third-party module the code imports (DEP002) and nothing that
no file imports (DEP004), and the code uses no deep-learning framework but PyTorch (DEP003)."""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Iterator, Optional

from packaging.utils import canonicalize_name

from expreview.bundle import Bundle
from expreview.checks.dep.common import GOOD_TOML, PYPROJECT, Declared, declared, table
from expreview.checks.dep.distributions import (NOT_IMPORTED_BY_DESIGN, OTHER_FRAMEWORKS, STDLIB, candidates, installs,
                                                is_namespace, provides, requirements_known, user_map)
from expreview.edits import SAFE, Fix
from expreview.facts.cache import bundle_fact
from expreview.findings import ADVICE, CRASH, CRITERION, ERROR, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Import
from expreview.sources.pyfile import PythonSource
from expreview.sources.toml_edits import rewritten


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
    consequence=CRASH, fixable=True,
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
        Example(files={PYPROJECT: GOOD_TOML, "src/train.py": """
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
        Example(files={PYPROJECT: GOOD_TOML, "src/train.py": """
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
        hit = _undeclared(source.path, imp, shown, dists, deps, extra, asked)
        yield replace(hit, fix=partial(_declare_fix, bundle, dists[0])) if dists else hit


def _declare_fix(bundle: Bundle, distribution: str) -> Optional[Fix]:
    """`distribution` appended to the `project.dependencies` list (not to a table, which DEP001 fixes
    first, nor to a project that declares dependencies only elsewhere). No version range: uv resolves
    the new name together with the declared ones, so it takes a version they agree with (the snapshot
    of requirements records names, not ranges)."""
    doc = bundle.toml(PYPROJECT)
    if doc is None or doc.data is None or not isinstance(table(doc.data, "project").get("dependencies"), list):
        return None

    def add(document) -> None:
        document["project"]["dependencies"].append(distribution)

    edit = rewritten(PYPROJECT, doc.text, add)
    return Fix(f"Add \"{distribution}\" to project.dependencies", SAFE, (edit,)) if edit else None


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
    invalid=[Example(files={PYPROJECT: GOOD_TOML, "src/model.py": "import tensorflow as tf\n"})],
    valid=[Example(files={PYPROJECT: GOOD_TOML, "src/model.py": "import torch\n"})],
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
    invalid=[Example(files={PYPROJECT: GOOD_TOML, "src/train.py": "import torch\n"}, line=5)],
    valid=[Example(files={PYPROJECT: GOOD_TOML, "src/train.py": """
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
    reported = set()  # once per distribution, though [project] and [tool.poetry] may both list it
    for dep in deps:
        key = canonicalize_name(dep.name)
        if key in NOT_IMPORTED_BY_DESIGN or key.startswith("hydra-") and key != "hydra-core" or key in reported:
            continue
        reported.add(key)
        if any(provides(dep.name, module, extra) for module in imported):
            continue
        yield Hit(PYPROJECT, f"`{dep.name}` is declared but no file imports it; remove it or use it", dep.line)
