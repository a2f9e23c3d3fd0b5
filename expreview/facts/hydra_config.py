"""How a Hydra program's code reads and writes its config, and the raw config files.

What the config holds is Hydra's answer (facts.hydra_compose, facts.run_trees); `merged_configs`
here, config.yaml merged with each run config under both mounts, is only the fallback for bundles
that Hydra does not compose. Names that hold the config
are the `@hydra.main` function's parameter, parameters annotated `DictConfig`, parameters named
`cfg`/`config`, and local names bound to a sub-tree of one of those (`tcfg = cfg.training`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Optional, cast

import libcst as cst

from expreview.facts.literals import literal
from expreview.facts.values import agreed_argument, resolve
from expreview.bundle import Bundle
from expreview.sources.index import Call, Function, all_params, dotted_name, keyword_argument, string_value
from expreview.sources.pyfile import PythonSource

CONFIG = "config/config.yaml"
DICTCONFIG_METHODS = {"get", "items", "keys", "values", "pop", "copy", "setdefault", "update", "merge_with",
                      "to_container", "_get_node", "_metadata", "__dict__", "_content"}
CONFIG_NAMES = ("cfg", "config", "conf", "hparams")  # names that hold a config by convention


def hydra_main(source: PythonSource) -> Optional[tuple[Function, cst.Decorator]]:
    for fn in source.index.functions:
        for deco in fn.node.decorators:
            target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
            if dotted_name(target) in ("hydra.main", "main") and _imports_hydra(source):
                return fn, deco
    return None


def hydra_main_config(source: PythonSource) -> Optional[tuple[object, object]]:
    """The literal `config_path` and `config_name` of the file's @hydra.main (None for one not
    given or not a literal); None when the file has no @hydra.main call."""
    if not source.ok:
        return None
    found = hydra_main(source)
    if found is None or not isinstance(found[1].decorator, cst.Call):
        return None
    args = []
    for name in ("config_path", "config_name"):
        value = keyword_argument(found[1].decorator, name)
        args.append(literal(resolve(source.index, value, None)) if value is not None else None)
    return args[0], args[1]


def _imports_hydra(source: PythonSource) -> bool:
    return any(imp.top_module == "hydra" for imp in source.index.imports)


def config_roots(source: PythonSource, sources: tuple = ()) -> dict[Optional[Function], dict[str, tuple]]:
    """Per function, the parameters that hold the Hydra config or a sub-tree of it, with that
    sub-tree's path. The `@hydra.main` parameter is the root; another config-like parameter
    (annotated DictConfig, or named cfg/config) is whatever every caller in the bundle passes it,
    and unknown (left out) when callers disagree or none is found."""
    # Cached by hand, not with facts.cache.source_fact: the key includes the other sources, and the
    # result is stored before it is built, so that a cycle of callers sees it instead of recursing.
    key = (config_roots, tuple(id(s) for s in sources))
    if key in source.facts:  # a finished result, or the one being built
        return cast("dict[Optional[Function], dict[str, tuple]]", source.facts[key])
    roots: dict[Optional[Function], dict[str, tuple]] = {}
    source.facts[key] = roots
    main = hydra_main(source)
    if main is not None and main[0].params:
        roots[main[0]] = {main[0].params[0]: ()}
    candidates = []
    for fn in source.index.functions:
        for param in all_params(fn.node.params, stars=False):
            annotation = dotted_name(param.annotation.annotation) if param.annotation else ""
            if annotation.endswith("DictConfig") or param.name.value in CONFIG_NAMES:
                candidates.append((fn, param.name.value))
    # Callers may be resolved later in the file than their callees: repeat until nothing changes.
    for _ in range(6):
        changed = False
        for fn, name in candidates:
            if name in roots.get(fn, {}):
                continue
            path = _param_from_callers(source, fn, name, sources or (source,))
            if path is not None:
                roots.setdefault(fn, {})[name] = path
                changed = True
        if not changed:
            break
    return roots


def _param_from_callers(source, fn: Function, param: str, sources) -> Optional[tuple]:
    def judge(caller, call, arg):
        name = dotted_name(arg)
        if not name:
            return None
        base = root_path(caller, name.split(".")[0], call.scope, config_roots(caller, sources))
        return None if base is None else base + tuple(name.split(".")[1:])

    return agreed_argument(source, fn, param, sources, judge)


@dataclass
class ConfigUse:
    source: PythonSource
    path: tuple[str, ...]  # keys below the config root
    node: cst.CSTNode
    store: bool
    scope: Optional[Function]


def config_uses(source: PythonSource, sources: tuple = ()) -> list[ConfigUse]:
    """Every `cfg.a.b` / `cfg["a"]["b"]` read or write rooted in the Hydra config."""
    roots = config_roots(source, sources)
    index = source.index
    method_calls = {c.name for c in index.calls}
    out = []
    for attr in index.attributes:
        scope = attr.scope
        parts = attr.name.split(".")
        base = root_path(source, parts[0], scope, roots)
        if base is None:
            continue
        path = base + tuple(parts[1:])
        if attr.name in method_calls and path:
            path = path[:-1]  # cfg.training.items(): `items` is a method
        if path and path[-1] in DICTCONFIG_METHODS:
            path = path[:-1]
        if any(p.startswith("_") for p in path):
            continue  # OmegaConf internals (`_metadata`, `_config_name_`), not config keys
        out.append(ConfigUse(source, path, attr.node, attr.store, scope))
    for sub in index.subscripts:
        base = _subscript_path(source, sub.node, roots, sub.scope)
        if base is not None:
            out.append(ConfigUse(source, base, sub.node, sub.store, sub.scope))
    return out


def root_path(source: PythonSource, name: str, scope: Optional[Function],
              roots: dict[Optional[Function], dict[str, tuple]]) -> Optional[tuple[str, ...]]:
    """The config path the name `name` holds in `scope`, given `config_roots(source)`: () when `name` is the config itself, the sub-path when it is bound to a sub-tree."""
    fn = scope
    while fn is not None:
        if name in roots.get(fn, {}):
            return roots[fn][name]
        values = fn.assigns.get(name)
        if values:
            if len(values) == 1 and isinstance(values[0], cst.Attribute):
                parts = dotted_name(values[0]).split(".")
                base = root_path(source, parts[0], fn, roots) if parts[0] != name else None
                if base is not None:
                    return base + tuple(parts[1:])
            return None
        fn = fn.parent
    return None


def _subscript_path(source, node: cst.Subscript, roots, scope) -> Optional[tuple[str, ...]]:
    keys: list[str] = []
    current: cst.CSTNode = node
    while isinstance(current, cst.Subscript):
        if len(current.slice) != 1 or not isinstance(current.slice[0].slice, cst.Index):
            return None
        key = string_value(current.slice[0].slice.value)
        if key is None:
            return None
        keys.insert(0, key)
        current = current.value
    name = dotted_name(current)
    if not name:
        return None
    parts = name.split(".")
    base = root_path(source, parts[0], scope, roots)
    return None if base is None else base + tuple(parts[1:]) + tuple(keys)


# -- the config tree -------------------------------------------------------

def run_configs(bundle: Bundle) -> list[tuple[str, Any]]:
    runs_dir = bundle.option("runs_dir", "config/runs")
    out = []
    for path in bundle.paths():
        if path.startswith(runs_dir + "/") and path.endswith((".yaml", ".yml")):
            doc = bundle.yaml(path)
            if doc is not None and isinstance(doc.data, dict):
                out.append((path, doc.data))
    return out


def base_config(bundle: Bundle) -> Optional[dict]:
    doc = bundle.yaml(CONFIG)
    return doc.data if doc is not None and isinstance(doc.data, dict) else None


def merged_configs(bundle: Bundle) -> list[dict]:
    """config.yaml merged with each run config, at the root and as `run` (both mounts): the fallback
    of CFG006/CFG008 for bundles that Hydra does not compose (facts.run_trees answers the others)."""
    base = base_config(bundle) or {}
    runs = run_configs(bundle)
    if not runs:
        return [base]
    group = bundle.option("runs_dir", "config/runs").rsplit("/", 1)[-1]
    merged = []
    for _, run in runs:
        merged.append(_merge(_merge({}, base), run))
        for mount in sorted({"run", group}):
            merged.append(_merge(_merge({}, base), {mount: run}))
    return merged


def _merge(into: dict, other: dict) -> dict:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key] = _merge(dict(into[key]), value)
        else:
            into[key] = value
    return into


def exists(tree: Any, path: Iterable[str]) -> bool:
    node = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def merge_call(call: Call) -> Optional[tuple[str, list[cst.BaseExpression]]]:
    """(target, merged values) of `OmegaConf.merge(target, ...)` or `target.merge_with(...)`."""
    args = [a.value for a in call.node.args if a.keyword is None and not a.star]
    if call.name.endswith("OmegaConf.merge") and len(args) >= 2 and dotted_name(args[0]):
        return dotted_name(args[0]), args[1:]
    if call.method == "merge_with" and isinstance(call.node.func, cst.Attribute) and dotted_name(call.node.func.value):
        return dotted_name(call.node.func.value), args
    return None


def struct_lifted(source: PythonSource) -> bool:
    """`OmegaConf.set_struct(cfg, False)` anywhere lifts struct mode for the program."""
    for call in source.index.calls:
        if call.name.endswith("set_struct") and len(call.node.args) > 1:
            flag = call.node.args[1].value
            if isinstance(flag, cst.Name) and flag.value == "False":
                return True
    return False


def open_dict_statements(source: PythonSource) -> list[tuple[int, int]]:
    """Statement ranges under `with open_dict(cfg):` (or read_write), where struct is lifted."""
    index = source.index
    return [index.statement_range(statement) for statement in index.statements
            if isinstance(statement, cst.With) and any(
                dotted_name(item.item.func).endswith(("open_dict", "read_write"))
                for item in statement.items if isinstance(item.item, cst.Call))]


def in_ranges(stmt: int, ranges: list[tuple[int, int]]) -> bool:
    return any(first < stmt <= last for first, last in ranges)


# Where `hydra.run.dir` leaves the process in the directory it started in.
_ORIGINAL_DIRS = (".", "./", "${hydra:runtime.cwd}", "${hydra.runtime.cwd}", "${hydra:runtime.cwd}/")


def keeps_working_directory(bundle: Bundle) -> bool:
    """config.yaml stops Hydra from moving the process into its output directory: `hydra.job.chdir:
    false`, or `hydra.run.dir` set to `.` (or to `${hydra:runtime.cwd}`), the directory it started in."""
    hydra = (base_config(bundle) or {}).get("hydra")
    if not isinstance(hydra, dict):
        return False
    job, run = hydra.get("job"), hydra.get("run")
    if isinstance(job, dict) and job.get("chdir") is False:
        return True
    return isinstance(run, dict) and keeps_directory(run.get("dir"))


def config_chdir(bundle: Bundle) -> Optional[bool]:
    """config.yaml's `hydra.job.chdir` when it is a boolean."""
    hydra = (base_config(bundle) or {}).get("hydra")
    job = hydra.get("job") if isinstance(hydra, dict) else None
    chdir = job.get("chdir") if isinstance(job, dict) else None
    return chdir if isinstance(chdir, bool) else None


def keeps_directory(run_dir: object) -> bool:
    """A `hydra.run.dir` that is the directory the process started in."""
    return isinstance(run_dir, str) and run_dir.strip() in _ORIGINAL_DIRS
