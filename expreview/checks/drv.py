"""DRV: a derived experiment keeps what its base had (needs the base bundle)."""
from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from typing import Iterator, Optional, Union

import re

from expreview.facts.placeholders import PLACEHOLDER
from expreview.bundle import Bundle
from expreview.sources.pyfile import PythonSource
from expreview.findings import ADVICE, CRITERION, ERROR, WARNING
from expreview.rule import Example, Hit, rule

_BASE_TRAIN = (
    "import torch\n\n\ndef set_seed(seed):\n    torch.manual_seed(seed)\n\n\n"
    "def train_epoch(model, data):\n    for x, y in data:\n        model(x)\n    return 0.0\n"
)


def _pairs(bundle: Bundle, suffix: str = ""):
    """(path, base text, derived text) for files present in both bundles."""
    if bundle.base is None:
        return
    for path in bundle.base.paths(suffix):
        if path in bundle.files and path not in bundle.unreadable and path not in bundle.base.unreadable:
            yield path, bundle.base.files[path], bundle.files[path]


Definition = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# A base definition that says of itself that it is scaffolding for the derived stage to replace.
_SCAFFOLDING = re.compile(r"(?i)placeholder|stand-?in\b|\bdummy\b|will be replaced|to be replaced")
# Token similarity of two normalised bodies at which a new derived definition is taken to be a
# base definition rewritten under another name; lower when it also took the base one's place
# (its caller now calls it instead).
_REWRITTEN, _REWRITTEN_IN_PLACE = 0.75, 0.5
_SIMILAR_MIN_TOKENS = 30  # a shorter definition counts as rewritten only with the same body
_BUILTINS = {"len", "range", "print", "str", "int", "float", "bool", "dict", "list", "tuple", "set",
             "enumerate", "zip", "isinstance", "super", "min", "max", "sum", "sorted", "open", "getattr",
             "hasattr", "setattr", "round", "abs", "any", "all", "map", "filter", "type", "repr"}


@dataclass
class _Use:
    """A reference to a name in the base: where, in which top-level definition (None: module
    level), and whether it stands where a placeholder does."""
    path: str
    top: Optional[str]
    placeholder: bool


def _top_definitions(source: PythonSource) -> dict[str, Definition]:
    tree = source.tree
    return {n.name: n for n in tree.body if isinstance(n, _DEFINITIONS)} if tree is not None else {}


def _normalised(node: Definition) -> list[str]:
    """The tokens of a definition without its name, docstrings and annotations. (The parsed tree
    is shared: the fields are blanked for the unparse and put back, which costs far less than a
    copy of the tree.)"""
    saved: list[tuple[ast.AST, str, object]] = []

    def blank(owner: ast.AST, attr: str, value: object) -> None:
        saved.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, value)

    try:
        for sub in ast.walk(node):
            if isinstance(sub, _DEFINITIONS):
                body = sub.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                        and isinstance(body[0].value.value, str):
                    blank(sub, "body", body[1:] or [ast.Pass()])
            if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                blank(sub, "returns", None)
            elif isinstance(sub, ast.arg):
                blank(sub, "annotation", None)
        blank(node, "name", "_")
        return re.findall(r"\w+|[^\w\s]", ast.unparse(node))
    finally:
        for owner, attr, value in reversed(saved):
            setattr(owner, attr, value)


def _calls(node: ast.AST) -> set[str]:
    """Dotted names of the calls made under `node` (`parser.add_argument`), builtins left out."""
    out = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            try:
                name = ast.unparse(sub.func)
            except (ValueError, RecursionError):  # pragma: no cover - unparse of a parsed tree
                continue
            if re.fullmatch(r"[\w.]+", name) and name not in _BUILTINS:
                out.add(name)
    return out


def _uses(bundle: Bundle) -> dict[str, list[_Use]]:
    """Every reference to a name in the base's Python files (loads, attributes, imported names,
    strings equal to it), with the top-level definition it stands in."""
    uses: dict[str, list[_Use]] = {}
    assert bundle.base is not None
    for source in bundle.base.python_files():
        tree = source.tree
        if tree is None:
            continue
        lines = source.text.splitlines()

        def marked(line: int) -> bool:
            """A placeholder on the line, or in the comment lines right above its statement."""
            if 0 < line <= len(lines) and PLACEHOLDER.search(lines[line - 1].upper()):
                return True
            above = line - 2
            while 0 <= above < len(lines) and lines[above].strip().startswith("#"):
                if PLACEHOLDER.search(lines[above].upper()):
                    return True
                above -= 1
            return False

        def visit(node: ast.AST, top: Optional[str], branch: bool, stmt: int) -> None:
            if isinstance(node, ast.stmt):
                stmt = node.lineno
            names: list[str] = []
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names.append(node.id)
            elif isinstance(node, ast.Attribute):
                names.append(node.attr)
            elif isinstance(node, ast.ImportFrom):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
                names.append(node.value)
            for name in names:
                uses.setdefault(name, []).append(_Use(source.path, top, branch or marked(stmt)))
            if isinstance(node, (ast.If, ast.IfExp)):
                visit(node.test, top, branch, stmt)
                inside = branch or "placeholder" in ast.unparse(node.test).lower()
                body: list[ast.AST] = list(node.body) if isinstance(node.body, list) else [node.body]
                orelse: list[ast.AST] = list(node.orelse) if isinstance(node.orelse, list) else [node.orelse]
                for part in body:
                    visit(part, top, inside, stmt)
                for part in orelse:
                    visit(part, top, branch, stmt)
                return
            for child in ast.iter_child_nodes(node):
                visit(child, top, branch, stmt)

        for statement in tree.body:
            visit(statement, statement.name if isinstance(statement, _DEFINITIONS) else None, False, statement.lineno)
    return uses


def _declares_scaffolding(source: PythonSource, node: Definition) -> bool:
    """The definition's docstring, or the comment lines right above it, call it a placeholder,
    a stand-in or a dummy to be replaced."""
    if _SCAFFOLDING.search(ast.get_docstring(node) or ""):
        return True
    lines = source.text.splitlines()
    above = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 2
    while 0 <= above < len(lines) and lines[above].strip().startswith("#"):
        if _SCAFFOLDING.search(lines[above]):
            return True
        above -= 1
    return False


def _trivial_subclass(node: Definition, of: set[str]) -> bool:
    """`class BaselineModel(_BaseLM): pass`: a class with an empty body whose bases are in `of`."""
    if not isinstance(node, ast.ClassDef) or not node.bases:
        return False
    empty = all(isinstance(s, ast.Pass) or isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                for s in node.body)
    return empty and all(isinstance(b, ast.Name) and b.id in of for b in node.bases)


@rule(
    code="DRV001", name="base-definition-missing", severity=ERROR,
    consequence=CRITERION,
    criterion="All functionality from base_code is preserved or properly enhanced: no function or "
              "class of the base is missing from the derived file.",
    rationale="A base function that disappears is usually an omission by the generator; whatever "
              "called it now fails, or the behaviour it implemented is gone. A definition renamed "
              "or rewritten under another name, never used by the base, or serving only a "
              "placeholder is not an omission.",
    invalid=[Example(base={"src/train.py": _BASE_TRAIN + "\n\nset_seed(0)\n"},
                     files={"src/train.py": """
                         import torch


                         def train_epoch(model, data):
                             return 0.0
                         """}, line=1),
             # renamed, but with other behaviour; the base's loss curves are gone
             Example(base={"src/train.py": _BASE_TRAIN + "\n\ntrain_epoch(None, [])\nset_seed(0)\n"},
                     files={"src/train.py": """
                         import random


                         def seed_everything(seed):
                             random.seed(seed)


                         def train_epoch(model, data):
                             for x, y in data:
                                 model(x)
                             return 0.0


                         train_epoch(None, [])
                         seed_everything(0)
                         """}, line=1, message="`set_seed`"),
             # a dummy model the base really uses (no placeholder where it is used)
             Example(base={"src/model.py": """
                 import torch.nn as nn


                 class TinyNet(nn.Module):
                     def forward(self, x):
                         return x


                 def build_model(cfg):
                     # the network for every run
                     return TinyNet()
                 """},
                     files={"src/model.py": """
                         def build_model(cfg):
                             return cfg.model
                         """}, line=1, message="`TinyNet`"),
             # a stand-in that a derived config still asks for by name (its runs now fail)
             Example(base={"src/model.py": """
                 class BaselineModel:
                     \"\"\"A stand-in model, to be replaced.\"\"\"


                 def build_model(cfg):
                     if cfg["name"] == "BaselineModel":
                         return BaselineModel()
                     raise ValueError(cfg["name"])
                 """},
                     files={"src/model.py": """
                         class TransformerBase:
                             pass


                         def build_model(cfg):
                             if cfg["name"] == "TransformerBase":
                                 return TransformerBase()
                             raise ValueError(cfg["name"])
                         """,
                            "config/smoke_test.yaml": """
                                runs:
                                  - run_id: baseline
                                    model:
                                      name: BaselineModel
                                """}, line=1, message="`BaselineModel`")],
    valid=[Example(base={"src/train.py": _BASE_TRAIN},
                   files={"src/train.py": _BASE_TRAIN + "\n\ndef warm_start(model):\n    return model\n"}),
           # the same body under another name, or in another derived file
           Example(base={"src/train.py": _BASE_TRAIN + "\n\ntrain_epoch(None, [])\nset_seed(0)\n"},
                   files={"src/train.py": """
                       import torch

                       from src.preprocess import seed_everything


                       def _train_one_epoch_cls(model, data):
                           for x, y in data:
                               model(x)
                           return 0.0


                       _train_one_epoch_cls(None, [])
                       seed_everything(0)
                       """,
                          "src/preprocess.py": """
                              import torch


                              def seed_everything(seed):
                                  torch.manual_seed(seed)
                              """}),
           # a base definition nothing in the base used
           Example(base={"src/train.py": _BASE_TRAIN + "\n\ntrain_epoch(None, [])\n"},
                   files={"src/train.py": """
                       def train_epoch(model, data):
                           return 0.0


                       train_epoch(None, [])
                       """}),
           # placeholder scaffolding: used only where a placeholder stood, or declared a stand-in
           Example(base={"src/preprocess.py": """
               class DummyDataset:
                   def __len__(self):
                       return 8


               def _tiny_model(cfg):
                   return None


               def get_dataset(cfg):
                   if cfg.name == "DATASET_PLACEHOLDER":
                       return DummyDataset()
                   raise NotImplementedError(cfg.name)


               def get_model(cfg):
                   # MODEL_PLACEHOLDER: replaced by the experiment's model
                   return _tiny_model(cfg)
               """,
                         "src/model.py": """
                             import torch.nn as nn


                             class _BaseLM(nn.Module):
                                 \"\"\"A stand-in architecture so the pipeline runs end to end.\"\"\"

                                 def forward(self, x):
                                     return x


                             class BaselineModel(_BaseLM):
                                 pass


                             def build(cfg):
                                 return BaselineModel()
                             """},
                   files={"src/preprocess.py": """
                       from datasets import load_dataset


                       def get_dataset(cfg):
                           return load_dataset(cfg.name)


                       def get_model(cfg):
                           return cfg.model
                       """,
                          "src/model.py": """
                              from transformers import AutoModel


                              def build(cfg):
                                  return AutoModel.from_pretrained(cfg.name)
                              """})],
)
def base_definition_missing(bundle: Bundle) -> Iterator[Hit]:
    if bundle.base is None:
        return
    defined_anywhere = set()  # top-level or nested, in any derived file
    derived_defs: dict[str, tuple[str, Definition]] = {}
    for source in bundle.python_files():
        defined_anywhere |= set(source.index.toplevel)
        if source.tree is not None:
            defined_anywhere |= {n.name for n in ast.walk(source.tree) if isinstance(n, _DEFINITIONS)}
            derived_defs.update({name: (source.path, node) for name, node in _top_definitions(source).items()})
    base_names = set()
    for source in bundle.base.python_files():
        base_names |= set(_top_definitions(source))
    missing: list[tuple[str, str, Definition, PythonSource]] = []
    for path, base_text, _ in _pairs(bundle, ".py"):
        # The base only needs its top-level names: its CST, not its ast or positions.
        base, derived = bundle.base.python(path), bundle.python(path)
        assert base is not None and derived is not None  # _pairs yields paths both bundles can read
        if base.module is None or derived.module is None:
            continue
        base_defs = _top_definitions(base)
        missing += [(path, name, base_defs[name], base) for name in base.index.toplevel
                    if name not in derived.index.toplevel and name not in defined_anywhere
                    and "placeholder" not in name.lower() and name in base_defs]
    if not missing:
        return
    uses = _uses(bundle)
    kept = _rewritten(bundle, missing, derived_defs, base_names, uses)
    scaffolding = {name for _, name, node, base in missing if _declares_scaffolding(base, node)}
    scaffolding |= {name for _, name, node, _ in missing if _trivial_subclass(node, scaffolding)}
    asked = _asked_by_configs(bundle)
    for path, name, node, base in missing:
        own = [u for u in uses.get(name, []) if u.top != name]
        if name in asked:
            pass  # a derived config still names it and no derived code does: the guards do not apply
        elif not own or name in kept or name in scaffolding:
            continue  # unused by the base, rewritten or inlined, or scaffolding
        elif all(u.placeholder or u.top in scaffolding for u in own):
            continue  # it served only where a placeholder stood
        base_text = bundle.base.files[path]
        found = re.search(rf"^(?:async\s+def|def|class)\s+{re.escape(name)}\b", base_text, re.M)
        where = f" ({path}:{base_text.count(chr(10), 0, found.start()) + 1} in the base)" if found else ""
        yield Hit(path, f"the base's `{name}`{where} is missing here; keep it (or its behaviour) in the "
                        "derived code")


def _asked_by_configs(bundle: Bundle) -> set[str]:
    """Names a derived YAML gives as a value (`model: {name: BaselineModel}`) that no derived
    Python file spells as a string: a run still asks for them, and nothing dispatches on them."""
    named = set()
    for doc in bundle.yaml_files():
        for entry in doc.entries():
            value = getattr(entry.node, "value", None)
            if isinstance(value, str) and value.isidentifier():
                named.add(value)
    spelled = {s.value for source in bundle.python_files() for s in source.index.strings}
    return named - spelled


def _rewritten(bundle: Bundle, missing: list[tuple[str, str, Definition, PythonSource]],
               derived_defs: dict[str, tuple[str, Definition]], base_names: set[str],
               uses: dict[str, list[_Use]]) -> set[str]:
    """Names of the missing base definitions whose behaviour the derived code keeps under another
    name: a new derived definition (a name the base lacks) of the same kind has the same
    normalised body, or a similar one, and each new definition stands for one base definition at
    most."""
    assert bundle.base is not None
    kinds = {isinstance(node, ast.ClassDef) for _, _, node, _ in missing}
    fresh = {name: (node, _normalised(node)) for name, (_, node) in derived_defs.items()
             if name not in base_names and isinstance(node, ast.ClassDef) in kinds}
    derived_calls: dict[tuple[str, Optional[str]], set[str]] = {}
    for source in bundle.python_files():
        tree = source.tree
        if tree is None:
            continue
        derived_calls[(source.path, None)] = set().union(
            *(_calls(s) for s in tree.body if not isinstance(s, _DEFINITIONS)))
        for name, node in _top_definitions(source).items():
            derived_calls[(source.path, name)] = _calls(node)
    scored = []
    for path, name, node, _ in missing:
        mine = _normalised(node)
        callers = {(u.path, u.top) for u in uses.get(name, []) if u.top != name}
        for new_name, (new_node, theirs) in fresh.items():
            if isinstance(new_node, ast.ClassDef) != isinstance(node, ast.ClassDef):
                continue
            if len(mine) < _SIMILAR_MIN_TOKENS:
                if mine == theirs:
                    scored.append((1.0, name, new_name))
                continue
            ratio = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).ratio()
            in_place = any(new_name in _called_names(derived_calls.get(c, set())) for c in callers)
            if ratio >= _REWRITTEN or in_place and ratio >= _REWRITTEN_IN_PLACE:
                scored.append((ratio, name, new_name))
    kept, taken = set(), set()
    for ratio, name, new_name in sorted(scored, reverse=True):
        if name not in kept and new_name not in taken:
            kept.add(name)
            taken.add(new_name)
    # A definition inlined into its caller is still reported (fixtures/derived missing-function):
    # the criterion asks for the base's functions, not only for their behaviour.
    return kept


def _called_names(calls: set[str]) -> set[str]:
    return {c.rsplit(".", 1)[-1] for c in calls}


_CODE_LINE = re.compile(r"^\s*(?!#)\S")


def _code_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if _CODE_LINE.match(line))


@rule(
    code="DRV002", name="derived-file-truncated", severity=ERROR,
    consequence=CRITERION,
    criterion="No code sections have been omitted or significantly shortened relative to base_code "
              "(threshold: profile option `min_length_ratio`).",
    rationale="A derived file much shorter than its base has usually been truncated by the "
              "generator; whatever was cut is silently gone.",
    invalid=[Example(base={"src/evaluate.py": "x = 1\n" * 40}, files={"src/evaluate.py": "x = 1\n" * 10}, line=1)],
    valid=[Example(base={"src/evaluate.py": "x = 1\n" * 40}, files={"src/evaluate.py": "x = 1\n" * 45})],
)
def derived_file_truncated(bundle: Bundle) -> Iterator[Hit]:
    ratio = float(bundle.option("min_length_ratio", 0.6))
    for path, base_text, text in _pairs(bundle, ".py"):
        base_lines, lines = _code_lines(base_text), _code_lines(text)
        if base_lines >= 20 and lines < ratio * base_lines:
            yield Hit(path, f"{path} has {lines} code lines against {base_lines} in the base "
                            f"({lines / base_lines:.0%}, below {ratio:.0%}); restore what was cut")


@rule(
    code="DRV003", name="base-file-unchanged", severity=ERROR,
    consequence=CRITERION,
    criterion="Complete placeholder replacement: no derived file is the unchanged base file with "
              "its placeholders.",
    rationale="When the generator leaves a file unchanged, the pipeline restores the base file, "
              "placeholders included: nothing was replaced in it.",
    invalid=[Example(base={"src/preprocess.py": """
        # DATASET_PLACEHOLDER: real loader goes here
        DATA = []
        """},
                     files={"src/preprocess.py": """
                         # DATASET_PLACEHOLDER: real loader goes here
                         DATA = []
                         """}, line=1)],
    valid=[Example(base={"src/preprocess.py": """
        # DATASET_PLACEHOLDER: real loader goes here
        DATA = []
        """},
                   files={"src/preprocess.py": """
                       from sklearn.datasets import load_digits
                       DATA = load_digits()
                       """})],
)
def base_file_unchanged(bundle: Bundle) -> Iterator[Hit]:
    for path, base_text, text in _pairs(bundle):
        if base_text.strip() != text.strip():
            continue
        match = PLACEHOLDER.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            yield Hit(path, f"{path} is identical to the base file, placeholders included (`{match.group()}` "
                            "here); write the experiment-specific version", line)


_PLOT_CALLS = ("legend", "annotate", "text", "bar_label")
_PLOT_CALL = re.compile(r"\.(legend|annotate|text|bar_label)\s*\(")


@rule(
    code="DRV004", name="plot-annotations-dropped", severity=WARNING,
    consequence=ADVICE,
    criterion="No reduction in code quality or completeness: the figures keep the legends and "
              "annotations the base drew.",
    rationale="Dropping `legend`/`annotate`/`text` calls makes the derived figures less readable "
              "than the base's, which the reviewer counts as quality degradation.",
    invalid=[Example(base={"src/train.py": """
        import matplotlib.pyplot as plt
        plt.plot([1])
        plt.text(0, 1, 'a')
        plt.legend()
        """},
                     files={"src/train.py": """
                         import matplotlib.pyplot as plt
                         plt.plot([1])
                         plt.legend()
                         """}, line=1)],
    valid=[Example(base={"src/train.py": """
        import matplotlib.pyplot as plt
        plt.plot([1])
        plt.text(0, 1, 'a')
        plt.legend()
        """},
                   files={"src/train.py": """
                       import matplotlib.pyplot as plt
                       plt.plot([1])
                       plt.text(0, 1, 'a')
                       plt.legend()
                       """})],
)
def plot_annotations_dropped(bundle: Bundle) -> Iterator[Hit]:
    for path, base_text, text in _pairs(bundle, ".py"):
        before = [m.group(1) for m in _PLOT_CALL.finditer(base_text)]
        after = [m.group(1) for m in _PLOT_CALL.finditer(text)]
        dropped = [f"{name} ({before.count(name)} → {after.count(name)})" for name in _PLOT_CALLS
                   if after.count(name) < before.count(name)]
        if dropped:
            yield Hit(path, f"plotting calls were dropped relative to the base: {', '.join(dropped)}; keep the "
                            "base's legends and annotations")
