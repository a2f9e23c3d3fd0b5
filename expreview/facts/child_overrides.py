"""The Hydra overrides a script passes to a child that composes the same configuration.

src/main.py often starts src/train.py, itself an `@hydra.main` over the same config directory, with
overrides on its command line (`run=…`, `mode=trial`, `training.epochs=1`): Hydra composes the
child's config with them before train runs. This fact finds the command of each subprocess call
that starts one of the bundle's Hydra mains (`python -m src.train`, `python src/train.py`), follows
it through list literals, `+` concatenation, names bound to lists, and `.append`/`.extend`/`+=` on
them in the same function, and keeps the strings of the form `key=value` (f-strings too: the key is
literal). Overrides that add or delete (`+k=v`, `++k=v`, `~k`) are not kept: Hydra accepts them
whatever the config holds. A child whose command selects a config group (`runs@run=<id>`,
`model=bert` with a config/model/ group) composes another config than the parent does, so none of
its overrides is kept."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.facts.hydra_config import hydra_main_config
from expreview.facts.launches import element_target, launch_target
from expreview.facts.script_launches import SUBPROCESS_CALLS, script_launches
from expreview.sources.index import Call, Function, Index, string_value

_OVERRIDE = re.compile(r"([A-Za-z_]\w*(?:\.\w+)*)=")
_GROUP_CHOICE = re.compile(r"[+~]*([\w/.-]+)(@[\w.]*)?=")
_MAX_DEPTH = 6


@dataclass(frozen=True)
class ChildOverride:
    parent: str  # the file whose subprocess call starts the child: src/main.py
    target: str  # the child, an @hydra.main over the same config: src/train.py
    text: str  # the override as written (`training.epochs=1`; an f-string's fields as {…})
    key: str  # `training.epochs`
    node: cst.CSTNode  # the string
    stmt: int  # its statement ordinal in `parent`


def _config_args(bundle: Bundle, path: str) -> Optional[tuple[object, object]]:
    source = bundle.python(path)
    return hydra_main_config(source) if source is not None else None


def _strings(index: Index, node: Optional[cst.CSTNode], scope: Optional[Function], seen: set[str],
             depth: int = 0) -> list[cst.CSTNode]:
    """The string nodes that end up as elements of the command `node` builds."""
    if node is None or depth > _MAX_DEPTH:
        return []
    if isinstance(node, (cst.List, cst.Tuple)):
        out: list[cst.CSTNode] = []
        for element in node.elements:
            value = element.value
            if isinstance(element, cst.StarredElement) or isinstance(value, (cst.List, cst.Tuple, cst.BinaryOperation, cst.Name)):
                out += _strings(index, value, scope, seen, depth + 1)
            elif string_value(value) is not None:
                out.append(value)
        return out
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _strings(index, node.left, scope, seen, depth + 1) + _strings(index, node.right, scope, seen, depth + 1)
    if isinstance(node, cst.Name) and node.value not in seen:
        name = node.value
        seen.add(name)
        out = []
        for bound in index.assigned(name, scope):
            if bound is not node and not (isinstance(bound, cst.Name) and bound.value == name):
                out += _strings(index, bound, scope, seen, depth + 1)
        for call in index.calls:
            if call.scope is scope and call.name in (f"{name}.append", f"{name}.extend", f"{name}.insert"):
                args = [a.value for a in call.node.args if a.keyword is None]
                added = args[-1:] if args else []
                for value in added:
                    if call.name.endswith(".extend"):
                        out += _strings(index, value, scope, seen, depth + 1)
                    elif string_value(value) is not None:
                        out.append(value)
        first, last = index.statement_range(scope.node) if scope is not None else (-1, len(index.statements))
        for number in range(first + 1, last + 1):
            statement = index.statements[number]
            if isinstance(statement, cst.AugAssign) and isinstance(statement.target, cst.Name) \
                    and statement.target.value == name and isinstance(statement.operator, cst.AddAssign):
                out += _strings(index, statement.value, scope, seen, depth + 1)
        return out
    return []


def _target(call: Call, strings: list[tuple[str, cst.CSTNode]], scripts: dict[int, str]) -> Optional[str]:
    if id(call.node) in scripts:
        return scripts[id(call.node)]
    return next((found for text, _ in strings if (found := element_target(text)) is not None), None)


def _selects_group(bundle: Bundle, text: str) -> bool:
    """`runs@run=<id>`, `+model=bert`, `model=bert` where config/model/ is a group."""
    match = _GROUP_CHOICE.match(text)
    if match is None:
        return False
    group = match.group(1)
    return match.group(2) is not None or any(p.startswith(f"config/{group}/") for p in bundle.paths())


@bundle_fact
def hydra_child_overrides(bundle: Bundle) -> list[ChildOverride]:
    """Every value override (`key=value`) a file passes to a child Hydra main of the bundle that
    composes the same configuration as the file's own @hydra.main (same config_path and name)."""
    scripts = {id(l.call.node): l.target for l in script_launches(bundle)}
    out: list[ChildOverride] = []
    for source in bundle.python_files():
        if not source.ok:
            continue
        own = _config_args(bundle, source.path)
        if own is None or own[1] is None:
            continue
        index = source.index
        for call in index.calls:
            if call.qualname not in SUBPROCESS_CALLS:
                continue
            command = call.positional(0) or call.keyword("args")
            nodes = _strings(index, command, call.scope, set())
            strings = [(text, node) for node in nodes if (text := string_value(node)) is not None]
            target = _target(call, strings, scripts)
            if target is None or target == source.path or _config_args(bundle, target) != own:
                continue
            if any(_selects_group(bundle, text) for text, _ in strings):
                continue
            for text, node in strings:
                match = _OVERRIDE.match(text)
                if match is None or launch_target(text) is not None:
                    continue
                stmt = index.stmt_of.get(id(node), call.stmt)
                out.append(ChildOverride(source.path, target, text, match.group(1), node, stmt))
    return out
