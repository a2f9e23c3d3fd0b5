"""Questions several rule families ask of Python sources: what a parser accepts, what a
script launches, where a path points, what a function can reach, what a line's comment is."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional

import libcst as cst

from expreview.sources.index import Call, Function, Index, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource

PLACEHOLDER = re.compile(r"\b\w*PLACEHOLDER\w*\b")
SUBPROCESS_CALLS = {
    "subprocess.run", "subprocess.Popen", "subprocess.call", "subprocess.check_call",
    "subprocess.check_output", "os.system", "os.execv", "os.execvp", "os.spawnv",
    "asyncio.create_subprocess_exec", "asyncio.create_subprocess_shell",
}


# -- comments -------------------------------------------------------------

def python_comment(text: str) -> Optional[str]:
    """The comment of one Python source line, ignoring `#` inside string literals."""
    quote = None
    i = 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        elif ch in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else ch
            i += len(quote)
            continue
        elif ch == "#":
            return text[i + 1:].strip()
        i += 1
    return None


_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def explains(comment: Optional[str]) -> bool:
    """A comment explains a placeholder when it says more than the token itself."""
    if not comment:
        return False
    rest = PLACEHOLDER.sub(" ", comment)
    words = [w for w in _WORD.findall(rest) if w.lower() not in ("placeholder", "placeholders", "todo")]
    return len(words) >= 2


_SELF_EXPLAINING = re.compile(
    r"\b(replac\w*|substitut\w*|fill(ed)? in|insert\w*|implement\w*|populat\w*|will be|to be|e\.g\.|such as)\b",
    re.I,
)
_TOKEN_THEN_WORDS = re.compile(r"\b\w*PLACEHOLDER\w*\s*[:\u2013-]\s*[A-Za-z]+\W+[A-Za-z]+")


def explains_itself(text: str) -> bool:
    """Free text around a token that says what replaces it ("PLACEHOLDER: replace with …")."""
    return bool(_SELF_EXPLAINING.search(PLACEHOLDER.sub(" ", text)) or _TOKEN_THEN_WORDS.search(text))


# -- string statements ----------------------------------------------------

def is_docstring(index: Index, node: cst.CSTNode, stmt: int) -> bool:
    statement = index.statements[stmt] if 0 <= stmt < len(index.statements) else None
    return isinstance(statement, cst.Expr) and statement.value is node


# -- argparse -------------------------------------------------------------

@dataclass
class Flag:
    names: tuple[str, ...]
    required: bool
    positional: bool
    node: cst.Call


@dataclass
class ParserSpec:
    flags: list[Flag] = field(default_factory=list)
    tolerant: bool = False  # parse_known_args: unknown flags do not fail

    def defines(self, option: str) -> bool:
        for flag in self.flags:
            if option in flag.names:
                return True
            # argparse accepts unambiguous prefixes of long options
            if option.startswith("--") and any(n.startswith(option) for n in flag.names):
                return True
        return False

    @property
    def options(self) -> list[str]:
        return [n for f in self.flags for n in f.names if n.startswith("-")]


def parser_spec(source: PythonSource) -> Optional[ParserSpec]:
    """The argparse interface a script defines, or None when it uses no argparse parser."""
    index = source.index
    if not any(c.qualname in ("argparse.ArgumentParser",) or c.name.endswith("ArgumentParser")
               for c in index.calls):
        return None
    spec = ParserSpec()
    for call in index.calls:
        if not call.name.endswith(".add_argument"):
            continue
        names = []
        for arg in call.node.args:
            if arg.keyword is not None:
                break
            value = string_value(arg.value)
            if value is not None:
                names.append(value)
        if not names:
            continue
        positional = not names[0].startswith("-")
        required = positional and literal(call.keyword("nargs")) not in ("?", "*")
        req = call.keyword("required")
        if isinstance(req, cst.Name):
            required = req.value == "True"
        if call.keyword("default") is not None and positional:
            required = literal(call.keyword("nargs")) not in ("?", "*") and required
        spec.flags.append(Flag(tuple(names), required, positional, call.node))
    spec.tolerant = any(c.name.endswith("parse_known_args") for c in index.calls)
    return spec


def literal(node: Optional[cst.CSTNode]):
    if node is None:
        return None
    value = string_value(node)
    if value is not None:
        return value
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0) if node.value.isdigit() else node.value
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.value]
    return None


# -- launched commands ----------------------------------------------------

@dataclass
class Launch:
    """A command list that runs one of the bundle's modules (`python -m src.train …`)."""
    target: str  # bundle path of the launched script: src/train.py
    node: cst.CSTNode  # the list literal holding the module name
    flags: list[tuple[str, cst.CSTNode]]  # option strings passed, with where they are
    scope: Optional[Function]
    stmt: int


_MODULE_ARG = re.compile(r"^(?:src[./])?(\w+)(?:\.py)?$")


def launch_target(value: str) -> Optional[str]:
    """`src.train`, `src/train.py` → `src/train.py`."""
    value = value.strip()
    if value.startswith("src.") and value.count(".") == 1:
        return f"src/{value[4:]}.py"
    if value.startswith("src/") and value.endswith(".py"):
        return value
    return None


def launches(source: PythonSource) -> list[Launch]:
    return source.memo("launches", lambda: _launches(source))


def _element_text(index: Index, node: cst.CSTNode) -> Optional[str]:
    """A string element, or a name bound once at module level to a string (`TRAIN_MODULE`)."""
    if isinstance(node, cst.Name):
        values = index.module_assigns.get(node.value, [])
        return string_value(values[0]) if len(values) == 1 else None
    return string_value(node)


def _launches(source: PythonSource) -> list[Launch]:
    index = source.index
    out = []
    for lst in _list_literals(index):
        target = None
        for el in lst.elements:
            value = _element_text(index, el.value)
            if value is not None and launch_target(value):
                target = launch_target(value)
                break
            if value is not None and " -m src." in f" {value}":
                match = re.search(r"-m\s+(src\.\w+)", value)
                target = launch_target(match.group(1)) if match else None
                if target:
                    break
        if target is None:
            continue
        stmt = index.stmt_of.get(id(lst), -1)
        scope = _scope_of_stmt(index, stmt)
        flags = _option_strings(lst, index)
        var = _assigned_name(index, lst, stmt)
        if var is not None:
            flags.extend(_extensions(index, var, scope))
        out.append(Launch(target, lst, flags, scope, stmt))
    return out


def _list_literals(index: Index) -> Iterable[cst.List]:
    """List literals that hold a launch target, directly or through a module-level constant."""
    seen = set()
    constants = {name for name, values in index.module_assigns.items()
                 if len(values) == 1 and (lambda v: v is not None and (launch_target(v) or "-m src." in v))(
                     string_value(values[0]))}
    places = [(s.stmt, s.node) for s in index.strings if launch_target(s.value) or "-m src." in s.value]
    if constants:  # the constant's uses are not indexed: look in the statements that mention it
        places += [(ordinal, None) for ordinal, statement in enumerate(index.statements)
                   if not isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.If, cst.For, cst.While,
                                                 cst.With, cst.Try))
                   and any(isinstance(n, cst.Name) and n.value in constants for n in iter_subtree(statement))]
    for stmt, node in places:
        statement = index.statements[stmt] if stmt >= 0 else None
        if statement is None:
            continue
        for candidate in iter_subtree(statement):
            if not isinstance(candidate, cst.List) or id(candidate) in seen:
                continue
            if any(el.value is node if node is not None else
                   isinstance(el.value, cst.Name) and el.value.value in constants for el in candidate.elements):
                seen.add(id(candidate))
                index.stmt_of[id(candidate)] = stmt
                yield candidate


def _scope_of_stmt(index: Index, stmt: int) -> Optional[Function]:
    """The innermost function whose body holds statement `stmt`."""
    best = None
    for fn in index.functions:
        first, last = index.statement_range(fn.node)
        if first < stmt <= last and (best is None or fn.stmt > best.stmt):
            best = fn
    return best


def _option_strings(node: cst.CSTNode, index: Optional[Index] = None) -> list[tuple[str, cst.CSTNode]]:
    """Option strings in a list literal; given the file's `index`, only those after the launched
    module `src.x` (what precedes it, like `-u -m`, are the interpreter's options)."""
    out = []
    elements = list(node.elements) if isinstance(node, (cst.List, cst.Tuple)) else []
    if index is not None:
        for position, el in enumerate(elements):
            value = _element_text(index, el.value)
            if value is not None and (launch_target(value) or "-m src." in f" {value}"):
                elements = elements[position + 1:]
                break
    for el in elements:
        value = _flag(el.value)
        if value is not None:
            out.append((value, el.value))
    return out


def _flag(node: cst.CSTNode) -> Optional[str]:
    """`--name` from a literal option string; None for values, negative numbers and flags built
    from data (`f"--{key}"`, whose name is not known here)."""
    if isinstance(node, cst.FormattedString) and any(
            isinstance(part, cst.FormattedStringExpression) for part in node.parts):
        return None
    value = string_value(node)
    if value is None or not value.startswith("-") or len(value) < 2 or value[1:2].isdigit():
        return None
    return value.split("=", 1)[0]


def _assigned_name(index: Index, node: cst.CSTNode, stmt: int) -> Optional[str]:
    statement = index.statements[stmt] if 0 <= stmt < len(index.statements) else None
    if isinstance(statement, (cst.Assign, cst.AnnAssign)):
        value = statement.value
        if value is node or (isinstance(value, cst.BinaryOperation) and node in (value.left, value.right)):
            targets = statement.targets if isinstance(statement, cst.Assign) else [statement]
            for t in targets:
                if isinstance(t.target, cst.Name):
                    return t.target.value
    return None


def _extensions(index: Index, var: str, scope: Optional[Function]) -> list[tuple[str, cst.CSTNode]]:
    """Options added later with `cmd.append(…)`, `cmd.extend([...])` or `cmd += [...]`."""
    out = []
    for call in index.calls:
        if call.scope is not scope or call.name not in (f"{var}.append", f"{var}.extend", f"{var}.insert"):
            continue
        for arg in call.node.args:
            value = _flag(arg.value)
            if value is not None:
                out.append((value, arg.value))
            out.extend(_option_strings(arg.value))
    for statement in index.statements:
        if isinstance(statement, cst.AugAssign) and isinstance(statement.target, cst.Name) \
                and statement.target.value == var:
            out.extend(_option_strings(statement.value))
    return out


# -- reachability ---------------------------------------------------------

def callees(index: Index, fn: Function) -> set[str]:
    """Names of this file's functions that `fn` calls or hands to a thread or pool."""
    local = {f.name for f in index.functions}
    out = set()
    for call in index.calls:
        if call.scope is None or not _within(call.scope, fn):
            continue
        if call.name in local:
            out.add(call.name)
        for arg in call.node.args:
            if isinstance(arg.value, cst.Name) and arg.value.value in local:
                out.add(arg.value.value)
    return out


def _within(scope: Function, fn: Function) -> bool:
    while scope is not None:
        if scope is fn:
            return True
        scope = scope.parent
    return False


def reachable(index: Index, start: Function) -> set[str]:
    seen = {start.name}
    todo = [start]
    while todo:
        fn = todo.pop()
        for name in callees(index, fn):
            if name not in seen:
                seen.add(name)
                target = index.function(name)
                if target is not None:
                    todo.append(target)
    return seen


def functions_called_in_loops(index: Index) -> set[str]:
    """Functions called, or handed to a thread or pool, from inside a loop (and what they reach)."""
    local = {f.name for f in index.functions}
    started = set()
    for call in index.calls:
        if not call.loops:
            continue
        if call.name in local:
            started.add(call.name)
        for arg in call.node.args:
            if isinstance(arg.value, cst.Name) and arg.value.value in local:
                started.add(arg.value.value)
    out = set()
    for name in started:
        fn = index.function(name)
        if fn is not None:
            out |= reachable(index, fn)
    return out


# -- values and paths -----------------------------------------------------

def resolve(index: Index, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> cst.CSTNode:
    """Follow a name to the one value assigned to it, when there is exactly one."""
    while isinstance(expr, cst.Name) and depth < 8:
        values = [v for v in index.assigned(expr.value, scope) if v is not None]
        if len(values) != 1 or isinstance(values[0], cst.Name) and values[0].value == expr.value:
            return expr
        expr = values[0]
        depth += 1
    return expr


@dataclass(frozen=True)
class Part:
    kind: str  # "lit": a literal piece of path; "var": a named value; "unknown"
    text: str


def path_parts(source: PythonSource, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> list[Part]:
    """A path expression as literal pieces and named values: `results_dir / run_id / "images"`."""
    if depth > 12:
        return [Part("unknown", "…")]
    index = source.index
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        value = string_value(expr) or ""
        return [Part("lit", p) for p in value.split("/") if p and p != "."]
    if isinstance(expr, cst.FormattedString):
        return _fstring_parts(source, expr, scope, depth)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        return path_parts(source, expr.left, scope, depth + 1) + path_parts(source, expr.right, scope, depth + 1)
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func)
        args = [a.value for a in expr.args if a.keyword is None]
        if name in ("os.path.join", "path.join", "Path", "pathlib.Path", "PurePath", "str", "os.fspath"):
            out: list[Part] = []
            for arg in args:
                out.extend(path_parts(source, arg, scope, depth + 1))
            return out
        if name.endswith(".joinpath") and isinstance(expr.func, cst.Attribute):
            out = path_parts(source, expr.func.value, scope, depth + 1)
            for arg in args:
                out.extend(path_parts(source, arg, scope, depth + 1))
            return out
        if name.endswith((".resolve", ".absolute", ".expanduser")) and isinstance(expr.func, cst.Attribute):
            return path_parts(source, expr.func.value, scope, depth + 1)
        return [Part("unknown", name or "call")]
    if isinstance(expr, cst.Attribute):
        return [Part("var", expr.attr.value)]
    if isinstance(expr, cst.Subscript):  # cfg["run_id"] stands for the run id
        key = next((s.key for s in index.subscripts if s.node is expr), None)
        return [Part("var", key)] if key else [Part("unknown", "subscript")]
    if isinstance(expr, cst.Name):
        resolved = resolve(index, expr, scope)
        if resolved is not expr:
            return path_parts(source, resolved, scope, depth + 1)
        if scope is not None and expr.value in scope.params:
            bound = _argument_everywhere(source, scope, expr.value, depth)
            if bound is not None:
                return bound
        return [Part("var", expr.value)]
    return [Part("unknown", type(expr).__name__)]


def _fstring_parts(source, expr: cst.FormattedString, scope, depth) -> list[Part]:
    out: list[Part] = []
    pending = ""
    for piece in expr.parts:
        if isinstance(piece, cst.FormattedStringText):
            pending += piece.value
            continue
        inner = path_parts(source, piece.expression, scope, depth + 1)
        pieces = pending.split("/")
        for p in pieces[:-1]:
            if p:
                out.append(Part("lit", p))
        tail = pieces[-1]
        if tail:  # text glued to the value: `{run_id}_loss.pdf` stays one piece
            out.append(Part("lit", tail))
        out.extend(inner)
        pending = ""
    for p in pending.split("/"):
        if p:
            out.append(Part("lit", p))
    return _glue(out, expr)


def _glue(parts: list[Part], expr: cst.FormattedString) -> list[Part]:
    # f"{a}/{b}_x.pdf": pieces not separated by "/" belong to one path component
    text = "".join(
        p.value if isinstance(p, cst.FormattedStringText) else "\0" for p in expr.parts
    )
    if "/" not in text:
        joined = "".join(p.text if p.kind == "lit" else "{" + p.text + "}" for p in parts)
        kinds = {p.kind for p in parts}
        return [Part("lit" if kinds == {"lit"} else "var", joined)] if parts else []
    return parts


def _argument_everywhere(source: PythonSource, fn: Function, param: str, depth: int) -> Optional[list[Part]]:
    """The path a parameter receives, when every call of the function in the file agrees."""
    return agreed_argument(source, fn, param, (source,),
                           lambda caller, call, arg: path_parts(caller, arg, call.scope, depth + 1))


def call_sites(source: PythonSource, fn: Function, sources: Iterable[PythonSource] = ()):
    """(file, call) for every call of `fn`: by name (or self./cls.) in its own file, and in the
    other `sources` as `module.fn` or as a name imported from fn's module."""
    own = {fn.name} if fn.class_name is None else {f"self.{fn.name}", f"cls.{fn.name}"}
    stem = source.path.rsplit("/", 1)[-1][:-3]
    for caller in sources or (source,):
        if caller is source:
            names = own
        else:
            imported = any(imp.name == fn.name and (imp.module or "").split(".")[-1] == stem
                           for imp in caller.index.imports)
            names = {fn.name} if imported else set()
        for call in caller.index.calls:
            if call.name in names or caller is not source and call.name.endswith("." + fn.name):
                yield caller, call


def argument(call: Call, fn: Function, param: str) -> Optional[cst.CSTNode]:
    """What `call` passes for `fn`'s parameter `param`."""
    if param not in fn.params:
        return None
    position = fn.params.index(param) - (1 if fn.params[0] in ("self", "cls") else 0)
    return call.keyword(param) or (call.positional(position) if position >= 0 else None)


def agreed_argument(source: PythonSource, fn: Function, param: str, sources, judge):
    """`judge(caller, call, arg)` for the argument every call passes, when all calls agree
    (None when there is no call, an argument is missing, or callers disagree)."""
    found = None
    for caller, call in call_sites(source, fn, sources):
        arg = argument(call, fn, param)
        if arg is None:
            return None
        value = judge(caller, call, arg)
        if value is None or found is not None and value != found:
            return None
        found = value
    return found


def render(parts: list[Part]) -> str:
    return "/".join(p.text if p.kind == "lit" or "{" in p.text else "{" + p.text + "}" for p in parts)
