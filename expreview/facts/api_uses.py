"""The third-party names a bundle uses, as PY008 judges them against the API snapshot: which of the
snapshot's libraries the bundle imports (less those a bundle file shadows), the dotted names the
bundle makes exist at run time (assigned, `setattr` or tested with `hasattr`, resolved through each
file's imports), and the names a file imports or reads on a library's modules and classes that the
snapshot's version lacks (`MissingName`, before any guard is considered)."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.api_snapshot import CLASS, MISSING, MODULE, ApiSnapshot, Lookup
from expreview.facts.project_imports import project_module
from expreview.sources.index import Function, Import, Index, dotted_name, encloses


# -- which libraries ---------------------------------------------------------------

def _third_party(imp: Import) -> Optional[str]:
    """The top module of an absolute import that is neither the project's nor the standard library's."""
    if imp.level or project_module(imp) is not None:
        return None
    top = imp.top_module
    return None if not top or top in sys.stdlib_module_names else top


def imports_third_party(bundle: Bundle) -> bool:
    return any(_third_party(imp) for source in bundle.python_files() if source.module is not None
               for imp in source.index.imports)


def imported_libraries(bundle: Bundle, snapshot: ApiSnapshot) -> set[str]:
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


def known_at_run_time(bundle: Bundle) -> set[str]:
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
class MissingName:
    node: cst.CSTNode
    lookup: Lookup
    resolved: str  # the dotted name that fails, imports resolved: `omegaconf.OmegaConf.deepcopy`
    owner: str  # what lacks it, as the project reaches it: `omegaconf.OmegaConf`, `hydra.utils`
    written: str  # the failing expression as written: `OmegaConf.deepcopy`; '' for an import
    module_part: bool  # the missing name is a module of an import path (`from sklearn.metric import ...`)


def missing_imports(index: Index, snapshot: ApiSnapshot, libraries: set[str]) -> Iterator[MissingName]:
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
                yield MissingName(imp.node, here, ".".join(parts[:at + 1]), ".".join(parts[:at]), "", True)
                break
        else:
            if here.kind == MODULE and imp.name is not None:
                found = snapshot.follow(here, [imp.name])
                if found.kind == MISSING:
                    yield MissingName(imp.node, found, f"{imp.module}.{imp.name}", imp.module, "", False)


def missing_attributes(index: Index, snapshot: ApiSnapshot, libraries: set[str]) -> Iterator[MissingName]:
    aliases = _aliases(index)
    followed: dict[tuple[str, str], Optional[Lookup]] = {}  # the same chain is read again and again
    for attr in index.attributes:
        if attr.store or attr.name.partition(".")[0] not in aliases:
            continue  # most chains start at a local value (`self.x`, `args.lr`), not an import
        parts = attr.name.split(".")
        head = _resolve_head(aliases, parts[0], attr.scope)
        if head is None or head.split(".")[0] not in libraries:
            continue
        key = (head, attr.name)
        if key not in followed:
            start = snapshot.lookup(head)
            followed[key] = snapshot.follow(start, parts[1:]) if start.kind in (MODULE, CLASS) else None
        found = followed[key]
        if found is None or found.kind != MISSING:
            continue
        cut = found.at + 1  # parts[cut] is the missing name
        owner = ".".join([head, *parts[1:cut]])
        yield MissingName(attr.node, found, f"{owner}.{parts[cut]}", owner, ".".join(parts[:cut + 1]), False)

