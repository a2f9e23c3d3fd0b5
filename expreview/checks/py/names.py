"""PY: the code can run at all: it parses, its names exist, its imports resolve."""
from __future__ import annotations

import ast
import re
from functools import partial
from typing import Iterator, Optional

import libcst as cst
from pyflakes import messages as flake_messages

from expreview.checks.py.undefined import undefined_messages
from expreview.facts.docstrings import is_docstring
from expreview.facts.project_imports import project_module
from expreview.bundle import Bundle
from expreview.findings import CRASH, ERROR, Span, WARNING
from expreview.edits import UNSAFE, Fix
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, Import
from expreview.sources.pyfile import PythonSource
from expreview.sources.python_edits import replace_node


@rule(
    code="PY001", name="syntax-error", severity=ERROR,
    consequence=CRASH,
    criterion="The code is immediately executable: every Python file parses.",
    rationale="A syntax error stops the run before anything else happens.",
    invalid=[Example(files={"src/train.py": """
        def main(:
            pass
        """}, line=1)],
    valid=[Example(files={"src/train.py": """
        def main():
            pass
        """})],
)
def syntax_error(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        problem = source.parse_problem
        if problem is not None:
            yield Hit(source.path, f"{source.path} does not parse: {problem.message}; fix the syntax",
                      Span(problem.line, problem.column, problem.line, problem.column))


# `UndefinedExport` (a string in `__all__` that names nothing) is left out: `__all__` holds strings,
# not names, and only a star import would ever look them up.
_UNDEFINED = (flake_messages.UndefinedName, flake_messages.UndefinedLocal)
_NAMESPACE_CALLS = ("locals", "globals", "vars", "dir")


def _tests_bound(test: ast.expr, name: str, negated: bool = False) -> bool:
    """`test` holds only when `name` is bound: `"x" in locals()` (or globals(), vars(), dir()),
    alone or as a conjunct of an `and` (`not in` when `negated`: the test holds when it is unbound)."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and not negated:
        return any(_tests_bound(value, name) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _tests_bound(test.operand, name, not negated)
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return False
    op = ast.NotIn if negated else ast.In
    right = test.comparators[0]
    return isinstance(test.ops[0], op) and isinstance(test.left, ast.Constant) and test.left.value == name \
        and isinstance(right, ast.Call) and isinstance(right.func, ast.Name) and right.func.id in _NAMESPACE_CALLS


def _parents(tree: ast.Module) -> tuple[dict[int, ast.AST], dict[tuple[int, int], ast.Name]]:
    """Each node's parent (by id), and the Name nodes by (line, column)."""
    parents: dict[int, ast.AST] = {}
    names: dict[tuple[int, int], ast.Name] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if isinstance(node, ast.Name):
            names[(node.lineno, node.col_offset)] = node
    return parents, names


def _guarded_by_namespace_test(parents: dict[int, ast.AST], target: Optional[ast.AST], name: str) -> bool:
    """The use of `name` (`target`) runs only where `"name" in locals()` (or globals()) held."""
    child = target
    while child is not None:
        parent = parents.get(id(child))
        if isinstance(parent, (ast.If, ast.IfExp)):
            inside_body = child in parent.body if isinstance(parent.body, list) else child is parent.body
            inside_else = child in parent.orelse if isinstance(parent.orelse, list) else child is parent.orelse
            if inside_body and _tests_bound(parent.test, name) or inside_else and _tests_bound(parent.test, name, True):
                return True
        elif isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.And):
            before = parent.values[:parent.values.index(child)] if child in parent.values else []
            if any(_tests_bound(value, name) for value in before):
                return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        child = parent
    return False


@rule(
    code="PY002", name="undefined-name", severity=ERROR,
    consequence=CRASH,
    criterion="The code is immediately executable: no undefined names.",
    rationale="An undefined name raises NameError when its line runs, often after hours of training.",
    invalid=[Example(files={"src/train.py": """
        def main():
            return undefined_helper(1)
        """}, line=2),
             # the namespace test guards another name, or the use stands outside the guarded branch
             Example(files={"src/train.py": """
                 __all__ = ["main"]


                 def main(build):
                     if "model" in locals():
                         model.cpu()
                     optimizer.zero_grad()
                 """}, line=7, message="`optimizer` is not defined"),
             Example(files={"src/train.py": """
                 def cleanup():
                     if "model" in locals():
                         pass
                     model.cpu()
                 """}, line=4)],
    valid=[Example(files={"src/train.py": """
        def helper(x):
            return x


        def main():
            return helper(1)
        """}),
           # strings in __all__ are not names: a stale entry breaks only `from src.train import *`
           Example(files={"src/train.py": """
               __all__ = ["main", "old_helper"]


               def main():
                   return 1
               """}),
           # a name used only where `"x" in locals()` / `globals()` said it is bound
           Example(files={"src/train.py": """
               def cleanup():
                   if "model" in locals():
                       model.cpu()
                   if "trainer" in globals() and trainer is not None:
                       trainer.close()
                   run = wandb_run if "wandb_run" in locals() else None
                   if "optimizer" not in locals():
                       return run
                   else:
                       optimizer.zero_grad()
               """})],
)
def undefined_name(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        if not source.ok:
            continue
        tree = source.tree
        assert tree is not None  # source.ok
        walked = None
        for message in sorted(undefined_messages(source), key=lambda m: (m.lineno, m.col)):
            if isinstance(message, _UNDEFINED):
                name = message.message_args[0]
                walked = walked or _parents(tree)
                parents, names = walked
                if _guarded_by_namespace_test(parents, names.get((message.lineno, message.col)), str(name)):
                    continue
                yield Hit(source.path, f"`{name}` is not defined here (NameError when this line runs); "
                                       "define or import it", Span(message.lineno, message.col + 1, message.lineno, message.col + 1 + len(str(name))))


@rule(
    code="PY003", name="definition-shadows-import", severity=ERROR,
    consequence=CRASH, fixable=True,
    criterion="The code is immediately executable: a definition does not replace an imported "
              "name that the code still calls.",
    rationale="`def load_dataset(...)` after `from datasets import load_dataset` makes every call "
              "reach the local function, which then calls itself with the library's arguments.",
    invalid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset


        def load_dataset(cfg):
            return load_dataset(cfg['name'])
        """}, line=4)],
    valid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset as hf_load_dataset


        def load_dataset(cfg):
            return hf_load_dataset(cfg['name'])
        """}),
           Example(files={"src/train.py": """
               try:
                   from tqdm import tqdm
               except ImportError:
                   def tqdm(items, **kwargs):
                       return items


               for _ in tqdm(range(3)):
                   pass
               """})],
)
def shadowed_import(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        index = source.index
        # an import guarded by `except ImportError: def name(...)` is a fallback, not a shadowing
        imported = {imp.alias: imp for imp in index.imports if imp.scope is None and imp.alias != "*" and not imp.guarded}
        for name, node in index.toplevel.items():
            imp = imported.get(name)
            if imp is None or index.stmt_of.get(id(node), -1) < imp.stmt:
                continue
            called = [c for c in index.calls if c.name == name]
            if not called:
                continue
            kind = "def" if isinstance(node, cst.FunctionDef) else "class"
            yield Hit(source.path, f"`{kind} {name}` replaces `{imp.qualified}` imported at line "
                                   f"{source.span(imp.node).line}, so the call at line "
                                   f"{source.span(called[0].node).line} reaches this {kind}, not the library; "
                                   f"import it under another name (`import … as …`) or rename the {kind}", node,
                      fix=partial(_alias_fix, source, imp, node))


def _alias_fix(source: PythonSource, imp: Import, node: cst.CSTNode) -> Optional[Fix]:
    """`from datasets import load_dataset as datasets_load_dataset`, and the calls inside the
    shadowing function's own body (which, as written, call that function again) changed to the
    library's name. Calls anywhere else keep reaching the local function, as they do now. Unsafe: that
    the inner calls mean the library is what the code suggests, not what it says."""
    if not isinstance(node, cst.FunctionDef) or imp.name is None or not isinstance(imp.node, cst.ImportAlias) \
            or imp.node.asname is not None:
        return None
    name = imp.alias
    new = f"{imp.top_module}_{name}".lstrip("_")
    if not new.isidentifier() or re.search(rf"\b{re.escape(new)}\b", source.text):
        return None
    inner = [c for c in source.index.calls if c.name == name and _inside(c.scope, node)]
    if not inner:
        return None
    renamed = replace_node(source, imp.node, imp.node.with_changes(asname=cst.AsName(name=cst.Name(new))))
    edits = [replace_node(source, c.node.func, cst.Name(new), c.stmt) for c in inner]
    if renamed is None or any(e is None for e in edits):
        return None
    return Fix(f"Import the library's `{name}` as `{new}` and call that inside `def {name}`", UNSAFE,
               (renamed, *[e for e in edits if e is not None]))


def _inside(scope: Optional[Function], node: cst.FunctionDef) -> bool:
    while scope is not None:
        if scope.node is node:
            return True
        scope = scope.parent
    return False


@rule(
    code="PY004", name="missing-project-attribute", severity=ERROR,
    consequence=CRASH,
    criterion="The code is immediately executable: names imported from the project's own modules exist.",
    rationale="`from src.model import RMSNorm` fails with ImportError when src/model.py defines no RMSNorm.",
    invalid=[Example(files={"src/model.py": """
        class Net:
            pass
        """, "src/train.py": "from src.model import RMSNorm\n"}),
             Example(files={"src/model.py": """
                 class Net:
                     pass
                 """,
                            "src/train.py": """
                                from src import model

                                net = model.Network()
                                """})],
    valid=[Example(files={"src/model.py": """
        class Net:
            pass
        """,
                          "src/train.py": """
                              from src.model import Net
                              from src import model

                              net = model.Net()
                              """})],
)
def missing_attribute(bundle: Bundle) -> Iterator[Hit]:
    for source in bundle.python_files():
        index = source.index
        module_aliases = {}
        for imp in index.imports:
            module = project_module(imp)
            if module is None:
                continue
            if imp.name is None:
                continue
            if module == "src" or imp.level and not imp.module:
                target = f"src/{imp.name}.py"
                if target in bundle.files:
                    module_aliases[imp.alias] = target
                continue
            path = module.replace(".", "/") + ".py"
            names = _defined_names(bundle, path)
            if names is None or imp.name == "*" or imp.name in names:
                continue
            yield Hit(source.path, f"`{imp.name}` is not defined in {path}; define it there or import "
                                   f"an existing name ({_some(names)})", imp.node)
        for imp in index.imports:  # `import src.model` binds `src`; the chain is `src.model.X`
            if imp.name is None and imp.module.startswith("src."):
                module_aliases[imp.module if imp.alias == "src" else imp.alias] = imp.module.replace(".", "/") + ".py"
        for attr in index.attributes:
            parts = attr.name.split(".")
            # the longest prefix of the chain that names a project module; the next part is looked up
            cut = next((i for i in range(len(parts) - 1, 0, -1) if ".".join(parts[:i]) in module_aliases), None)
            if cut is None or attr.store:
                continue
            path, rest = module_aliases[".".join(parts[:cut])], parts[cut]
            names = _defined_names(bundle, path)
            if names is None or rest in names:
                continue
            yield Hit(source.path, f"`{'.'.join(parts[:cut + 1])}`: {path} defines no `{rest}`; define it there "
                                   f"or use an existing name ({_some(names)})", attr.node)


def _defined_names(bundle: Bundle, path: str):
    source = bundle.python(path)
    if source is None or source.module is None:
        return None
    index = source.index
    if any(imp.alias == "*" for imp in index.imports if imp.scope is None) or "__getattr__" in index.toplevel:
        return None
    names = set(index.toplevel) | set(index.module_assigns)
    names |= {imp.alias.split(".")[0] for imp in index.imports if imp.scope is None}
    return names


def _some(names) -> str:
    shown = sorted(n for n in names if not n.startswith("_"))[:6]
    return "defined: " + ", ".join(shown) if shown else "it defines nothing public"


# Keys a tokenizer, a collator or a model produces without the bundle spelling them out.
_LIBRARY_KEYS = {
    "input_ids", "attention_mask", "token_type_ids", "labels", "label", "pixel_values",
    "position_ids", "decoder_input_ids", "decoder_attention_mask", "special_tokens_mask",
    "offset_mapping", "overflow_to_sample_mapping", "length", "idx", "logits", "loss",
    "hidden_states", "past_key_values", "image", "img", "text",
}


@rule(
    code="PY005", name="key-never-produced", severity=WARNING,
    consequence=CRASH,
    criterion="The code is immediately executable: every key read from a batch is produced somewhere.",
    rationale="A batch key that no collate function, dataset or config produces raises KeyError at "
              "the first evaluation step (seed 004: `prompt_mask`).",
    invalid=[Example(files={
        "src/preprocess.py": """
            def collate(items):
                return {'prompt_ids': items}
            """,
        "src/train.py": """
            def step(batch):
                return batch['prompt_ids'], batch['prompt_mask']
            """})],
    valid=[Example(files={
        "src/preprocess.py": """
            def collate(items):
                return {'prompt_ids': items, 'prompt_mask': items}
            """,
        "src/train.py": """
            def step(batch):
                return batch['prompt_ids'], batch['prompt_mask']
            """})],
)
def key_never_produced(bundle: Bundle) -> Iterator[Hit]:
    produced = _produced_keys(bundle)
    for source in bundle.python_files():
        seen = set()
        for sub in source.index.subscripts:
            if sub.store or "batch" not in sub.base.lower() or sub.key in produced or sub.key in _LIBRARY_KEYS:
                continue
            if (sub.base, sub.key) in seen:
                continue
            seen.add((sub.base, sub.key))
            yield Hit(source.path, f"`{sub.base}[{sub.key!r}]` reads a key that no file of the bundle produces "
                                   f"(no collate function, dict or config writes {sub.key!r}); it raises KeyError. "
                                   "Produce the key where the batch is built or read an existing one", sub.node)


def _produced_keys(bundle: Bundle) -> set[str]:
    keys: set[str] = set()
    for source in bundle.python_files():
        index = source.index
        # (a recorded subscript's slice is always an Index: the isinstance only tells mypy so)
        read = {id(s.node.slice[0].slice.value) for s in index.subscripts
                if not s.store and isinstance(s.node.slice[0].slice, cst.Index)}
        for s in index.strings:
            node_id = id(s.node)
            if s.value in keys or node_id in read or node_id in index.compared \
                    or is_docstring(index, s.node, s.stmt):
                continue
            keys.add(s.value)
        for call in index.calls:
            if call.name in ("dict",) or call.name.endswith((".update", ".setdefault")):
                keys.update(a.keyword.value for a in call.node.args if a.keyword is not None)
        for sub in index.subscripts:
            if sub.store:
                keys.add(sub.key)
    for doc in bundle.yaml_files():
        for entry in doc.entries():
            if isinstance(entry.path[-1], str):
                keys.add(entry.path[-1])
            value = getattr(entry.node, "value", None)
            if isinstance(value, str):
                keys.add(value)
    return keys

