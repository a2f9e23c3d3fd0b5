"""Generate api_snapshot.pack, the package data PY008 reads: which public names the modules of the
libraries these projects use define, and which attributes their classes have, taken from the real
installed packages (imported here, never while reviewing).

    /work/main/.venv/bin/python -m expreview.checks.py.make_api_snapshot            # write the file
    /work/main/.venv/bin/python -m expreview.checks.py.make_api_snapshot --check    # exit 1 when it differs

Install the distributions of DISTRIBUTIONS first (`pip install transformers datasets pandas seaborn
peft accelerate evaluate ...` next to torch; those that are not installed, or whose top module does
not import, are left out and listed under `missing`). A run takes about a minute and writes about
0.8 MB (7 MB of JSON: some 3,000 modules and 11,500 classes). The snapshot shipped now was made on
CPython 3.11.7 (Linux x86_64) from: accelerate 1.16.0, datasets 5.2.0, evaluate 0.4.6, hydra-core
1.3.8, matplotlib 3.11.2, numpy 2.4.6, omegaconf 2.3.1, optuna 5.1.0, pandas 3.1.1, peft 0.21.2,
scikit-learn 1.9.1, scipy 1.17.1, seaborn 0.13.2, torch 2.13.0+cpu, tqdm 4.70.1, transformers 5.24.0,
wandb 0.31.0. torchvision 0.28.0 (PyPI's build) does not import beside the CPU build of torch
(`operator torchvision::nms does not exist`), and timm needs torchvision, so both are missing. The
file records every version it was made from (`distributions`), so a regeneration with other
versions shows in the diff.

Each distribution is read in a child process of its own (`--child`), so that what one library
imports or patches cannot change what another one shows, with the network-facing libraries told to
stay offline. In the child:

- the roots are the distribution's public top-level import names, from the installed metadata
  (`importlib.metadata.packages_distributions()`), namespace packages left out;
- the walk is breadth first, in sorted order, over public submodules (`pkgutil.iter_modules`; no
  `_private` module, no `test`/`tests`/`conftest`/`test_*` package), at most MAX_DEPTH dotted parts
  deep and MAX_MODULES modules per root, a whole level at a time (the level that would pass the
  bound is not entered: transformers stops at `transformers.models.bert`, three parts deep); a
  module that fails to import is left out, but its parent still lists it under `submodules`, so
  the rule knows it exists;
- once the walk is over (so that names one module adds to another, like
  `sklearn.experimental.enable_iterative_imputer` does to `sklearn.impute`, count), each module
  gets: `names` (public `dir()` names and `__all__`, lazily listed ones included: a lazy module's
  `__dir__` lists them; for a module object of a ModuleType subclass, its class's attributes too),
  split into `classes` (name -> type key), `modules` (name -> a walked module) and the other
  `names`; `submodules`; and for a module with a `__getattr__`, `dynamic`,
  with the names it serves found by probing the strings its `__getattr__` mentions (its constants,
  the names it reads, the contents of the collections those are): a name counts unless reading it
  raises AttributeError, so one that needs a missing optional package counts; one that fails with a
  message of the library's own (numpy's removed aliases) keeps it under `removed`. The module is `open`
  when it serves a name that cannot exist or its hook cannot be read (then PY008 judges nothing in it);
- `types` has every class reached (and their bases and metaclasses), keyed `module.qualname`: its
  own public and dunder attributes (`vars()`, plus what a custom `__dir__` adds), its `bases`, its
  `meta` (when not `type`), and `open` when it defines `__getattr__`/`__getattribute__`. When two
  different classes have one `module.qualname`, the one that name reads back keeps the key and the
  others are `key#distribution-n`.

`distributions` records, for each distribution read, its version, its top-level import names and
`requires`: its unconditional requirements on the other distributions read (hydra-core's
`omegaconf<2.4,>=2.2`), from its metadata, so PY008 can tell what a declared library installs.

The file (`expreview.facts.api_snapshot.pack`) is a header line and one zlib-compressed JSON
bucket per module, with sorted keys and no timestamp, so the same versions give the same bytes."""
from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import json
import os
import pkgutil
import subprocess
import sys
import tempfile
import types
import warnings
from collections import deque
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

OUTPUT = Path(__file__).with_name("api_snapshot.pack")
FORMAT = 1

# The distributions read: the libraries the generated experiment projects import.
DISTRIBUTIONS = (
    "torch", "torchvision", "transformers", "datasets", "hydra-core", "omegaconf", "wandb", "optuna",
    "numpy", "scipy", "scikit-learn", "pandas", "matplotlib", "seaborn", "timm", "peft", "accelerate",
    "evaluate", "tqdm",
)

MAX_DEPTH = 4  # dotted parts: transformers.models.bert.modeling_bert
MAX_MODULES = 2000  # modules per root (a level that would pass it is left out)
MAX_CANDIDATES = 5000  # names probed per module `__getattr__`
MAX_NOTE = 300  # characters kept of a library's own message for a removed name
CHILD_TIMEOUT = 900  # seconds for one distribution; a child that takes longer fails the run
PROBE = "expreview_probe_no_such_name"  # a name no module defines: a `__getattr__` that serves it is open

# Submodule names of test packages: walking them runs test set-up and adds nothing a project imports.
TEST_PACKAGES = frozenset({"test", "tests", "conftest"})

# What the child processes run with: no network, no GPU, no window, caches in a scratch directory.
CHILD_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
    "TRANSFORMERS_VERBOSITY": "error", "TOKENIZERS_PARALLELISM": "false", "WANDB_MODE": "disabled",
    "WANDB_SILENT": "true", "MPLBACKEND": "Agg", "CUDA_VISIBLE_DEVICES": "", "PYTHONHASHSEED": "0",
    "PYTHONWARNINGS": "ignore", "TQDM_DISABLE": "1",
}


def public_module(name: str) -> bool:
    return name.isidentifier() and not name.startswith("_") and name not in TEST_PACKAGES \
        and not name.startswith("test_")


def public_attribute(name: str) -> bool:
    """A public name, or a dunder (`__enter__`); not a `_private` one."""
    return not name.startswith("_") or (len(name) > 4 and name.startswith("__") and name.endswith("__"))


def type_key(cls: type) -> str:
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return f"?.{getattr(cls, '__name__', 'class')}"
    return f"{module}.{qualname}"


@contextlib.contextmanager
def _quiet() -> Any:
    """Imports print and warn; none of it is ours to show."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield


def _import(name: str) -> Optional[types.ModuleType]:
    try:
        with _quiet():
            return importlib.import_module(name)
    except (Exception, SystemExit):  # a module that cannot import here is left out
        return None


def _read(owner: Any, name: str) -> tuple[bool, Any]:
    """(True, value) when `owner.name` can be read, else (False, None)."""
    try:
        with _quiet():
            return True, getattr(owner, name)
    except (Exception, SystemExit):
        return False, None


def _served(module: types.ModuleType, name: str) -> tuple[bool, str]:
    """Whether a module's `__getattr__` knows `name`: it gives a value, or fails with anything but
    AttributeError (a name that needs an optional package: optuna.integration's `WeightsAndBiasesCallback`
    without optuna-integration). When it does not, the library's own message if it says more than
    "has no attribute" (numpy: "`np.float_` was removed in the NumPy 2.0 release. Use `np.float64` instead.")."""
    try:
        with _quiet():
            getattr(module, name)
    except AttributeError as error:
        text = " ".join(str(error).split())
        return False, ("" if "has no attribute" in text else text[:MAX_NOTE])
    except (Exception, SystemExit):
        return True, ""
    return True, ""


def _dir(owner: Any) -> list[str]:
    try:
        with _quiet():
            return [n for n in dir(owner) if isinstance(n, str)]
    except Exception:
        return []


def submodules(module: types.ModuleType) -> list[str]:
    """The public submodules of a package (without importing them), sorted."""
    path = getattr(module, "__path__", None)
    if path is None:
        return []
    try:
        found = {info.name for info in pkgutil.iter_modules(list(path))}
    except Exception:
        return []
    return sorted(n for n in found if public_module(n))


def walk(root: str, max_depth: int = MAX_DEPTH, max_modules: int = MAX_MODULES) -> tuple[dict[str, types.ModuleType], dict[str, list[str]]]:
    """Import `root` and its public submodules breadth first, one whole level at a time: (name ->
    module, name -> submodule names). A level that would take the walk past `max_modules` is not
    entered, so what is walked is every module down to some depth, never an alphabetical part of one."""
    modules: dict[str, types.ModuleType] = {}
    listing: dict[str, list[str]] = {}
    level = [root]
    depth = 1
    while level and depth <= max_depth and len(modules) + len(level) <= max_modules:
        below: list[str] = []
        for name in level:
            module = _import(name)
            if module is None:
                continue
            modules[name] = module
            listing[name] = submodules(module)
            below.extend(f"{name}.{sub}" for sub in listing[name])
        level, depth = below, depth + 1
    return modules, listing


def _getattr_hook(module: types.ModuleType) -> Any:
    """The module's `__getattr__` (a module-level function, or a method of a module subclass), or None."""
    hook = vars(module).get("__getattr__")
    if hook is None and type(module) is not types.ModuleType:
        hook = next((vars(k)["__getattr__"] for k in type(module).__mro__
                     if k is not types.ModuleType and k is not object and "__getattr__" in vars(k)), None)
    return hook


def _strings_of(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        yield from (k for k in value if isinstance(k, str))
    elif isinstance(value, (list, tuple, set, frozenset)):
        yield from (v for v in value if isinstance(v, str))
    elif isinstance(value, (types.ModuleType, type)):
        yield from _dir(value)


def _code_strings(code: types.CodeType) -> Iterable[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, str):
            yield const
        elif isinstance(const, types.CodeType):
            yield from _code_strings(const)


def getattr_candidates(hook: Any, module: types.ModuleType) -> Optional[set[str]]:
    """Names a `__getattr__` may serve: the strings its code mentions, and what the collections,
    modules and classes it reads (globals, closure cells, the module's and its class's attributes) hold. None
    when it is not Python code that can be read."""
    function = inspect.unwrap(hook)
    function = getattr(function, "__func__", function)
    code = getattr(function, "__code__", None)
    if not isinstance(code, types.CodeType):
        return None
    mentioned = set(_code_strings(code))
    found = set(mentioned)
    scopes = [getattr(function, "__globals__", {}), vars(module)]
    scopes += [vars(k) for k in type(module).__mro__ if k not in (types.ModuleType, object)]
    for name in sorted(mentioned):
        for scope in scopes:
            if name in scope:
                found.update(_strings_of(scope[name]))
    for cell in getattr(function, "__closure__", None) or ():
        try:
            found.update(_strings_of(cell.cell_contents))
        except ValueError:  # an empty cell
            pass
    return {n for n in found if n.isidentifier() and not n.startswith("_")}


def module_entry(module: types.ModuleType, walked: set[str], listing: list[str],
                 key_of: Callable[[type], str] = type_key) -> dict[str, Any]:
    """A module's record (`key_of` names its classes)."""
    entry, found = _module_entry(module, walked, listing)
    return _with_classes(entry, found, key_of)


def _with_classes(entry: dict[str, Any], found: dict[str, type], key_of: Callable[[type], str]) -> dict[str, Any]:
    if found:
        entry = {**entry, "classes": {name: key_of(cls) for name, cls in found.items()}}
    return entry


def _module_entry(module: types.ModuleType, walked: set[str], listing: list[str]) -> tuple[dict[str, Any], dict[str, type]]:
    """A module's record without its classes, and the classes it holds by name."""
    names = {n for n in _dir(module) if not n.startswith("_")}
    for klass in type(module).__mro__:  # a module object of a subclass (torch.backends.cudnn) has its properties
        if klass not in (types.ModuleType, object):
            names.update(n for n in vars(klass) if isinstance(n, str) and not n.startswith("_"))
    exported = vars(module).get("__all__")
    if isinstance(exported, (list, tuple)):
        names.update(n for n in exported if isinstance(n, str))
    entry: dict[str, Any] = {}
    hook = _getattr_hook(module)
    if hook is not None:
        entry["dynamic"] = 1
        candidates = getattr_candidates(hook, module)
        if candidates is None or _served(module, PROBE)[0]:
            entry["open"] = 1
        else:
            removed: dict[str, str] = {}
            for name in sorted(candidates - names)[:MAX_CANDIDATES]:
                served, note = _served(module, name)
                if served:
                    names.add(name)
                elif note:
                    removed[name] = note
            if removed:
                entry["removed"] = removed
    found: dict[str, type] = {}
    children: dict[str, str] = {}
    other: list[str] = []
    for name in sorted(names):
        ok, value = _read(module, name)
        with _quiet():  # a deprecation proxy warns when its class is asked
            kind = "class" if ok and isinstance(value, type) else \
                "module" if ok and isinstance(value, types.ModuleType) and getattr(value, "__name__", None) in walked else ""
        if kind == "class":
            found[name] = value
        elif kind == "module":
            children[name] = value.__name__
        else:
            other.append(name)
    for key, value in (("modules", children), ("names", other), ("submodules", listing)):
        if value:
            entry[key] = value
    return entry, found


def _own_attributes(cls: type) -> set[str]:
    try:
        return {n for n in vars(cls) if isinstance(n, str) and public_attribute(n)}
    except TypeError:
        return set()


def type_entry(cls: type, key_of: Callable[[type], str] = type_key) -> dict[str, Any]:
    """A class's record: its own public and dunder attributes, its bases, its metaclass, and
    `open` when it serves attributes dynamically."""
    own = _own_attributes(cls)
    reached = set(own)
    metaclass: type = type(cls)
    for klass in (*cls.__mro__[1:], *metaclass.__mro__):
        reached |= _own_attributes(klass)
    own |= {n for n in _dir(cls) if public_attribute(n)} - reached  # what a custom __dir__ adds
    entry: dict[str, Any] = {"attrs": sorted(own)}
    bases = [key_of(b) for b in cls.__bases__]
    if bases:
        entry["bases"] = bases
    if type(cls) is not type:
        entry["meta"] = key_of(type(cls))
    if cls not in (object, type) and ("__getattr__" in vars(cls) or "__getattribute__" in vars(cls)):
        entry["open"] = 1
    return entry


def _is_at_its_name(cls: type) -> bool:
    """Whether `module.qualname` of the class reads back that very class."""
    owner: Any = sys.modules.get(getattr(cls, "__module__", None) or "")
    for part in str(getattr(cls, "__qualname__", "")).split("."):
        ok, owner = _read(owner, part) if owner is not None else (False, None)
        if not ok:
            return False
    return owner is cls


def assign_keys(classes: list[type], tag: str) -> dict[int, str]:
    """id -> key for classes met in one process, in the order met: `module.qualname`; when several
    different classes share one, the one found at that name (else the first met) keeps it and the
    others get `key#tag-n`, so no key names two classes."""
    groups: dict[str, list[type]] = {}
    for cls in classes:
        groups.setdefault(type_key(cls), []).append(cls)
    keys: dict[int, str] = {}
    for key, group in groups.items():
        keeper = next((c for c in group if _is_at_its_name(c)), group[0]) if len(group) > 1 else group[0]
        others = [c for c in group if c is not keeper]
        keys[id(keeper)] = key
        keys.update((id(c), f"{key}#{tag}-{n}") for n, c in enumerate(others, 1))
    return keys


def snapshot_roots(roots: Iterable[str], tag: str = "") -> dict[str, Any]:
    """`modules` and `types` for the given top-level import names (imported in this process);
    `tag` marks the keys of classes whose `module.qualname` another class has."""
    walked: dict[str, types.ModuleType] = {}
    listing: dict[str, list[str]] = {}
    for root in sorted(roots):
        modules, listed = walk(root)
        walked.update(modules)
        listing.update(listed)
    names = set(walked)
    made: dict[str, tuple[dict[str, Any], dict[str, type]]] = {}
    pending: deque[type] = deque()
    for name in sorted(walked):
        made[name] = _module_entry(walked[name], names, listing.get(name, []))
        pending.extend(made[name][1].values())
    met: dict[int, type] = {}  # every class reached, bases and metaclasses too, in the order met
    while pending:
        cls = pending.popleft()
        if id(cls) in met:
            continue
        met[id(cls)] = cls
        pending.extend(cls.__bases__)
        if type(cls) is not type:
            pending.append(type(cls))
    keys = assign_keys(list(met.values()), tag)

    def key_of(cls: type) -> str:
        return keys.get(id(cls)) or type_key(cls)

    entries = {name: _with_classes(entry, found, key_of) for name, (entry, found) in made.items()}
    classes = {key_of(cls): type_entry(cls, key_of) for cls in met.values()}
    return {"modules": entries, "types": classes}


def requirements_between(distribution: str, among: Iterable[str]) -> list[str]:
    """The distribution's own requirements (`Requires-Dist`, as written) on the other distributions
    `among`, without the conditional ones (an extra or an environment marker)."""
    wanted = {canonicalize_name(d) for d in among}
    out = []
    for text in metadata.requires(distribution) or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is None and canonicalize_name(requirement.name) in wanted - {canonicalize_name(distribution)}:
            out.append(str(requirement))
    return sorted(out)


def roots_of(distribution: str) -> list[str]:
    """The distribution's public top-level import names, from the installed metadata."""
    wanted = canonicalize_name(distribution)
    return sorted(name for name, dists in metadata.packages_distributions().items()
                  if public_module(name) and any(canonicalize_name(d) == wanted for d in dists))


def child(distribution: str, out: Path) -> None:
    """Read one distribution in this process and write its part of the snapshot to `out`."""
    roots = []
    for root in roots_of(distribution):
        module = _import(root)
        if module is not None and getattr(module, "__file__", None) is not None:  # no namespace package
            roots.append(root)
    part = snapshot_roots(roots, canonicalize_name(distribution)) if roots else {"modules": {}, "types": {}}
    part["roots"] = roots
    out.write_text(json.dumps(part, sort_keys=True), encoding="utf-8")


def _run_child(distribution: str, scratch: Path) -> Optional[dict[str, Any]]:
    out = scratch / f"{distribution}.json"
    env = {**os.environ, **CHILD_ENVIRONMENT, "MPLCONFIGDIR": str(scratch / "mpl"),
           "HF_HOME": str(scratch / "hf"), "XDG_CACHE_HOME": str(scratch / "cache"), "WANDB_DIR": str(scratch)}
    repo = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = repo + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    command = [sys.executable, "-m", "expreview.checks.py.make_api_snapshot", "--child", distribution, "--out", str(out)]
    done = subprocess.run(command, cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=CHILD_TIMEOUT, text=True)
    if done.returncode != 0:
        print(f"{distribution}: the child failed ({done.returncode}): {done.stderr[-2000:]}", file=sys.stderr)
        return None
    part = json.loads(out.read_text(encoding="utf-8"))
    return part if part.get("roots") else None


def _merge_type(old: Optional[dict[str, Any]], new: dict[str, Any]) -> dict[str, Any]:
    """The same class read by two children: the union of what they saw (a library may add to another's
    class), open when either says so."""
    if old is None or old == new:
        return new
    if old.get("open") or new.get("open"):
        merged = {**old, **new, "open": 1}
    else:
        merged = {**old, **new}
    merged["attrs"] = sorted(set(old.get("attrs", ())) | set(new.get("attrs", ())))
    return merged


def build() -> dict[str, Any]:
    """The whole snapshot, each installed distribution read in a child process."""
    distributions: dict[str, dict[str, Any]] = {}
    imports: dict[str, str] = {}
    modules: dict[str, Any] = {}
    classes: dict[str, Any] = {}
    missing: list[str] = []
    with tempfile.TemporaryDirectory(prefix="api-snapshot-") as scratch:
        for distribution in DISTRIBUTIONS:
            name = canonicalize_name(distribution)
            try:
                version = metadata.version(distribution)
            except metadata.PackageNotFoundError:
                missing.append(name)
                continue
            print(f"{name} {version} ...", file=sys.stderr, flush=True)
            part = _run_child(distribution, Path(scratch))
            if part is None:
                missing.append(name)
                continue
            roots = [r for r in part["roots"] if r not in imports]
            distributions[name] = {"imports": roots, "version": version,
                                   "requires": requirements_between(distribution, DISTRIBUTIONS)}
            for root in roots:
                imports[root] = name
            for module, entry in part["modules"].items():
                if module.split(".")[0] in roots:
                    modules[module] = entry
            for key, entry in part["types"].items():
                classes[key] = _merge_type(classes.get(key), entry)
    return {
        "distributions": distributions, "format": FORMAT, "imports": imports, "missing": sorted(missing),
        "modules": modules, "python": ".".join(map(str, sys.version_info[:3])), "types": classes,
    }


def encode(snapshot: dict[str, Any]) -> bytes:
    """The shipped bytes: the same snapshot, the same bytes (expreview.facts.api_snapshot.pack)."""
    from expreview.facts.api_snapshot import pack

    return pack(snapshot)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Write api_snapshot.pack from the installed libraries.")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="exit 1 when the written file would differ")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.out)
        return 0
    data = encode(build())
    if args.check:
        same = args.output.exists() and args.output.read_bytes() == data
        print(f"{args.output}: {'up to date' if same else 'differs'}", file=sys.stderr)
        return 0 if same else 1
    args.output.write_bytes(data)
    print(f"{args.output}: {len(data)} bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
