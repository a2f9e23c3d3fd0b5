"""One shared walk over a LibCST module that records the facts rules ask about.

Rules never traverse whole modules themselves: they query this index (imports, calls,
functions, assignments, strings, subscripts, attribute chains). The walk
skips whitespace and punctuation fields, which are most of a concrete syntax tree, so it
costs a small fraction of the parse.

The module stays over 400 lines on purpose: the records, the one walk that fills them and its
dispatch table are one unit (each visitor writes the records the queries read), and splitting the
walk from its records would only spread that single pass over several files.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Iterator, Optional

import libcst as cst

_SKIPPED_FIELDS = {
    "lpar", "rpar", "comma", "semicolon", "leading_lines", "lines_after_decorators",
    "header", "footer", "trailing_whitespace", "colon", "equal", "star", "dot",
    "operator", "lbracket", "rbracket", "lbrace", "rbrace", "asynchronous", "relative",
    "default_indent", "default_newline", "encoding", "has_trailing_newline",
}
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
_PLAIN_VALUES = (str, bool, int)


def child_fields(tp: type) -> tuple[str, ...]:
    names = _CHILD_FIELDS.get(tp)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(tp)
            if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
            and f.type not in _PLAIN_VALUES  # `Name.value`: never a node, so leaves have no fields
        )
        _CHILD_FIELDS[tp] = names
    return names


_IS_NODE: dict[type, bool] = {}


def _is_node_type(kind: type) -> bool:
    _IS_NODE[kind] = found = issubclass(kind, cst.CSTNode)
    return found


def iter_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Semantic children in source order (whitespace and punctuation left out)."""
    for name in child_fields(type(node)):
        value = getattr(node, name)
        kind = type(value)
        if kind is tuple or kind is list:
            for item in value:
                kind = type(item)
                if _IS_NODE.get(kind) or kind not in _IS_NODE and _is_node_type(kind):
                    yield item
        elif _IS_NODE.get(kind) or kind not in _IS_NODE and _is_node_type(kind):
            yield value


def iter_subtree(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every semantic node under `node`, itself included, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        children = list(iter_children(current))
        children.reverse()
        stack.extend(children)


def dotted_name(expr: cst.CSTNode) -> str:
    """`a.b.c` for a Name/Attribute chain, '' for anything else."""
    parts = []
    while type(expr) is cst.Attribute:  # exact types: the node classes are ABCs, and this is hot
        parts.append(expr.attr.value)
        expr = expr.value
    if type(expr) is cst.Name:
        parts.append(expr.value)
        return ".".join(reversed(parts))
    return ""


def string_value(node: cst.CSTNode) -> Optional[str]:
    """The text of a string literal; f-string fields become `{expr}` markers."""
    if isinstance(node, cst.SimpleString):
        prefix = node.prefix.lower()
        if "b" in prefix:
            return None
        body = node.raw_value
        if "\\" not in body or "r" in prefix:  # the common case needs no unescaping
            return body
        try:
            value = node.evaluated_value
        except Exception:  # malformed escapes: fall back to the raw body
            return body
        return value if isinstance(value, str) else None
    if isinstance(node, cst.ConcatenatedString):
        left, right = string_value(node.left), string_value(node.right)
        if left is None or right is None:
            return None
        return left + right
    if isinstance(node, cst.FormattedString):
        out = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                out.append(part.value)
            else:
                assert isinstance(part, cst.FormattedStringExpression)  # the only other kind of part
                out.append("{" + (dotted_name(part.expression) or "…") + "}")
        return "".join(out)
    return None


@dataclass(eq=False)  # identity: functions are dict keys and set members
class Function:
    name: str
    node: cst.FunctionDef
    parent: Optional["Function"]
    class_name: Optional[str]
    stmt: int
    params: list[str]
    assigns: dict[str, list[cst.CSTNode]] = field(default_factory=dict)

    @property
    def qualname(self) -> str:
        prefix = self.parent.qualname + "." if self.parent else ""
        if self.class_name and not self.parent:
            prefix = self.class_name + "."
        return prefix + self.name


@dataclass
class Import:
    module: str  # the module as written, without leading dots
    name: Optional[str]  # the imported name of a from-import, None for `import x`
    alias: str  # the local name it binds
    level: int  # leading dots of a relative import
    node: cst.CSTNode
    stmt: int
    scope: Optional[Function]
    guarded: bool = False  # inside `try:` with an ImportError handler

    @property
    def qualified(self) -> str:
        """What the bound name refers to: `numpy`, `datasets.load_dataset`."""
        if self.name is None:
            # `import a.b` binds `a`; `import a.b as c` binds `a.b`.
            return self.module if self.alias != self.module.split(".")[0] else self.alias
        return f"{self.module}.{self.name}" if self.module else self.name

    @property
    def top_module(self) -> str:
        return self.module.split(".")[0] if self.module else (self.name or "")


@dataclass
class Call:
    node: cst.Call
    name: str  # dotted callee as written: `console.print_json`
    qualname: str  # callee with import aliases resolved: `rich.console.Console.print_json`
    scope: Optional[Function]
    loops: tuple  # enclosing For/While nodes inside the scope, outermost first
    stmt: int

    @cached_property  # many rules scan every call by method
    def method(self) -> str:
        """The called attribute (`print_json` of `Console().print_json(...)`), or the name."""
        func = self.node.func
        return func.attr.value if type(func) is cst.Attribute else self.name

    def keyword(self, name: str) -> Optional[cst.BaseExpression]:
        return keyword_argument(self.node, name)

    def positional(self, index: int) -> Optional[cst.BaseExpression]:
        plain = [a.value for a in self.node.args if a.keyword is None and not a.star]
        return plain[index] if index < len(plain) else None


def keyword_argument(node: cst.CSTNode, name: str) -> Optional[cst.BaseExpression]:
    """What a call (or a decorator call, `@hydra.main(version_base=None)`) passes as `name=`."""
    if not isinstance(node, cst.Call):
        return None
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    return None


@dataclass
class StringLit:
    value: str
    node: cst.CSTNode
    scope: Optional[Function]
    stmt: int


@dataclass
class Subscript:
    base: str  # dotted name of the subscripted value, '' when not a name
    key: str
    node: cst.Subscript
    store: bool
    scope: Optional[Function]
    stmt: int


@dataclass
class AttributeChain:
    name: str  # `cfg.training.lr`
    node: cst.Attribute
    store: bool
    scope: Optional[Function]
    stmt: int


@dataclass
class Index:
    imports: list[Import] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    classes: dict[str, cst.ClassDef] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    strings: list[StringLit] = field(default_factory=list)
    subscripts: list[Subscript] = field(default_factory=list)
    attributes: list[AttributeChain] = field(default_factory=list)
    module_assigns: dict[str, list[cst.CSTNode]] = field(default_factory=dict)
    # ids of string literals used as comparison operands (`x == "A"`, `"A" in x`)
    compared: set = field(default_factory=set)
    # statement ordinal (pre-order, as in the ast) -> CST statement node
    statements: list[cst.CSTNode] = field(default_factory=list)
    # id(node) -> statement ordinal, for the nodes recorded above
    stmt_of: dict[int, int] = field(default_factory=dict)
    # compound statement ordinal -> ordinal of the last statement inside it
    last_inside: dict[int, int] = field(default_factory=dict)
    toplevel: dict[str, cst.CSTNode] = field(default_factory=dict)  # top-level defs and classes
    defined: set[str] = field(default_factory=set)  # the names of every def and class, at any depth

    # -- queries ---------------------------------------------------------
    def aliases(self, scope: Optional[Function] = None) -> dict[str, str]:
        """Local name -> qualified name, for module-level imports and those in `scope`."""
        table = {}
        for imp in self.imports:
            if imp.scope is None or (scope is not None and encloses(imp.scope, scope)):
                table[imp.alias] = imp.qualified
        return table

    def statement_range(self, node: cst.CSTNode) -> tuple[int, int]:
        """(first, last) statement ordinals of a statement and everything inside it."""
        first = self.stmt_of.get(id(node), -1)
        return first, self.last_inside.get(first, first)

    def scope_of(self, stmt: int) -> Optional[Function]:
        """The innermost function whose body holds statement `stmt` (None: module level)."""
        table = self._scopes
        return table[stmt] if 0 <= stmt < len(table) else None

    @cached_property
    def _scopes(self) -> list[Optional[Function]]:
        """Each statement's innermost function, worked out once (rules ask for every statement).
        A function starts after the outer ones that hold it, so writing them in order of their
        first statement leaves the innermost last."""
        table: list[Optional[Function]] = [None] * len(self.statements)
        for fn in sorted(self.functions, key=lambda f: f.stmt):
            first, last = self.statement_range(fn.node)
            for ordinal in range(max(first + 1, 0), min(last, len(table) - 1) + 1):
                table[ordinal] = fn
        return table

    def function(self, name: str) -> Optional[Function]:
        for fn in self.functions:
            if fn.name == name and fn.parent is None and fn.class_name is None:
                return fn
        for fn in self.functions:
            if fn.name == name:
                return fn
        return None

    def calls_to(self, *qualnames: str) -> list[Call]:
        wanted = set(qualnames)
        return [c for c in self.calls if c.qualname in wanted]

    def assigned(self, name: str, scope: Optional[Function]) -> list[cst.CSTNode]:
        """Values assigned to a simple name, innermost scope first, then module level."""
        while scope is not None:
            if name in scope.assigns:
                return scope.assigns[name]
            scope = scope.parent
        return self.module_assigns.get(name, [])


def encloses(outer: Function, inner: Function) -> bool:
    """`inner` is `outer` or defined (at any depth) inside it."""
    node: Optional[Function] = inner
    while node is not None:
        if node is outer:
            return True
        node = node.parent
    return False


_LOOPS = (cst.For, cst.While)


class _Builder:
    def __init__(self) -> None:
        self.index = Index()
        self.scope: Optional[Function] = None
        self.class_name: Optional[str] = None
        self.loops: tuple = ()
        self.stmt = -1
        self.store = False
        self.guarded = False
        # import aliases seen so far, kept up to date as imports are met (calls resolve through them)
        self.module_aliases: dict[str, str] = {}
        self.scope_aliases: dict[int, dict[str, str]] = {}

    # -- generic ---------------------------------------------------------
    def visit(self, node: cst.CSTNode) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node)
        else:
            self.visit_children(node)

    def close(self, ordinal: int) -> None:
        """Record where the compound statement `ordinal` ends."""
        self.index.last_inside[ordinal] = len(self.index.statements) - 1

    def visit_children(self, node: cst.CSTNode) -> None:
        # The hottest loop of a review: no generator, nodes without children are not entered, and
        # "is it a node" is a dict lookup by type (isinstance against CSTNode, an ABC, costs more).
        handlers = _HANDLERS
        for name in child_fields(type(node)):
            value = getattr(node, name)
            kind = type(value)
            if kind is tuple or kind is list:
                for item in value:
                    kind = type(item)
                    if _IS_NODE.get(kind) or kind not in _IS_NODE and _is_node_type(kind):
                        handler = handlers.get(kind)
                        if handler is not None:
                            handler(self, item)
                        elif child_fields(kind):
                            self.visit_children(item)
            elif _IS_NODE.get(kind) or kind not in _IS_NODE and _is_node_type(kind):
                handler = handlers.get(kind)
                if handler is not None:
                    handler(self, value)
                elif child_fields(kind):
                    self.visit_children(value)

    def enter_statement(self, node: cst.CSTNode) -> None:
        self.index.statements.append(node)
        self.stmt = len(self.index.statements) - 1
        self.index.stmt_of[id(node)] = self.stmt

    def block(self, node: cst.CSTNode) -> None:
        # Header parts that follow a body (except clauses, match guards) belong to the
        # compound statement, not to the body's last statement.
        saved = self.stmt
        self.visit_children(node)
        self.stmt = saved

    def note(self, node: cst.CSTNode) -> None:
        self.index.stmt_of[id(node)] = self.stmt

    # -- statements ------------------------------------------------------
    def small_statement(self, node: cst.CSTNode) -> None:
        self.enter_statement(node)
        self.visit_children(node)

    def compound(self, node: cst.CSTNode) -> None:
        self.enter_statement(node)
        ordinal = self.stmt
        if isinstance(node, _LOOPS):
            outer = self.loops
            self.loops = outer + (node,)
            self.visit_children(node)
            self.loops = outer
        else:
            self.visit_children(node)
        self.close(ordinal)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.enter_statement(node)
        params = [p.name.value for p in all_params(node.params)]
        fn = Function(node.name.value, node, self.scope, self.class_name, self.stmt, params)
        self.index.functions.append(fn)
        self.index.defined.add(fn.name)
        if self.scope is None and self.class_name is None:
            self.index.toplevel[fn.name] = node
        self._bind(node.name.value, node)
        for deco in node.decorators:
            self.visit(deco)
        for p in all_params(node.params):
            if p.default is not None:
                self.visit(p.default)
            if p.annotation is not None:
                self.visit(p.annotation)
        outer = (self.scope, self.class_name, self.loops)
        self.scope, self.class_name, self.loops = fn, None, ()
        self.visit(node.body)
        self.scope, self.class_name, self.loops = outer
        self.close(fn.stmt)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.enter_statement(node)
        self.index.defined.add(node.name.value)
        if self.scope is None and self.class_name is None:
            self.index.toplevel[node.name.value] = node
            self.index.classes[node.name.value] = node
        self._bind(node.name.value, node)
        for part in (*node.decorators, *node.bases, *node.keywords):
            self.visit(part)
        outer = self.class_name
        self.class_name = node.name.value
        ordinal = self.stmt
        self.visit(node.body)
        self.class_name = outer
        self.close(ordinal)

    def _add_import(self, imp: Import) -> None:
        self.index.imports.append(imp)
        table = self.module_aliases if imp.scope is None else self.scope_aliases.setdefault(id(imp.scope), {})
        table[imp.alias] = imp.qualified

    def resolve_calls(self) -> None:
        """Give each call its qualified name (`plt.savefig` → `matplotlib.pyplot.savefig`): names a
        function calls resolve when it runs, so every import of the file counts, wherever it stands."""
        for call in self.index.calls:
            if not call.name:
                continue
            head, _, rest = call.name.partition(".")
            target = None
            scope = call.scope
            while scope is not None and target is None:
                target = self.scope_aliases.get(id(scope), {}).get(head)
                scope = scope.parent
            if target is None:
                target = self.module_aliases.get(head)
            if target is not None:
                call.qualname = target + ("." + rest if rest else "")

    def visit_Import(self, node: cst.Import) -> None:
        self.enter_statement(node)
        for alias in node.names:
            module = dotted_name(alias.name)
            bound = dotted_name(alias.asname.name) if alias.asname else module.split(".")[0]
            self._add_import(Import(module, None, bound, 0, alias, self.stmt, self.scope, self.guarded))
            self.note(alias)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.enter_statement(node)
        module = dotted_name(node.module) if node.module is not None else ""
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            self._add_import(Import(module, "*", "*", level, node, self.stmt, self.scope, self.guarded))
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            bound = dotted_name(alias.asname.name) if alias.asname else name
            self._add_import(Import(module, name, bound, level, alias, self.stmt, self.scope, self.guarded))
            self.note(alias)

    def _bind(self, name: str, value: cst.CSTNode) -> None:
        table = self.scope.assigns if self.scope is not None else self.index.module_assigns
        if self.class_name is None or self.scope is not None:
            table.setdefault(name, []).append(value)

    def _targets(self, target: cst.CSTNode, value: Optional[cst.CSTNode]) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, value if value is not None else target)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._targets(el.value, None)
        elif isinstance(target, cst.StarredElement):
            self._targets(target.value, None)
        outer = self.store
        self.store = True
        self.visit(target)
        self.store = outer

    def visit_Assign(self, node: cst.Assign) -> None:
        self.enter_statement(node)
        for t in node.targets:
            self._targets(t.target, node.value)
        self.visit(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.enter_statement(node)
        self._targets(node.target, node.value)
        self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.enter_statement(node)
        self._targets(node.target, None)
        self.visit(node.value)

    def visit_For(self, node: cst.For) -> None:
        self.enter_statement(node)
        ordinal = self.stmt
        self._targets(node.target, None)
        self.visit(node.iter)
        outer = self.loops
        self.loops = outer + (node,)
        self.visit(node.body)
        self.loops = outer
        if node.orelse is not None:
            self.visit(node.orelse)
        self.close(ordinal)

    def visit_With(self, node: cst.With) -> None:
        self.enter_statement(node)
        ordinal = self.stmt
        for item in node.items:
            self.visit(item.item)
            if item.asname is not None:
                self._targets(item.asname.name, item.item)
        self.visit(node.body)
        self.close(ordinal)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._targets(node.target, node.value)
        self.visit(node.value)

    # -- expressions -----------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        name = dotted_name(node.func)
        # qualname is resolved after the walk, when every import of the file is known
        self.index.calls.append(Call(node, name, name, self.scope, self.loops, self.stmt))
        self.note(node)
        outer = self.store
        self.store = False
        self.visit_children(node)
        self.store = outer

    def visit_string(self, node: cst.CSTNode) -> None:
        value = string_value(node)
        if value is not None:
            self.index.strings.append(StringLit(value, node, self.scope, self.stmt))
            self.note(node)
        if isinstance(node, cst.FormattedString):
            self.visit_children(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = string_value(node.slice[0].slice.value)
            if key is not None and not isinstance(node.slice[0].slice.value, cst.FormattedString):
                self.index.subscripts.append(
                    Subscript(dotted_name(node.value), key, node, self.store, self.scope, self.stmt)
                )
                self.note(node)
        outer = self.store
        self.store = False
        self.visit_children(node)
        self.store = outer

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = dotted_name(node)
        if name:
            self.index.attributes.append(AttributeChain(name, node, self.store, self.scope, self.stmt))
            self.note(node)
            return  # the inner chain is part of this one
        outer = self.store
        self.store = False
        self.visit_children(node)
        self.store = outer

    def visit_Dict(self, node: cst.Dict) -> None:
        self.note(node)  # a finding may point at a dict literal: its statement is looked up
        self.visit_children(node)

    def visit_Try(self, node: cst.Try) -> None:
        self.enter_statement(node)
        ordinal = self.stmt
        catches = any(_catches_import_error(h) for h in node.handlers)
        outer = self.guarded
        self.guarded = outer or catches
        self.visit(node.body)
        self.guarded = outer
        for part in (*node.handlers, node.orelse, node.finalbody):
            if part is not None:
                self.visit(part)
        self.close(ordinal)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        for operand in (node.left, *(t.comparator for t in node.comparisons)):
            if isinstance(operand, (cst.Tuple, cst.List, cst.Set)):
                for el in operand.elements:
                    self.index.compared.add(id(el.value))
            else:
                self.index.compared.add(id(operand))
        self.visit_children(node)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.visit(node.body)


def _catches_import_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = [dotted_name(handler.type)]
    if isinstance(handler.type, cst.Tuple):
        names = [dotted_name(el.value) for el in handler.type.elements]
    return any(n in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException") for n in names)


def all_params(params: cst.Parameters, stars: bool = True) -> list[cst.Param]:
    """Positional-only, plain and keyword-only parameters, then `*args` and `**kwargs` (with `stars`)."""
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    if not stars:
        return out
    if isinstance(params.star_arg, cst.Param):
        out.append(params.star_arg)
    if params.star_kwarg is not None:
        out.append(params.star_kwarg)
    return out


# Keyed by node type: each handler takes a node of its key's type, which a Callable type cannot say.
_HANDLERS: dict[type, Callable[[_Builder, Any], None]] = {
    cst.IndentedBlock: _Builder.block,
    cst.SimpleStatementSuite: _Builder.block,
    cst.FunctionDef: _Builder.visit_FunctionDef,
    cst.ClassDef: _Builder.visit_ClassDef,
    cst.Import: _Builder.visit_Import,
    cst.ImportFrom: _Builder.visit_ImportFrom,
    cst.Assign: _Builder.visit_Assign,
    cst.AnnAssign: _Builder.visit_AnnAssign,
    cst.AugAssign: _Builder.visit_AugAssign,
    cst.For: _Builder.visit_For,
    cst.With: _Builder.visit_With,
    cst.NamedExpr: _Builder.visit_NamedExpr,
    cst.Call: _Builder.visit_Call,
    cst.Subscript: _Builder.visit_Subscript,
    cst.Attribute: _Builder.visit_Attribute,
    cst.Dict: _Builder.visit_Dict,
    cst.Lambda: _Builder.visit_Lambda,
    cst.Try: _Builder.visit_Try,
    cst.Comparison: _Builder.visit_Comparison,
    cst.SimpleString: _Builder.visit_string,
    cst.ConcatenatedString: _Builder.visit_string,
    cst.FormattedString: _Builder.visit_string,
}
for _tp in (cst.If, cst.While, cst.Match) + tuple(
    t for t in (getattr(cst, "TryStar", None),) if t is not None
):
    _HANDLERS[_tp] = _Builder.compound
for _tp in (
    cst.Expr, cst.Return, cst.Raise, cst.Assert, cst.Del, cst.Pass, cst.Break, cst.Continue,
    cst.Global, cst.Nonlocal,
):
    _HANDLERS[_tp] = _Builder.small_statement
for _name in ("TypeAlias",):
    if hasattr(cst, _name):
        _HANDLERS[getattr(cst, _name)] = _Builder.small_statement


def build_index(module: cst.Module) -> Index:
    builder = _Builder()
    builder.visit_children(module)
    builder.resolve_calls()
    return builder.index
