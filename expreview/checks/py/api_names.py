"""PY008: a name imported from, or an attribute read on, a well-known library that the library does
not define (`from hydra.utils import get_original_cli_args`, `OmegaConf.deepcopy`).

What is judged, against the shipped API snapshot (expreview.facts.api_snapshot, made from the real
packages by make_api_snapshot): `from lib.mod import name` (the module exists, and has `name` or a
submodule of that name), `import lib.mod` (the module exists), and attribute chains whose head is a
name the file imports (`np.foo`, `F.gelu2`, `OmegaConf.deepcopy`), followed through modules and
classes only: the chain stops, silently, at a function, a constant or an instance (`model.x`,
`wandb.run.x`), at a class whose attributes the snapshot cannot tell (a dynamic `__getattr__`, as
`torch.nn.Module` and `pandas.DataFrame` have, or an Enum's metaclass), at a module it did not walk
or that serves any name, and at a `_private` name.

Silent as well: a name assigned anywhere in the bundle (`np.foo = ...`, `setattr(np, "foo", ...)`)
or tested for (`hasattr(np, "foo")`); a read inside `try:` whose handler catches what it raises
(AttributeError for an attribute, ImportError for an import, or Exception), or inside `with
contextlib.suppress(...)` of one of those; a read under an `if` (or a conditional expression) whose
test is about versions, `hasattr`/`dir()` or TYPE_CHECKING; an annotation that is never evaluated (`from __future__ import annotations`, or a local variable's);
a head name the file also binds otherwise (a parameter, an assignment, a loop or `except` target),
or that its imports bind to more than one thing, or whose import is itself guarded; a library a
bundle file shadows (`wandb.py`).

The snapshot holds one version V of each library, so the verdict depends on what the project
allows (pyproject.toml, read as expreview.checks.dep.common.declared reads it):
- error when every requirement for the distribution allows V and no release of an earlier major
  series (for a 0.x version the minor is the series, semver's way: wandb 0.31 and 0.15 differ):
  `hydra-core>=1.3` with V 1.3.8, `torch>=2.0` with V 2.13. Within a series a removed name is rare,
  so a name V lacks fails on what installs; the one known false finding is a name a release after V
  added, which regenerating the snapshot when the libraries release keeps rare;
- silent when a requirement excludes V (`hydra-core==1.2.0`: V says nothing about that release) or
  also allows an earlier series (`numpy>=1.20`: the author may have written for numpy 1, where
  `np.float_` exists) or cannot be read (a Poetry table, a URL);
- not declared, but required by a declared library that is judged as above, with a requirement
  judged the same way at V (the snapshot records each library's requirements on the others, from
  its metadata: hydra-core 1.3.8 requires `omegaconf<2.4,>=2.2`): an error; silent when that
  requirement excludes V;
- otherwise, not declared: a warning (consequence advice). DEP002 already reports the missing
  declaration; what installs then is what another dependency pulls in, or the newest release, so a
  name V lacks very likely fails, but no range the project wrote says so: worth a note, never a
  block. A declared range reaching back to an earlier series is a statement of which API the author
  wrote for (so silence); no declaration states none.
"""
from __future__ import annotations

from typing import Iterator, Optional

from expreview.bundle import Bundle
from expreview.checks.py.api_guards import Guards
from expreview.facts import api_snapshot
from expreview.facts.api_snapshot import CLASS, ApiSnapshot
from expreview.facts.api_uses import (
    MissingName,
    imported_libraries,
    imports_third_party,
    known_at_run_time,
    missing_attributes,
    missing_imports,
)
from expreview.facts.api_versions import Verdict, verdict_for
from expreview.findings import ADVICE, CRASH, ERROR, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.pyfile import PythonSource



def _project(*requirements: str) -> str:
    listed = ", ".join(f'"{r}"' for r in requirements)
    return f'[project]\nname = "exp"\nversion = "0.1.0"\nrequires-python = ">=3.10"\ndependencies = [{listed}]\n'


@rule(
    code="PY008", name="missing-library-name", severity=ERROR,
    consequence=CRASH,
    criterion="The code is immediately executable: the names it imports from libraries, and the "
              "attributes it reads on their modules and classes, exist in the versions it allows.",
    rationale="A generated project often calls an API that the library never had or has removed "
              "(`hydra.utils.get_original_cli_args`, `OmegaConf.deepcopy`): the run dies with "
              "ImportError or AttributeError at that line. The names are judged against a snapshot of "
              "the real libraries, taken at one version of each, which the project's declared range "
              "must allow.",
    invalid=[
        Example(files={"src/main.py": """
            from hydra.utils import get_original_cli_args, get_original_cwd


            def main():
                return get_original_cli_args(), get_original_cwd()
            """, "pyproject.toml": _project("hydra-core>=1.3")},
            line=1, message="`hydra.utils` has no `get_original_cli_args` in hydra-core"),
        Example(files={"src/train.py": """
            from omegaconf import OmegaConf


            def snapshot(cfg):
                return OmegaConf.deepcopy(cfg)
            """, "pyproject.toml": _project("hydra-core>=1.3", "omegaconf>=2.3")},
            line=5, message="`omegaconf.OmegaConf` has no attribute `deepcopy`"),
        # through an alias, with the close name it meant
        Example(files={"src/model.py": """
            import torch.nn.functional as F


            def act(x):
                return F.gelu2(x)
            """, "pyproject.toml": _project("torch>=2.0")},
            line=5, message="use `gelu` instead"),
        # a module that does not exist
        Example(files={"src/evaluate.py": """
            from sklearn.metric import f1_score
            """, "pyproject.toml": _project("scikit-learn>=1.3")},
            line=1, message="`sklearn` has no module `metric`"),
        # not declared, but installed by a declared library whose own requirement allows the snapshot's version
        Example(files={"src/train.py": """
            from omegaconf import OmegaConf

            copy = OmegaConf.deepcopy
            """, "pyproject.toml": _project("hydra-core>=1.3")},
            line=3, message="does not declare omegaconf, but its `hydra-core>=1.3` installs it"),
        # not declared at all: which release installs is not pinned, a warning
        Example(files={"src/train.py": """
            import numpy as np

            DTYPE = np.float_
            """, "pyproject.toml": _project("torch>=2.0")},
            line=3, message="pyproject.toml does not declare numpy, so the release that installs is not pinned"),
    ],
    valid=[
        # names that exist, through every kind of import
        Example(files={"src/main.py": """
            import numpy as np
            import torch
            import torch.nn.functional as F
            from hydra.utils import get_original_cwd, instantiate
            from omegaconf import DictConfig, OmegaConf
            from torch.utils.data import DataLoader


            def main(cfg: DictConfig):
                data = OmegaConf.to_container(cfg, resolve=True)
                rng = np.random.default_rng(0)
                x = torch.nn.functional.gelu(torch.zeros(2)) + F.relu(torch.ones(2))
                return data, rng, x, get_original_cwd(), instantiate, DataLoader
            """, "pyproject.toml": _project("torch>=2.0", "numpy>=2.0", "hydra-core>=1.3", "omegaconf>=2.3")}),
        # assigned at run time somewhere in the bundle
        Example(files={"src/model.py": """
            import numpy as np

            np.foo = np.float64
            """, "src/train.py": """
            import numpy as np


            def cast(x):
                return np.foo(x)
            """, "pyproject.toml": _project("numpy>=2.0")}),
        # tested with hasattr, read with getattr and a default, read inside try/except AttributeError
        # or under contextlib.suppress(AttributeError)
        Example(files={"src/train.py": """
            import contextlib
            import copy

            import torch
            import torch.nn.functional as F
            from omegaconf import OmegaConf


            def prepare(model, cfg):
                if hasattr(torch, "compile2"):
                    model = torch.compile2(model)
                act = getattr(F, "gelu2", None)
                try:
                    saved = OmegaConf.deepcopy(cfg)
                except AttributeError:
                    saved = copy.deepcopy(cfg)
                with contextlib.suppress(AttributeError):
                    saved = OmegaConf.deepcopy(saved)
                return model, act, saved
            """, "pyproject.toml": _project("torch>=2.0", "omegaconf>=2.3")}),
        # an import guarded by `except ImportError`
        Example(files={"src/main.py": """
            try:
                from hydra.utils import get_original_cli_args
            except ImportError:
                get_original_cli_args = None
            """, "pyproject.toml": _project("hydra-core>=1.3")}),
        # a library the snapshot does not have
        Example(files={"src/model.py": """
            import einops


            def flat(x):
                return einops.rearrangee(x, "b c -> (b c)")
            """, "pyproject.toml": _project("einops>=0.7")}),
        # attributes of instances are not judged, only of modules and classes
        Example(files={"src/train.py": """
            import torch
            import wandb
            from omegaconf import OmegaConf


            def run():
                model = torch.nn.Linear(2, 2)
                cfg = OmegaConf.create({"lr": 0.1})
                wandb.run.log_everything(model.weightt, cfg.lr)
            """, "pyproject.toml": _project("torch>=2.0", "omegaconf>=2.3", "wandb>=0.31")}),
        # a class with a dynamic __getattr__ (torch.nn.Module, pandas.DataFrame): its attributes are not told
        Example(files={"src/model.py": """
            import torch


            def hook(model):
                return torch.nn.Module.register_everything_hook(model)
            """, "pyproject.toml": _project("torch>=2.0")}),
        # the declared range allows an earlier major release, or excludes the snapshot's version
        Example(files={"src/train.py": """
            import numpy as np
            from hydra.utils import get_original_cli_args

            DTYPE = np.float_
            """, "pyproject.toml": _project("numpy>=1.20", "hydra-core==1.2.0")}),
        # a head name bound otherwise, a version test, TYPE_CHECKING, an annotation never evaluated
        Example(files={"src/model.py": """
            from __future__ import annotations

            from typing import TYPE_CHECKING

            import numpy as np
            import torch

            if TYPE_CHECKING:
                from torch import FutureTensor


            def pick(np, x: torch.FutureTensor):
                return np.foo(x)


            if np.__version__.startswith("1."):
                FLOAT = np.float_
            else:
                FLOAT = np.float64
            """, "pyproject.toml": _project("numpy>=2.0", "torch>=2.0")}),
        # a bundle file shadows the library
        Example(files={"wandb.py": """
            def init_run(**kwargs):
                return kwargs
            """, "src/train.py": """
            import wandb

            wandb.init_run(project="x")
            """, "pyproject.toml": _project("wandb>=0.31")}),
    ],
)
def missing_library_name(bundle: Bundle) -> Iterator[Hit]:
    if not imports_third_party(bundle):
        return  # the snapshot is not read for a bundle that imports no library
    snapshot = api_snapshot.load()
    if snapshot is None:
        return
    libraries = imported_libraries(bundle, snapshot)
    if not libraries:
        return
    verdicts: dict[str, Optional[Verdict]] = {}
    known = known_at_run_time(bundle)
    for source in bundle.python_files():
        if source.module is None:
            continue
        for found in _missing_in(source, snapshot, libraries, known):
            distribution = snapshot.distribution(found.resolved) or ""
            if distribution not in verdicts:
                verdicts[distribution] = verdict_for(bundle, snapshot, distribution)
            verdict = verdicts[distribution]
            if verdict is None:
                continue
            yield _hit(source, found, distribution, snapshot.version(distribution) or "", verdict)


# -- the file's missing names, less the guarded ones ------------------------------

def _missing_in(source: PythonSource, snapshot: ApiSnapshot, libraries: set[str],
                known: set[str]) -> Iterator[MissingName]:
    index = source.index
    guards = Guards(source)
    seen: set[tuple[str, str]] = set()
    for found in (*missing_imports(index, snapshot, libraries), *missing_attributes(index, snapshot, libraries)):
        key = (found.lookup.owner, found.lookup.name)
        if key in seen or found.resolved in known or guards.guarded(found.node, import_=not found.written):
            continue
        seen.add(key)
        yield found


# -- the message -----------------------------------------------------------------------

def _hit(source: PythonSource, found: MissingName, distribution: str, version: str, verdict: Verdict) -> Hit:
    lookup = found.lookup
    name = lookup.name
    import difflib  # here: only a finding suggests a name

    near = difflib.get_close_matches(name, [d for d in lookup.defined if d != name], n=1, cutoff=0.8)
    what = "module" if found.module_part else ("attribute" if lookup.owner_kind == CLASS else "")
    missing = f"`{found.owner}` has no {what + ' ' if what else ''}`{name}`"
    where = f"in {distribution} {version} (the version in expreview's API snapshot{verdict.allows})"
    if found.written:
        fails = f"reading `{found.written}` raises AttributeError when this line runs"
    elif found.module_part:
        fails = "the import fails (ModuleNotFoundError)"
    else:
        fails = "the import fails (ImportError)"
    if lookup.note:  # the library's own word on a name it removed, with what to use instead
        advice = f"{distribution} says: {lookup.note.rstrip('.')}"
    elif near:
        advice = f"use `{near[0]}` instead"
    else:
        kind = "a module" if found.module_part else ("an attribute" if lookup.owner_kind == CLASS else "a name")
        advice = f"use {kind} that `{found.owner}` has, or require a release of {distribution} that has `{name}`"
    if not verdict.declared:
        advice += f"; and declare {distribution} with a version range"
    message = f"{missing} {where}; {fails}: {advice}"
    if verdict.declared:
        return Hit(source.path, message, found.node)
    return Hit(source.path, message, found.node, severity=WARNING, consequence=ADVICE)
