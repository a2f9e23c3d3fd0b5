"""The API snapshot PY008 judges against: which public names the modules of the common ML libraries
define and which attributes their classes have, in one recorded version of each library.

It is package data (expreview/checks/py/api_snapshot.pack, written by
`python -m expreview.checks.py.make_api_snapshot` from the installed libraries), read on first use
and kept for the process: a review never imports the libraries themselves. `load()` is None when
the file is not there (then PY008 judges nothing).

The pack holds one zlib-compressed JSON bucket per module (the module's entry and the classes
defined in it), after a header line with the metadata and each bucket's offset and length
(`pack`, `ApiSnapshot.from_pack`). A review decompresses only the buckets of the modules and classes
it looks up: the whole snapshot is several megabytes of JSON, and parsing it cost more than the rest
of a small review.

A dotted name is looked up one part at a time from its top module: a module part goes on to a
submodule or a class, a class part is looked up among the class's attributes (its own, its bases',
its metaclass's); anything else (a function, a constant, an instance) ends the walk, and so does
whatever the snapshot cannot tell about (a module that was not walked or that serves any name, a
class with a dynamic `__getattr__` or a base the snapshot lacks, a `_private` name)."""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Optional

from expreview import package_data

SNAPSHOT_PACKAGE = "expreview.checks.py"
SNAPSHOT_FILE = "api_snapshot.pack"
MAGIC = b"expreview-api-snapshot 2\n"

MODULE = "module"
CLASS = "class"
OTHER = "other"  # it exists, and is neither a module nor a class: nothing further is judged
UNKNOWN = "unknown"  # the snapshot cannot tell
MISSING = "missing"


@dataclass(frozen=True)
class Lookup:
    """Where a dotted name leads. `target` is the module name or the class key (`module.qualname`)
    for MODULE and CLASS; for MISSING, `owner` (a module name or a class key) has no `name`, the
    part at index `at` of the parts followed; `owner_kind` says whether it is a module or a class
    and `defined` is what it has; `note` is the library's own message for a name it removed."""
    kind: str
    target: str = ""
    owner: str = ""
    owner_kind: str = ""
    name: str = ""
    defined: tuple[str, ...] = ()
    at: int = -1
    note: str = ""


_UNKNOWN = Lookup(UNKNOWN)
_OTHER = Lookup(OTHER)


def type_bucket(key: str, is_bucket: Callable[[str], bool]) -> str:
    """The bucket of class `key` (`module.qualname`): the longest dotted prefix that is a bucket
    (the defining module, for a nested class too), else everything before its last part."""
    parts = key.split(".")
    for end in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:end])
        if is_bucket(prefix):
            return prefix
    return key.rsplit(".", 1)[0]


def pack(snapshot: dict[str, Any]) -> bytes:
    """The bytes of the shipped file for `snapshot` (sorted, compact JSON; no timestamp)."""
    modules, types = snapshot.get("modules", {}), snapshot.get("types", {})
    buckets: dict[str, dict[str, dict[str, Any]]] = {}
    for name, entry in modules.items():
        buckets.setdefault(name, {"modules": {}, "types": {}})["modules"][name] = entry
    for key, entry in types.items():
        bucket = type_bucket(key, modules.__contains__)
        buckets.setdefault(bucket, {"modules": {}, "types": {}})["types"][key] = entry
    index: dict[str, list[int]] = {}
    blobs = []
    offset = 0
    for name in sorted(buckets):
        blob = zlib.compress(_dumps(buckets[name]).encode("ascii"), 9)
        index[name] = [offset, len(blob)]
        blobs.append(blob)
        offset += len(blob)
    meta = {k: v for k, v in snapshot.items() if k not in ("modules", "types")}
    header = _dumps({"buckets": index, "meta": meta}).encode("ascii")
    return MAGIC + header + b"\n" + b"".join(blobs)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class ApiSnapshot:
    def __init__(self, meta: dict[str, Any], index: dict[str, list[int]], blobs: bytes, start: int):
        self.meta = meta
        self._index = index
        self._blobs = blobs
        self._start = start
        self._buckets: dict[str, dict[str, dict[str, Any]]] = {}
        self._imports: dict[str, str] = meta.get("imports", {})
        self._attrs: dict[str, Optional[frozenset[str]]] = {}

    @classmethod
    def from_pack(cls, raw: bytes) -> "ApiSnapshot":
        if not raw.startswith(MAGIC):
            raise ValueError("not an expreview API snapshot (format 2)")
        end = raw.index(b"\n", len(MAGIC))
        header = json.loads(raw[len(MAGIC):end])
        return cls(header["meta"], header["buckets"], raw, end + 1)

    def _bucket(self, name: str) -> dict[str, dict[str, Any]]:
        found = self._buckets.get(name)
        if found is None:
            where = self._index.get(name)
            if where is None:
                found = {"modules": {}, "types": {}}
            else:
                offset, length = where
                start = self._start + offset
                found = json.loads(zlib.decompress(self._blobs[start:start + length]))
            self._buckets[name] = found
        return found

    def _module_entry(self, name: str) -> Optional[dict[str, Any]]:
        return self._bucket(name)["modules"].get(name) if name in self._index else None

    def type_entry(self, key: str) -> Optional[dict[str, Any]]:
        """The recorded entry of class `key`, or None."""
        return self._bucket(type_bucket(key, self._index.__contains__))["types"].get(key)

    def everything(self) -> dict[str, Any]:
        """The whole snapshot as `make_api_snapshot.build` made it (every bucket decompressed)."""
        modules: dict[str, Any] = {}
        types: dict[str, Any] = {}
        for name in self._index:
            modules.update(self._bucket(name)["modules"])
            types.update(self._bucket(name)["types"])
        return {**self.meta, "modules": modules, "types": types}

    # -- what it was made from ---------------------------------------------
    @property
    def versions(self) -> dict[str, str]:
        """Canonical distribution name -> the version the snapshot was made from."""
        return {name: str(entry.get("version", "")) for name, entry in self.meta.get("distributions", {}).items()}

    def distribution(self, import_name: str) -> Optional[str]:
        """The distribution (canonical name) whose top-level module `import_name` (or its top) is."""
        return self._imports.get(import_name.split(".")[0])

    def version(self, distribution: str) -> Optional[str]:
        return self.versions.get(distribution)

    def requires(self, distribution: str) -> list[str]:
        """The distribution's unconditional requirements on the snapshot's other distributions, as
        its metadata wrote them at the snapshot's version (hydra-core: `omegaconf<2.4,>=2.2`)."""
        entry = self.meta.get("distributions", {}).get(distribution, {})
        return [r for r in entry.get("requires", ()) if isinstance(r, str)]

    # -- modules and classes -----------------------------------------------
    def module(self, name: str) -> Optional[dict[str, Any]]:
        return self._module_entry(name)

    def module_names(self, name: str) -> frozenset[str]:
        """Every name the module has: classes, modules, other names and submodules."""
        entry = self._module_entry(name) or {}
        return frozenset(entry.get("names", ())) | frozenset(entry.get("classes", {})) | \
            frozenset(entry.get("modules", {})) | frozenset(entry.get("submodules", ()))

    def class_attrs(self, key: str) -> Optional[frozenset[str]]:
        """Every attribute a class has (its own, its bases', its metaclass's); None when the
        snapshot cannot tell (the class, a base or its metaclass is open or not recorded)."""
        if key in self._attrs:
            return self._attrs[key]
        self._attrs[key] = None  # a cycle (none is expected) tells nothing
        entry = self.type_entry(key)
        result: Optional[frozenset[str]] = None
        if entry is not None and not entry.get("open") and "attrs" in entry:
            names = set(entry["attrs"])
            for other in (*entry.get("bases", ()), *((entry["meta"],) if "meta" in entry else ())):
                inherited = self.class_attrs(other)
                if inherited is None:
                    names = set()
                    break
                names |= inherited
            else:
                result = frozenset(names)
        self._attrs[key] = result
        return result

    # -- lookups -----------------------------------------------------------
    def lookup(self, dotted: str) -> Lookup:
        """Where `dotted` (`torch.nn.functional.gelu`) leads, from its top module."""
        parts = dotted.split(".")
        if parts[0] not in self._imports or parts[0] not in self._index:
            return _UNKNOWN
        return self.follow(Lookup(MODULE, parts[0]), parts[1:])

    def follow(self, start: Lookup, parts: list[str]) -> Lookup:
        """Go on from a module or a class along `parts`."""
        here = start
        for at, part in enumerate(parts):
            if here.kind == MODULE:
                here = self._module_part(here.target, part, at)
            elif here.kind == CLASS:
                here = self._class_part(here.target, part, at)
            else:
                break
        return here

    def _module_part(self, module: str, part: str, at: int) -> Lookup:
        entry = self._module_entry(module)
        if entry is None or entry.get("open") or part.startswith("_"):
            return _UNKNOWN
        child = f"{module}.{part}"
        if part in entry.get("modules", {}):
            target = entry["modules"][part]
            return Lookup(MODULE, target) if self._module_entry(target) is not None else _UNKNOWN
        if part in entry.get("classes", {}):
            return Lookup(CLASS, entry["classes"][part])
        if part in entry.get("submodules", ()):
            return Lookup(MODULE, child) if self._module_entry(child) is not None else _UNKNOWN
        if part in entry.get("names", ()):
            return _OTHER
        return Lookup(MISSING, owner=module, owner_kind=MODULE, name=part,
                      defined=tuple(sorted(self.module_names(module))), at=at,
                      note=str(entry.get("removed", {}).get(part, "")))

    def _class_part(self, key: str, part: str, at: int) -> Lookup:
        attrs = self.class_attrs(key)
        if attrs is None or part.startswith("_"):
            return _UNKNOWN
        if part in attrs:
            return _OTHER
        return Lookup(MISSING, owner=key, owner_kind=CLASS, name=part,
                      defined=tuple(sorted(a for a in attrs if not a.startswith("_"))), at=at)


def read(raw: bytes) -> ApiSnapshot:
    """A snapshot from the bytes of the shipped file."""
    return ApiSnapshot.from_pack(raw)


@lru_cache(maxsize=1)
def load() -> Optional[ApiSnapshot]:
    """The shipped snapshot, read once per process; None when the package data is not there."""
    try:
        raw = package_data.read_bytes(SNAPSHOT_PACKAGE, SNAPSHOT_FILE)
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    return read(raw)
