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

import difflib
import sys
from dataclasses import dataclass
from typing import Iterator, Optional

import libcst as cst
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from expreview.bundle import Bundle
from expreview.checks.dep.common import NAME, PYPROJECT, declared, table
from expreview.facts import api_snapshot
from expreview.facts.api_snapshot import CLASS, MISSING, MODULE, ApiSnapshot, Lookup
from expreview.facts.project_imports import project_module
from expreview.findings import ADVICE, CRASH, ERROR, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, Import, Index, dotted_name, encloses, iter_children
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
    if not _imports_third_party(bundle):
        return  # the snapshot is not read for a bundle that imports no library
    snapshot = api_snapshot.load()
    if snapshot is None:
        return
    libraries = _libraries(bundle, snapshot)
    if not libraries:
        return
    verdicts: dict[str, Optional[_Verdict]] = {}
    known = _known_at_run_time(bundle)
    for source in bundle.python_files():
        if source.module is None:
            continue
        for found in _missing_in(source, snapshot, libraries, known):
            distribution = snapshot.distribution(found.resolved) or ""
            if distribution not in verdicts:
                verdicts[distribution] = _verdict(bundle, snapshot, distribution)
            verdict = verdicts[distribution]
            if verdict is None:
                continue
            yield _hit(source, found, distribution, snapshot.version(distribution) or "", verdict)


# -- which libraries ---------------------------------------------------------------

def _third_party(imp: Import) -> Optional[str]:
    """The top module of an absolute import that is neither the project's nor the standard library's."""
    if imp.level or project_module(imp) is not None:
        return None
    top = imp.top_module
    return None if not top or top in sys.stdlib_module_names else top


def _imports_third_party(bundle: Bundle) -> bool:
    return any(_third_party(imp) for source in bundle.python_files() if source.module is not None
               for imp in source.index.imports)


def _libraries(bundle: Bundle, snapshot: ApiSnapshot) -> set[str]:
    """The snapshot's top modules the bundle imports, less those a bundle file shadows (`wandb.py`,
    `wandb/__init__.py`, at the root or in src/: the directory a script runs from is searched first)."""
    tops = {top for source in bundle.python_files() if source.module is not None
            for imp in source.index.imports if (top := _third_party(imp)) and snapshot.distribution(top)}
    shadowed = {top for top in tops for where in ("", "src/")
                if bundle.has(f"{where}{top}.py") or bundle.has(f"{where}{top}/__init__.py")}
    return tops - shadowed


# -- what the bundle makes exist --------------------------------------------------

def _aliases(index: Index) -> dict[str, list[Import]]:
    table_: dict[str, list[Import]] = {}
    for imp in index.imports:
        if imp.alias != "*" and not imp.level:
            table_.setdefault(imp.alias, []).append(imp)
    return table_


def _resolve_head(aliases: dict[str, list[Import]], head: str, scope: Optional[Function]) -> Optional[str]:
    """What an imported name refers to where it is read: None when no import binds it there, an
    import binding it is guarded, or its imports bind it to different things."""
    imports = [imp for imp in aliases.get(head, ()) if imp.scope is None or (scope is not None and encloses(imp.scope, scope))]
    if not imports or any(imp.guarded for imp in imports):
        return None
    targets = {imp.qualified for imp in imports}
    return targets.pop() if len(targets) == 1 else None


def _known_at_run_time(bundle: Bundle) -> set[str]:
    """Dotted names the bundle assigns (`np.foo = ...`, `setattr(np, "foo", ...)`) or tests for
    (`hasattr(np, "foo")`) anywhere, resolved through each file's imports (`numpy.foo`)."""
    known: set[str] = set()
    for source in bundle.python_files():
        if source.module is None:
            continue
        index = source.index
        aliases = _aliases(index)

        for attr in index.attributes:
            if attr.store and (name := _resolved(aliases, attr.name, attr.scope)):
                known.add(name)
        for call in index.calls:
            if call.name not in ("setattr", "hasattr"):
                continue
            owner, attribute = call.positional(0), _string(call.positional(1))
            owner_name = dotted_name(owner) if owner is not None else ""
            if owner_name and attribute and (name := _resolved(aliases, owner_name, call.scope)):
                known.add(f"{name}.{attribute}")
    return known


def _resolved(aliases: dict[str, list[Import]], dotted: str, scope: Optional[Function]) -> Optional[str]:
    """`np.foo` as `numpy.foo`; None when its head is not an import's name there."""
    head, _, rest = dotted.partition(".")
    target = _resolve_head(aliases, head, scope)
    return None if target is None else target + ("." + rest if rest else "")


def _string(node: Optional[cst.CSTNode]) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


# -- the file's missing names ---------------------------------------------------------

@dataclass(frozen=True)
class _Missing:
    node: cst.CSTNode
    lookup: Lookup
    resolved: str  # the dotted name that fails, imports resolved: `omegaconf.OmegaConf.deepcopy`
    owner: str  # what lacks it, as the project reaches it: `omegaconf.OmegaConf`, `hydra.utils`
    written: str  # the failing expression as written: `OmegaConf.deepcopy`; '' for an import
    module_part: bool  # the missing name is a module of an import path (`from sklearn.metric import ...`)


def _missing_in(source: PythonSource, snapshot: ApiSnapshot, libraries: set[str], known: set[str]) -> Iterator[_Missing]:
    index = source.index
    guards = _Guards(source)
    seen: set[tuple[str, str]] = set()
    for found in (*_missing_imports(index, snapshot, libraries), *_missing_attributes(index, snapshot, libraries)):
        key = (found.lookup.owner, found.lookup.name)
        if key in seen or found.resolved in known or guards.guarded(found.node, import_=not found.written):
            continue
        seen.add(key)
        yield found


def _missing_imports(index: Index, snapshot: ApiSnapshot, libraries: set[str]) -> Iterator[_Missing]:
    for imp in index.imports:
        if imp.level or imp.guarded or imp.name == "*" or imp.top_module not in libraries:
            continue
        parts = imp.module.split(".")
        here = snapshot.lookup(parts[0])
        for at, part in enumerate(parts[1:], 1):  # every part of the module path must be a module
            if here.kind != MODULE:
                break
            here = snapshot.follow(here, [part])
            if here.kind == MISSING:
                yield _Missing(imp.node, here, ".".join(parts[:at + 1]), ".".join(parts[:at]), "", True)
                break
        else:
            if here.kind == MODULE and imp.name is not None:
                found = snapshot.follow(here, [imp.name])
                if found.kind == MISSING:
                    yield _Missing(imp.node, found, f"{imp.module}.{imp.name}", imp.module, "", False)


def _missing_attributes(index: Index, snapshot: ApiSnapshot, libraries: set[str]) -> Iterator[_Missing]:
    aliases = _aliases(index)
    for attr in index.attributes:
        if attr.store:
            continue
        parts = attr.name.split(".")
        head = _resolve_head(aliases, parts[0], attr.scope)
        if head is None or head.split(".")[0] not in libraries:
            continue
        start = snapshot.lookup(head)
        if start.kind not in (MODULE, CLASS):
            continue
        found = snapshot.follow(start, parts[1:])
        if found.kind != MISSING:
            continue
        cut = found.at + 1  # parts[cut] is the missing name
        owner = ".".join([head, *parts[1:cut]])
        yield _Missing(attr.node, found, f"{owner}.{parts[cut]}", owner, ".".join(parts[:cut + 1]), False)


_VERSION_WORDS = ("version", "TYPE_CHECKING")
_TEST_CALLS = ("hasattr", "dir")
_CATCH_ALL = ("Exception", "BaseException")


class _Guards:
    """Where in a file a failing name does not fail the run: the parent links are made on the
    first question (most files have no missing name at all)."""

    def __init__(self, source: PythonSource):
        self.source = source
        self._parents: Optional[dict[int, cst.CSTNode]] = None
        self._rebound: Optional[set[str]] = None

    def parents(self) -> dict[int, cst.CSTNode]:
        if self._parents is None:
            parents: dict[int, cst.CSTNode] = {}
            module = self.source.module
            stack: list[cst.CSTNode] = [module] if module is not None else []
            while stack:
                node = stack.pop()
                for child in iter_children(node):
                    parents[id(child)] = node
                    stack.append(child)
            self._parents = parents
        return self._parents

    def rebound(self) -> set[str]:
        """Names the file binds other than by an import: assignments, definitions, parameters,
        loop, comprehension, `with` and `except` targets."""
        if self._rebound is None:
            index = self.source.index
            names = set(index.module_assigns)
            for fn in index.functions:
                names.update(fn.assigns)
                names.update(fn.params)
            for node in self._walk():
                if isinstance(node, cst.Param):
                    names.add(node.name.value)
                elif isinstance(node, cst.ExceptHandler) and node.name is not None:
                    names.update(n.value for n in self._names_in(node.name.name))
                elif isinstance(node, cst.CompFor):
                    names.update(n.value for n in self._names_in(node.target))
            self._rebound = names
        return self._rebound

    def _walk(self) -> Iterator[cst.CSTNode]:
        module = self.source.module
        stack: list[cst.CSTNode] = [module] if module is not None else []
        while stack:
            node = stack.pop()
            yield node
            stack.extend(iter_children(node))

    @staticmethod
    def _names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Name):
                yield current
            stack.extend(iter_children(current))

    def _future_annotations(self) -> bool:
        return any(imp.module == "__future__" and imp.name == "annotations" for imp in self.source.index.imports)

    def guarded(self, node: cst.CSTNode, import_: bool) -> bool:
        if not import_:
            head = dotted_name(node).split(".")[0]
            if head in self.rebound():
                return True
        parents = self.parents()
        child, parent = node, parents.get(id(node))
        crossed_function = False
        while parent is not None:
            if isinstance(parent, cst.Annotation) and (self._future_annotations() or
                                                       isinstance(parents.get(id(parent)), cst.AnnAssign)
                                                       and self.source.index.scope_of(self._stmt(parent)) is not None):
                return True
            if isinstance(parent, cst.Try) and child is parent.body and not crossed_function \
                    and any(self._catches(h, import_) for h in parent.handlers):
                return True
            if isinstance(parent, (cst.If, cst.IfExp)) and child is not parent.test and self._tests_availability(parent.test):
                return True
            if isinstance(parent, cst.With) and child is parent.body and not crossed_function \
                    and any(self._suppresses(item.item, import_) for item in parent.items):
                return True
            if isinstance(parent, (cst.FunctionDef, cst.Lambda)):
                crossed_function = True
            child, parent = parent, parents.get(id(parent))
        return False

    def _stmt(self, node: cst.CSTNode) -> int:
        parents = self.parents()
        current: Optional[cst.CSTNode] = node
        while current is not None and id(current) not in self.source.index.stmt_of:
            current = parents.get(id(current))
        return self.source.index.stmt_of.get(id(current), -1) if current is not None else -1

    @staticmethod
    def _catches(handler: cst.ExceptHandler, import_: bool) -> bool:
        if handler.type is None:
            return True
        types = [handler.type]
        if isinstance(handler.type, cst.Tuple):
            types = [el.value for el in handler.type.elements]
        wanted = ("ImportError", "ModuleNotFoundError") if import_ else ("AttributeError",)
        return any(dotted_name(t).split(".")[-1] in wanted + _CATCH_ALL for t in types)

    @classmethod
    def _suppresses(cls, item: cst.BaseExpression, import_: bool) -> bool:
        """`contextlib.suppress(AttributeError)` (ImportError for an import)."""
        if not isinstance(item, cst.Call) or dotted_name(item.func).split(".")[-1] != "suppress":
            return False
        wanted = ("ImportError", "ModuleNotFoundError") if import_ else ("AttributeError",)
        return any(dotted_name(arg.value).split(".")[-1] in wanted + _CATCH_ALL for arg in item.args)

    def _tests_availability(self, test: cst.CSTNode) -> bool:
        """A test about versions, TYPE_CHECKING, or whether a name exists (`hasattr`, `dir()`)."""
        stack = [test]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Name) and (any(w.lower() in node.value.lower() for w in _VERSION_WORDS)):
                return True
            if isinstance(node, cst.Call) and dotted_name(node.func).split(".")[-1] in _TEST_CALLS:
                return True
            stack.extend(iter_children(node))
        return False


# -- the verdict ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Verdict:
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


def _allows_earlier_series(specifier: SpecifierSet, version: Version) -> bool:
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
        loose = loose or _allows_earlier_series(specifier, version)
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


def _verdict(bundle: Bundle, snapshot: ApiSnapshot, distribution: str) -> Optional[_Verdict]:
    """How a name that the snapshot's version lacks is judged for this project; None: silence.

    A distribution pyproject.toml does not declare may come with one it declares: hydra-core
    1.3.8 requires `omegaconf<2.4,>=2.2`. When the declared one is judged at its snapshot version
    and that requirement is judged at the other's, the other is judged too."""
    own = _declared_judgement(bundle, snapshot, distribution)
    if own is not None:
        judgement, shown = own
        return _Verdict(True, f", which pyproject.toml's {shown} allows") if judgement == _JUDGED else None
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
                return _Verdict(True, f"; pyproject.toml does not declare {distribution}, but its {through[1]} "
                                      f"installs it, and {other} {snapshot.version(other)} requires `{text}`, "
                                      "which allows that version")
    return _Verdict(False, f"; pyproject.toml does not declare {distribution}, so the release that installs is not pinned")


# -- the message -----------------------------------------------------------------------

def _hit(source: PythonSource, found: _Missing, distribution: str, version: str, verdict: _Verdict) -> Hit:
    lookup = found.lookup
    name = lookup.name
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
