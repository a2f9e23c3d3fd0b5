"""CFG: the YAML configs spell numbers so that PyYAML (YAML 1.1) reads them as numbers: `1e-3` is the
string '1e-3', unless every read of the value casts it with float() or a numpy float (CFG003)."""
from __future__ import annotations

import re
from typing import Iterator, Optional

import libcst as cst
import yaml

from expreview.bundle import Bundle
from expreview.facts.bundle_defs import calls_by_node
from expreview.facts.cache import bundle_fact
from expreview.facts.literals import literal
from expreview.edits import SAFE, Edit, Fix
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, dotted_name, iter_subtree, string_value
from expreview.sources.pyfile import PythonSource


_NUMBER_LIKE = re.compile(r"[-+]?(?:\d[\d_]*\.?\d*|\.\d+)[eE][-+]?\d+")
_PYYAML_LOADS = ("yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load", "yaml.safe_load_all",
                 "yaml.load_all")


def _float_spelling(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[:1] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}"


# Casts that turn the string '1e-3' into the number: float() and numpy's float scalars (int('1e-3') raises)
_FLOAT_CASTS = ("float", "numpy.float16", "numpy.float32", "numpy.float64", "numpy.double",
                "numpy.longdouble")
_ARRAYS = ("numpy.array", "numpy.asarray")  # with a float dtype they convert strings too
_FLOAT_DTYPES = ("float", "float16", "float32", "float64", "double")
_ANY_DEPTH = -1  # an array cast converts the value and its items at every depth
_SHOWN = -2  # printed as text (`print(x)`, `f"{x}"`): harmless as a string, and no number either
_SHOWING = ("print", "str", "repr")
_READ_METHODS = ("get", "pop")


@bundle_fact
def _converted_keys(bundle: Bundle) -> set[str]:
    """Keys whose names stand inside a float() argument, for keys the code reads in no way
    `_key_reads` sees (`float(getattr(cfg, "lr"))`)."""
    keys = set()
    for source in bundle.python_files():
        for call in source.index.calls:
            if call.qualname in _FLOAT_CASTS and call.node.args:
                for node in iter_subtree(call.node.args[0].value):
                    value = string_value(node) if isinstance(node, cst.SimpleString) else None
                    if value is not None:
                        keys.add(value)
    return keys


def _strip_indexing(node: cst.CSTNode) -> tuple[cst.CSTNode, int]:
    """`x[0][i]` -> (x, 2): the value whose items are taken, and how many levels down."""
    depth = 0
    while (isinstance(node, cst.Subscript) and len(node.slice) == 1
           and isinstance(node.slice[0].slice, cst.Index)
           and string_value(node.slice[0].slice.value) is None):
        node, depth = node.value, depth + 1
    return node, depth


def _mark(node: cst.CSTNode, depth: int, out: dict[int, set[int]]) -> None:
    """Record that the items `depth` levels below the value read at `node` reach a float cast
    (through indexing, `x or default` and `a if c else b`)."""
    node, down = _strip_indexing(node)
    if isinstance(node, (cst.Subscript, cst.Call)):
        out.setdefault(id(node), set()).add(depth if depth < 0 else depth + down)
    elif isinstance(node, cst.BooleanOperation):
        _mark(node.left, depth, out)
        _mark(node.right, depth, out)
    elif isinstance(node, cst.IfExp):
        _mark(node.body, depth, out)
        _mark(node.orelse, depth, out)


def _is_float_cast(node: cst.CSTNode, aliases: dict[str, str]) -> bool:
    """`float`, `np.float32`: a name or attribute naming a float cast."""
    name = dotted_name(node)
    head, _, rest = name.partition(".")
    qualified = aliases.get(head, head) + ("." + rest if rest else "")
    return bool(name) and qualified in _FLOAT_CASTS


def _float_dtype(node: Optional[cst.CSTNode]) -> bool:
    if node is None:
        return False
    text = string_value(node) if isinstance(node, cst.SimpleString) else dotted_name(node).rsplit(".", 1)[-1]
    return text in _FLOAT_DTYPES


def _casts_in(source: PythonSource, stmt: cst.CSTNode, calls: dict[int, Call]) -> dict[int, set[int]]:
    """id(read node) -> the depths below it whose items the statement passes through a float cast:
    `float(x)` (0), `float(x[0])` / `map(float, x)` / `[float(v) for v in x]` (1),
    `np.asarray(x, dtype=float)` (any); `print(x)` and `f"{x}"` show it as text (_SHOWN)."""
    out: dict[int, set[int]] = {}
    for node in iter_subtree(stmt):
        if isinstance(node, cst.Call):
            call = calls.get(id(node))
            if call is None or not node.args:
                continue
            aliases = source.index.aliases(call.scope)
            first = call.positional(0)
            if call.qualname in _FLOAT_CASTS and first is not None:
                _mark(first, 0, out)
            elif call.name == "map" and len(node.args) == 2 and _is_float_cast(node.args[0].value, aliases):
                _mark(node.args[1].value, 1, out)
            elif call.qualname in _ARRAYS and first is not None and _float_dtype(call.keyword("dtype")):
                _mark(first, _ANY_DEPTH, out)
            elif call.qualname in _SHOWING:
                for arg in node.args:
                    if arg.keyword is None and not arg.star:
                        _mark(arg.value, _SHOWN, out)
        elif isinstance(node, cst.FormattedStringExpression) and node.format_spec is None:
            _mark(node.expression, _SHOWN, out)
        elif isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            comp = node.for_in
            elt = node.elt
            if comp.inner_for_in is not None or not isinstance(comp.target, cst.Name):
                continue
            if not isinstance(elt, cst.Call) or not elt.args or elt.args[0].keyword is not None:
                continue
            call = calls.get(id(elt))
            if call is None or call.qualname not in _FLOAT_CASTS:
                continue
            item, down = _strip_indexing(elt.args[0].value)
            if isinstance(item, cst.Name) and item.value == comp.target.value:
                _mark(comp.iter, down + 1, out)
    return out


def _key_reads(bundle: Bundle, keys: set[str]) -> dict[str, list[set[int]]]:
    """Per key of `keys`, each place the code reads it (`x["k"]`, `x.get("k")`, `x.pop("k")`) with
    the depths below the value it reads whose items pass through a float cast there (empty: the
    read uses the value as it is)."""
    reads: dict[str, list[set[int]]] = {}
    for source in bundle.python_files():
        index = source.index
        found: list[tuple[str, cst.CSTNode, int]] = [
            (s.key, s.node, s.stmt) for s in index.subscripts if not s.store and s.key in keys]
        for call in index.calls:
            if call.method in _READ_METHODS and isinstance(call.node.func, cst.Attribute):
                key = literal(call.positional(0))
                if isinstance(key, str) and key in keys:
                    found.append((key, call.node, call.stmt))
        if not found:
            continue
        calls = calls_by_node(source)
        casts: dict[int, dict[int, set[int]]] = {}
        for key, node, stmt in found:
            if stmt not in casts:
                casts[stmt] = (_casts_in(source, index.statements[stmt], calls)
                               if 0 <= stmt < len(index.statements) else {})
            reads.setdefault(key, []).append(casts[stmt].get(id(node), set()))
    return reads


def _holding_key(path: tuple) -> tuple[Optional[str], int]:
    """The key that holds the value at `path`, and how many list levels below it the value is."""
    depth = 0
    while depth < len(path) and not isinstance(path[-1 - depth], str):
        depth += 1
    return (path[-1 - depth], depth) if depth < len(path) else (None, depth)


def _cast_on_every_read(bundle: Bundle, path: tuple, reads: dict[str, list[set[int]]]) -> bool:
    """The value at `path` (a key's, or an item of the list a key holds) passes through a float
    cast wherever the code reads that key, except where it only prints it."""
    key, depth = _holding_key(path)
    if key is None:
        return False
    if not reads.get(key):
        return depth == 0 and key in _converted_keys(bundle)
    cast = [depth in depths or _ANY_DEPTH in depths for depths in reads[key]]
    return any(cast) and all(c or _SHOWN in depths for c, depths in zip(cast, reads[key]))


def read_with_pyyaml(bundle: Bundle) -> bool:
    return any(source.index.calls_to(*_PYYAML_LOADS) for source in bundle.python_files())


@rule(
    code="CFG003", name="yaml11-number-as-string", severity=ERROR,
    consequence=CRASH, fixable=True,
    criterion="Configuration files contain real experimental parameters: numbers are written so "
              "that PyYAML reads them as numbers.",
    rationale="PyYAML follows YAML 1.1, where `1e-3` is the string '1e-3'; `Adam(lr='1e-3')` then "
              "fails (or a comparison silently misbehaves). Write `1.0e-3`. Silent when every read of the "
              "key (or of the list holding the value) casts it with float() or a numpy float; "
              "int('1e5') raises.",
    invalid=[Example(files={"src/main.py": """
        import yaml
        cfg = yaml.safe_load(open('c.yaml'))
        """,
                            "config/smoke_test.yaml": """
                                runs:
                                  - run_id: a
                                    learning_rate: 1e-3
                                """}),
             Example(files={  # cast for the log line, passed raw to the optimizer
        "config/smoke_test.yaml": """
            runs:
              - run_id: a
                lr: 1e-3
            """,
        "src/train.py": """
            import yaml
            import torch
            cfg = yaml.safe_load(open('c.yaml'))['runs'][0]
            print(f"lr={float(cfg['lr']):.0e}")
            opt = torch.optim.Adam([], lr=cfg['lr'])
            """}, line=3, message="`runs.lr: 1e-3` is read by PyYAML"),
             Example(files={  # int('1e5') raises ValueError
        "config/smoke_test.yaml": """
            runs:
              - run_id: a
                max_steps: 1e5
            """,
        "src/train.py": """
            import yaml
            cfg = yaml.safe_load(open('c.yaml'))['runs'][0]
            steps = int(cfg['max_steps'])
            """}, line=3),
             Example(files={  # a format spec needs a number: f"{'1e-3':.0e}" raises
        "config/smoke_test.yaml": """
            runs:
              - run_id: a
                lr: 1e-3
            """,
        "src/train.py": """
            import yaml
            cfg = yaml.safe_load(open('c.yaml'))['runs'][0]
            lr = float(cfg['lr'])
            print(f"lr={cfg['lr']:.0e}")
            """}, line=3),
             Example(files={  # the list holding the values is used as it is
        "config/smoke_test.yaml": """
            runs:
              - run_id: a
                bounds: [1e-4, 5e-2]
            """,
        "src/model.py": """
            import yaml
            import torch
            spec = yaml.safe_load(open('c.yaml'))['runs'][0]
            low = float(spec['bounds'][0])
            box = torch.tensor(spec['bounds'])
            """}, line=3)],
    valid=[Example(files={"src/main.py": """
        import yaml
        cfg = yaml.safe_load(open('c.yaml'))
        """,
                          "config/smoke_test.yaml": """
                              runs:
                                - run_id: a
                                  learning_rate: 1.0e-3
                              """}),
           Example(files={  # every read converts it: float(), or numpy's float scalar
        "config/smoke_test.yaml": """
            runs:
              - run_id: a
                lr: 1e-3
            """,
        "src/train.py": """
            import yaml
            import numpy as np
            import torch
            cfg = yaml.safe_load(open('c.yaml'))['runs'][0]
            print(f"lr={float(cfg['lr']):.0e}", cfg['lr'])
            print(f"lr={cfg['lr']}")
            opt = torch.optim.Adam([], lr=float(cfg.get('lr', 1e-3)))
            scale = torch.tensor(np.float32(cfg['lr']))
            """}),
           Example(files={  # the items of the list are cast wherever it is read
        "config/smoke_test.yaml": """
            runs:
              - run_id: a
                bounds: [1e-4, 5e-2]
                decay: [1e-5, 1e-4]
            """,
        "src/model.py": """
            import yaml
            import numpy as np
            spec = yaml.safe_load(open('c.yaml'))['runs'][0]
            low, high = float(spec['bounds'][0]), float(spec['bounds'][1])
            grid = [float(b) for b in spec['bounds']]
            decays = list(map(float, spec['decay'])) + list(np.asarray(spec['decay'], dtype=np.float64))
            """})],
)
def yaml11_number_as_string(bundle: Bundle) -> Iterator[Hit]:
    if bundle.option("config_loader") == "omegaconf" or not read_with_pyyaml(bundle):
        return  # OmegaConf reads 1e-3 as a float
    found = []
    for doc in bundle.yaml_files():
        for entry in doc.scalars():
            node = entry.node
            assert isinstance(node, yaml.ScalarNode)  # scalars() yields only entries whose node is a scalar
            if node.style or node.tag != "tag:yaml.org,2002:str":  # plain style is None or 
                continue
            if _NUMBER_LIKE.fullmatch(node.value):
                found.append((doc, entry, node))
    if not found:
        return
    reads = _key_reads(bundle, {k for _, e, _ in found if (k := _holding_key(e.path)[0]) is not None})
    for doc, entry, node in found:
        if not _cast_on_every_read(bundle, entry.path, reads):
            key = ".".join(str(k) for k in entry.path if isinstance(k, str)) or "the value"
            spelled = _float_spelling(node.value)
            start, end = node.start_mark, node.end_mark
            fix = Fix(f"Write `{spelled}`", SAFE,
                      (Edit(doc.path, start.line + 1, start.column + 1, end.line + 1, end.column + 1, spelled),))
            yield Hit(doc.path, f"`{key}: {node.value}` is read by PyYAML (YAML 1.1) as the string "
                                f"'{node.value}', not a number; write `{spelled}`",
                      node, fix=fix)
