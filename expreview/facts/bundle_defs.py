"""Which function or class of the bundle a call reaches, and what that callee accepts.

A call is resolved only when its callee is certain: a name defined once at the top of its file (or
imported from a project module that defines it once), `module.name` through a project-module
import, or `self.method` inside the class that defines it (when no bundle class derives from it).
Names rebound anywhere in the calling scope or module, parameters, and calls through attributes
of other objects are not resolved: the caller may hold any callable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact, source_fact
from expreview.facts.project_imports import project_module
from expreview.sources.index import Call, Function, Import, dotted_name, encloses
from expreview.sources.pyfile import PythonSource

Def = Union[cst.FunctionDef, cst.ClassDef]

# Decorators that keep a function's signature as written.
_KEEPING = {"staticmethod", "classmethod", "torch.no_grad", "no_grad", "torch.inference_mode", "inference_mode",
            "functools.lru_cache", "lru_cache", "functools.cache", "cache", "abstractmethod", "abc.abstractmethod",
            "torch.jit.ignore", "torch.compile"}
_DATACLASS = ("dataclass", "dataclasses.dataclass")
_DATACLASS_SAFE_OPTIONS = {"frozen", "eq", "order", "repr", "unsafe_hash", "slots"}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # positional_only | positional | var_positional | keyword_only | var_keyword
    required: bool


@dataclass(frozen=True)
class Signature:
    """What a callee accepts, as Python binds a call (the bound `self`/`cls` already removed)."""
    params: tuple[Param, ...]
    name: str
    source: PythonSource = field(compare=False)
    node: Def = field(compare=False)

    @property
    def shown(self) -> str:
        """How a message names the callee: `build_model` (src/model.py:12). Worked out only for a
        message: the line costs a position lookup, and most calls match."""
        return f"`{self.name}` ({self.source.path}:{self.source.span(self.node).line})"

    @property
    def var_positional(self) -> bool:
        return any(p.kind == "var_positional" for p in self.params)

    @property
    def var_keyword(self) -> bool:
        return any(p.kind == "var_keyword" for p in self.params)


@dataclass(frozen=True)
class Callee:
    source: PythonSource
    node: Def
    bound: bool  # a method called through self/cls, or a class: the first parameter is bound


def _decorator_names(node: Def) -> list[str]:
    out = []
    for deco in node.decorators:
        target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
        out.append(dotted_name(target))
    return out


def _top_defs(source: PythonSource, name: str) -> list[Def]:
    return _defs_by_name(source).get(name, [])


@source_fact
def _defs_by_name(source: PythonSource) -> dict[str, list[Def]]:
    """The module's top-level defs and classes by name (a later one of the same name after an
    earlier), once per file: the resolution of every call asks."""
    out: dict[str, list[Def]] = {}
    module = source.module
    for statement in module.body if module is not None else ():
        if type(statement) is cst.FunctionDef or type(statement) is cst.ClassDef:
            out.setdefault(statement.name.value, []).append(statement)
    return out


def _nested_def(scope: Optional[Function], name: str) -> Optional[cst.FunctionDef]:
    """The def of `name` nested in the innermost enclosing function that binds `name`, when that
    def is its only binding there (a helper defined inside the calling function)."""
    fn = scope
    while fn is not None:
        if name in fn.params:
            return None
        values = fn.assigns.get(name)
        if values:
            return values[0] if len(values) == 1 and isinstance(values[0], cst.FunctionDef) else None
        fn = fn.parent
    return None


def _assigned_at_top(source: PythonSource, name: str) -> bool:
    """`name` is bound at module level by something other than one def or class statement."""
    values = source.index.module_assigns.get(name, [])
    return len(values) > 1 or any(not isinstance(v, (cst.FunctionDef, cst.ClassDef)) for v in values)


def _rebound(source: PythonSource, name: str, scope: Optional[Function]) -> bool:
    """`name` is assigned or a parameter in the calling scope chain, or rebound at module level."""
    fn = scope
    while fn is not None:
        if name in fn.assigns or name in fn.params:
            return True
        fn = fn.parent
    return _assigned_at_top(source, name)


def _file_of(bundle: Bundle, module: str) -> Optional[str]:
    path = "/".join(module.split(".")) + ".py"
    return path if path in bundle.files else None


def _unique_def(bundle: Bundle, path: Optional[str], name: str) -> Optional[tuple[PythonSource, Def]]:
    if path is None:
        return None
    target = bundle.python(path)
    if target is None or not target.ok:
        return None
    defs = _top_defs(target, name)
    if len(defs) != 1 or _assigned_at_top(target, name):
        return None
    return target, defs[0]


def _subclassed(bundle: Bundle, class_name: str) -> bool:
    for source in bundle.python_files():
        if source.ok:
            for cls in source.index.classes.values():
                if any(dotted_name(b.value).split(".")[-1] == class_name for b in cls.bases):
                    return True
    return False


@bundle_fact
def resolved_calls(bundle: Bundle) -> dict[int, Callee]:
    """id(call node) -> its callee, for every call of the bundle that resolves (computed once: PY006,
    PY007 and PY009 ask for the same calls)."""
    out: dict[int, Callee] = {}
    for source in bundle.python_files():
        if source.ok:
            for call in source.index.calls:
                callee = _resolve(bundle, source, call)
                if callee is not None:
                    out[id(call.node)] = callee
    return out


def resolve_callee(bundle: Bundle, source: PythonSource, call: Call) -> Optional[Callee]:
    """The bundle function or class `call` reaches, when certain."""
    return resolved_calls(bundle).get(id(call.node))


@source_fact
def _imports_by_alias(source: PythonSource) -> dict[str, list[Import]]:
    out: dict[str, list[Import]] = {}
    for imp in source.index.imports:
        out.setdefault(imp.alias, []).append(imp)
    return out


@source_fact
def calls_by_node(source: PythonSource) -> dict[int, Call]:
    """The file's recorded calls by id of their node, once per file (several rules ask)."""
    return {id(call.node): call for call in source.index.calls}


@source_fact
def _reachable_names(source: PythonSource) -> frozenset[str]:
    """The bare names a call in `source` can reach a bundle definition through: its defs and
    classes at any depth, and the names its from-imports bind."""
    index = source.index
    return frozenset(index.defined | {i.alias for i in index.imports if i.name is not None})


def _resolve(bundle: Bundle, source: PythonSource, call: Call) -> Optional[Callee]:
    parts = call.name.split(".")
    if len(parts) == 1:
        name = parts[0]
        if name not in _reachable_names(source):
            return None  # no def, class or from-import of the file binds it: a builtin, a local value
        nested = _nested_def(call.scope, name)
        if nested is not None:
            return Callee(source, nested, False)
        if _rebound(source, name, call.scope):
            return None
        if call.scope is not None and any(fn.name == name and fn.parent is not None and encloses(fn.parent, call.scope)
                                          for fn in source.index.functions):
            return None  # a def nested in the calling function is the one meant
        local = _top_defs(source, name)
        if local:
            if len(local) != 1:
                return None
            return Callee(source, local[0], isinstance(local[0], cst.ClassDef))
        imports = [i for i in _imports_by_alias(source).get(name, ()) if i.name is not None]
        if len(imports) != 1:
            return None
        module = project_module(imports[0])
        found = _unique_def(bundle, _file_of(bundle, module), imports[0].name or "") if module else None
        return Callee(found[0], found[1], isinstance(found[1], cst.ClassDef)) if found else None
    if len(parts) == 2 and parts[0] in ("self", "cls") and call.scope is not None:
        method: Optional[Function] = call.scope
        while method is not None and method.class_name is None:
            method = method.parent
        if method is None or method.class_name is None or _subclassed(bundle, method.class_name):
            return None
        cls = source.index.classes.get(method.class_name)
        if cls is None:
            return None
        defs = [s for s in cls.body.body if isinstance(s, cst.FunctionDef) and s.name.value == parts[1]]
        if len(defs) != 1:
            return None
        kinds = _decorator_names(defs[0])
        if "property" in kinds:
            return None
        return Callee(source, defs[0], "staticmethod" not in kinds)
    if len(parts) == 2 and call.scope is not None and parts[0] in call.scope.assigns:
        return _instance_method(bundle, source, call, parts[0], parts[1])
    if len(parts) == 2:
        imports = _imports_by_alias(source).get(parts[0], [])
        if len(imports) != 1 or _rebound(source, parts[0], call.scope):
            return None
        imp = imports[0]
        module = project_module(imp)
        if module is None:
            return None
        module_path = module if imp.name is None else f"{module}.{imp.name}"
        found = _unique_def(bundle, _file_of(bundle, module_path), parts[1])
        return Callee(found[0], found[1], isinstance(found[1], cst.ClassDef)) if found else None
    return None


def _instance_method(bundle: Bundle, source: PythonSource, call: Call, name: str, method: str) -> Optional[Callee]:
    """`x.method(...)` where `x` is bound once, in the calling function, to `Cls(...)` of a bundle
    class whose members are all known: the method the class (or a bundle base) defines."""
    assert call.scope is not None
    values = call.scope.assigns.get(name, [])
    if len(values) != 1 or not isinstance(values[0], cst.Call) or name in call.scope.params:
        return None
    made = calls_by_node(source).get(id(values[0]))
    cls = _resolve(bundle, source, made) if made is not None else None
    if cls is None or not isinstance(cls.node, cst.ClassDef):
        return None
    if class_members(bundle, cls.source, cls.node) is None:
        return None  # a base, __getattr__ or setattr the analysis cannot see may provide the method
    found = _method_of(bundle, cls.source, cls.node, method)
    if found is None:
        return None
    where, node = found
    kinds = _decorator_names(node)
    if "property" in kinds or "classmethod" in kinds:
        return None
    return Callee(where, node, "staticmethod" not in kinds)


def _method_of(bundle: Bundle, source: PythonSource, cls: cst.ClassDef, name: str,
               depth: int = 0) -> Optional[tuple[PythonSource, cst.FunctionDef]]:
    """The method `name` as `cls` has it: its own definition, else the first bundle base's."""
    own = [s for s in cls.body.body if isinstance(s, cst.FunctionDef) and s.name.value == name]
    if own:
        return (source, own[0]) if len(own) == 1 else None
    if depth > 5:
        return None
    for base in cls.bases:
        found = _bundle_class(bundle, source, dotted_name(base.value))
        if found is not None:
            method = _method_of(bundle, found[0], found[1], name, depth + 1)
            if method is not None:
                return method
    return None


def _params_of(parameters: cst.Parameters, drop_first: bool) -> Optional[list[Param]]:
    out: list[Param] = []
    for p in parameters.posonly_params:
        out.append(Param(p.name.value, "positional_only", p.default is None))
    for p in parameters.params:
        out.append(Param(p.name.value, "positional", p.default is None))
    if isinstance(parameters.star_arg, cst.Param):
        out.append(Param(parameters.star_arg.name.value, "var_positional", False))
    for p in parameters.kwonly_params:
        out.append(Param(p.name.value, "keyword_only", p.default is None))
    if parameters.star_kwarg is not None:
        out.append(Param(parameters.star_kwarg.name.value, "var_keyword", False))
    if drop_first:
        if not out or out[0].kind not in ("positional_only", "positional"):
            return None if not any(p.kind == "var_positional" for p in out) else out
        out = out[1:]
    return out


def _dataclass_fields(cls: cst.ClassDef) -> Optional[list[Param]]:
    out: list[Param] = []
    for statement in cls.body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.AnnAssign) or not isinstance(small.target, cst.Name):
                continue
            annotation = dotted_name(small.annotation.annotation) or ""
            if annotation.split(".")[-1] in ("ClassVar", "InitVar") or (
                    isinstance(small.annotation.annotation, cst.Subscript)
                    and dotted_name(small.annotation.annotation.value).split(".")[-1] in ("ClassVar", "InitVar")):
                if "InitVar" in dotted_name(getattr(small.annotation.annotation, "value", small.annotation.annotation)):
                    return None  # InitVar fields take part in __init__: too rare to model
                continue
            value = small.value
            required = value is None
            if isinstance(value, cst.Call) and dotted_name(value.func).split(".")[-1] == "field":
                keywords = {a.keyword.value for a in value.args if a.keyword is not None}
                if "init" in keywords or "kw_only" in keywords:
                    return None
                required = not ({"default", "default_factory"} & keywords)
            out.append(Param(small.target.value, "positional", required))
    # a required field after one with a default is a TypeError at class creation: not ours to judge
    return out


def signature(bundle: Bundle, callee: Callee) -> Optional[Signature]:
    """The callee's signature, or None when it cannot be known for certain: decorators that may
    change it, classes with unknown bases, metaclasses, `__new__`, or dataclass options."""
    node = callee.node
    if isinstance(node, cst.FunctionDef):
        if any(n not in _KEEPING for n in _decorator_names(node)) or node.asynchronous is not None:
            return None
        params = _params_of(node.params, callee.bound and "staticmethod" not in _decorator_names(node))
        return Signature(tuple(params), node.name.value, callee.source, node) if params is not None else None
    decorators = _decorator_names(node)
    if node.keywords or any(isinstance(s, cst.FunctionDef) and s.name.value == "__new__" for s in node.body.body):
        return None
    init = [s for s in node.body.body if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"]
    named = (node.name.value, callee.source, node)  # how a message will name the class
    if init:
        if decorators or len(init) != 1 or _decorator_names(init[0]):
            return None
        params = _params_of(init[0].params, True)
        return Signature(tuple(params), *named) if params is not None else None
    if node.bases:
        return None  # the base class's __init__ decides
    if any(d in _DATACLASS for d in decorators):
        if len(decorators) != 1:
            return None
        deco = node.decorators[0].decorator
        if isinstance(deco, cst.Call) and any(
                a.keyword is None or a.keyword.value not in _DATACLASS_SAFE_OPTIONS for a in deco.args):
            return None
        fields = _dataclass_fields(node)
        return Signature(tuple(fields), *named) if fields is not None else None
    if decorators:
        return None
    return Signature((), *named)  # object.__init__: no arguments


def _bundle_class(bundle: Bundle, source: PythonSource, name: str) -> Optional[tuple[PythonSource, cst.ClassDef]]:
    """The bundle class a base-class name refers to, in the same file or imported from a project module."""
    local = [d for d in _top_defs(source, name) if isinstance(d, cst.ClassDef)]
    if len(local) == 1:
        return source, local[0]
    imports = [i for i in _imports_by_alias(source).get(name, ()) if i.name is not None]
    if len(imports) == 1:
        module = project_module(imports[0])
        found = _unique_def(bundle, _file_of(bundle, module), imports[0].name or "") if module else None
        if found is not None and isinstance(found[1], cst.ClassDef):
            return found[0], found[1]
    return None


def class_members(bundle: Bundle, source: PythonSource, cls: cst.ClassDef, depth: int = 0) -> Optional[set[str]]:
    """Every attribute name instances of `cls` have: its class body's names, `self.x = …` in its
    methods, and the same of its bundle base classes; None when that cannot be known (a base that is
    not a bundle class, `__getattr__`, `__slots__`, `setattr`/`__dict__` on self, a metaclass,
    decorators)."""
    if depth > 5 or cls.keywords or cls.decorators and not all(
            d in _DATACLASS for d in _decorator_names(cls)):
        return None
    names: set[str] = set()
    for base in cls.bases:
        base_name = dotted_name(base.value)
        if base_name == "object":
            continue
        found = _bundle_class(bundle, source, base_name) if base_name and "." not in base_name else None
        if found is None:
            return None
        inherited = class_members(bundle, found[0], found[1], depth + 1)
        if inherited is None:
            return None
        names |= inherited
    for statement in cls.body.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        names |= {n.value for n in _target_names(target.target)}
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    names.add(small.target.value)
    if names & {"__getattr__", "__getattribute__", "__slots__", "__setattr__"}:
        return None
    methods = [fn for fn in source.index.functions if fn.class_name == cls.name.value]
    for attr in source.index.attributes:
        fn = attr.scope
        while fn is not None and fn.class_name is None:
            fn = fn.parent
        if fn is None or fn.class_name != cls.name.value:
            continue
        parts = attr.name.split(".")
        if attr.store and len(parts) == 2 and parts[0] == "self":
            names.add(parts[1])
        elif parts[0] == "self" and len(parts) >= 2 and parts[1] == "__dict__":
            return None
    for call in source.index.calls:
        if call.name in ("setattr", "vars") and call.scope in methods:
            return None
    return names


def _target_names(node: cst.CSTNode) -> list[cst.Name]:
    if isinstance(node, cst.Name):
        return [node]
    if isinstance(node, (cst.Tuple, cst.List)):
        return [n for e in node.elements for n in _target_names(e.value)]
    return []
