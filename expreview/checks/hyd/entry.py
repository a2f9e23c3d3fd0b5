"""HYD001: src/main.py has `@hydra.main` whose config_path and config_name resolve to
config/config.yaml from src/ (also when the path is a constant or built from `__file__`)."""
from __future__ import annotations

import posixpath
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.hyd.common import CONFIG_EXAMPLE, MAIN, MAIN_EXAMPLE
from expreview.facts.hydra_config import CONFIG, hydra_main
from expreview.facts.literals import literal
from expreview.facts.values import resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, dotted_name, keyword_argument
from expreview.sources.pyfile import PythonSource


@rule(
    code="HYD001", name="hydra-entry-point", severity=ERROR,
    consequence=CRASH,
    criterion="Uses Hydra to manage all experiment configurations: src/main.py has `@hydra.main` "
              "whose config_path/config_name resolve to config/config.yaml from src/.",
    rationale="`python -m src.main run=… results_dir=… mode=…` only works through Hydra; a wrong "
              "config_path fails with MissingConfigException before anything runs.",
    invalid=[Example(files={MAIN: MAIN_EXAMPLE.replace('"../config"', '"config"'), CONFIG: CONFIG_EXAMPLE}, line=5),
             Example(files={MAIN: """
                 import argparse
                 p = argparse.ArgumentParser()
                 """, CONFIG: CONFIG_EXAMPLE}, line=1),
             # a constant or a __file__ path that points at src/config, not config/
             Example(files={MAIN: MAIN_EXAMPLE.replace('config_path="../config"', 'config_path=CONFIG_DIR')
                            .replace("\n\n\n@hydra", "\nCONFIG_DIR = \"config\"\n\n\n@hydra"), CONFIG: CONFIG_EXAMPLE},
                     line=6, message="resolves to src/config/config.yaml"),
             Example(files={MAIN: MAIN_EXAMPLE.replace("import hydra\n", "import os\n\nimport hydra\n").replace(
                 'config_path="../config"', 'config_path=os.path.join(os.path.dirname(__file__), "config")'),
                 CONFIG: CONFIG_EXAMPLE}, line=7, message="resolves to src/config/config.yaml")],
    valid=[Example(files={MAIN: MAIN_EXAMPLE, CONFIG: CONFIG_EXAMPLE}),
           # a module constant, or a path built from __file__, that points at config/ from src/
           Example(files={MAIN: MAIN_EXAMPLE.replace('config_path="../config"', 'config_path=CONFIG_DIR')
                          .replace("\n\n\n@hydra", "\nCONFIG_DIR = \"../config\"\n\n\n@hydra"), CONFIG: CONFIG_EXAMPLE}),
           Example(files={MAIN: MAIN_EXAMPLE.replace("import hydra\n", "import os\n\nimport hydra\n").replace(
               'config_path="../config"', 'config_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config")'),
               CONFIG: CONFIG_EXAMPLE}),
           Example(files={MAIN: MAIN_EXAMPLE.replace("import hydra\n", "from pathlib import Path\n\nimport hydra\n").replace(
               'config_path="../config"', 'config_path=str(Path(__file__).resolve().parent.parent / "config")'),
               CONFIG: CONFIG_EXAMPLE})],
)
def hydra_entry_point(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(MAIN)
    if source is None:
        return
    found = hydra_main(source)
    if found is None:
        yield Hit(MAIN, "src/main.py has no `@hydra.main`; decorate main with "
                        "`@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)`")
        return
    fn, deco = found
    path_arg = keyword_argument(deco.decorator, "config_path")
    if path_arg is None and isinstance(deco.decorator, cst.Call) and deco.decorator.args \
            and deco.decorator.args[0].keyword is None:
        path_arg = deco.decorator.args[0].value
    name_arg = keyword_argument(deco.decorator, "config_name")
    config_dir = _repo_path(source, path_arg, None, from_file=True) if path_arg is not None else None
    config_name = literal(resolve(source.index, name_arg, None)) if name_arg is not None else None
    if path_arg is None or dotted_name(path_arg) == "None" or not isinstance(config_name, str):
        yield Hit(MAIN, "`@hydra.main` does not name config_path and config_name; pass "
                        "config_path=\"../config\", config_name=\"config\"", deco)
        return
    if config_dir is None:
        return  # a config_path computed in a way this check does not follow: not judged
    resolved = posixpath.normpath(posixpath.join(config_dir, config_name if config_name.endswith(".yaml")
                                                 else config_name + ".yaml"))
    if resolved != CONFIG:
        written = literal(path_arg)
        config_path = repr(written) if isinstance(written, str) else source.code(path_arg)
        yield Hit(MAIN, f"`@hydra.main(config_path={config_path}, config_name={config_name!r})` resolves to "
                        f"{resolved} from src/, not {CONFIG}; use config_path=\"../config\", config_name=\"config\"",
                  deco)


_ROOT = "/@repository"  # where a path built from __file__ starts: the file's own path under it
_PASS_THROUGH = ("os.path.abspath", "os.path.realpath", "os.path.normpath", "str", "os.fspath", "Path",
                 "pathlib.Path")


def _repo_path(source: PythonSource, node: cst.CSTNode, scope: Optional[Function],
               from_file: bool = False) -> Optional[str]:
    """The repository-relative path an expression spells, when it is built from string constants
    and `__file__` (`os.path.join(os.path.dirname(__file__), "..", "config")`,
    `str(Path(__file__).parent.parent / "config")`, a module constant holding either); None when it
    is computed otherwise. A relative path is relative to the file's directory when `from_file`
    (how Hydra reads config_path), else to the repository."""
    found = _anchored_path(source, node, scope, 0)
    if found is None:
        return None
    if found.startswith("/"):  # built from __file__, from the repository root _ROOT
        return posixpath.relpath(found, _ROOT)
    return posixpath.normpath(posixpath.join(posixpath.dirname(source.path), found)) if from_file else found


def _anchored_path(source: PythonSource, node: cst.CSTNode, scope: Optional[Function], depth: int) -> Optional[str]:
    if depth > 12:
        return None

    def sub(expr: cst.CSTNode) -> Optional[str]:
        return _anchored_path(source, expr, scope, depth + 1)

    node = resolve(source.index, node, scope)
    text = literal(node)
    if isinstance(text, str) and not isinstance(node, cst.FormattedString):
        return None if text.startswith("/") else text  # a machine's absolute path: not judged
    if isinstance(node, cst.Name) and node.value == "__file__":
        return f"{_ROOT}/{source.path}"
    if dotted_name(node) in ("os.pardir", "os.curdir"):
        return ".." if dotted_name(node) == "os.pardir" else "."
    if isinstance(node, cst.Call):
        name = dotted_name(node.func)
        args = [a.value for a in node.args if a.keyword is None and not a.star]
        if name in ("os.path.dirname", "dirname") and len(args) == 1:
            inner = sub(args[0])
            return posixpath.dirname(inner) if inner is not None else None
        if name in ("os.path.join", "join") and args:
            parts = [sub(a) for a in args]
            known = [p for p in parts if p is not None]
            return posixpath.normpath(posixpath.join(*known)) if len(known) == len(parts) else None
        if name in _PASS_THROUGH and len(args) == 1:
            return sub(args[0])
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("resolve", "absolute") and not args:
            return sub(node.func.value)
        return None
    if isinstance(node, cst.Attribute) and node.attr.value == "parent":
        inner = sub(node.value)
        return posixpath.dirname(inner) if inner is not None else None
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute) \
            and node.value.attr.value == "parents" and len(node.slice) == 1 \
            and isinstance(node.slice[0].slice, cst.Index):
        level = literal(node.slice[0].slice.value)
        inner = sub(node.value.value)
        if not isinstance(level, int) or isinstance(level, bool) or inner is None:
            return None
        for _ in range(level + 1):
            inner = posixpath.dirname(inner)
        return inner
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
        left, right = sub(node.left), sub(node.right)
        return posixpath.normpath(posixpath.join(left, right)) if left is not None and right is not None else None
    return None
