"""RUN007: a `python -m src.…` child of a `@hydra.main` without version_base starts in the
directory main started in (cwd=, or the original directory on its PYTHONPATH), unless config.yaml
keeps Hydra from changing the working directory."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.run.common import MAIN, SUBPROCESS_CALLS
from expreview.facts.hydra_config import hydra_main, keeps_working_directory
from expreview.facts.launches import launches
from expreview.facts.values import resolve
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import (Call, Function, Index, dotted_name, iter_subtree, keyword_argument,
                                     string_value)

_ORIGINAL_DIR_CALLS = ("get_original_cwd", "to_absolute_path")


def _names_original_dir(index: Index, expr: cst.CSTNode, scope: Optional[Function], depth: int = 0) -> bool:
    """`expr` holds the directory main started in (the repository root): `get_original_cwd()`,
    `to_absolute_path(".")`, `${hydra:runtime.cwd}`, `Path(__file__).parent.parent`, or an
    `os.getcwd()` taken at import time, before Hydra changes the directory."""
    if depth > 4:
        return False
    parents = 0
    for node in iter_subtree(expr):
        if isinstance(node, cst.Call) and dotted_name(node.func).split(".")[-1] in _ORIGINAL_DIR_CALLS:
            return True
        if isinstance(node, (cst.SimpleString, cst.FormattedString)) and "runtime.cwd" in (string_value(node) or ""):
            return True
        if isinstance(node, cst.Attribute) and node.attr.value == "parent" or \
                isinstance(node, cst.Call) and dotted_name(node.func) == "os.path.dirname":
            parents += 1
        elif (isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute)
              and node.value.attr.value == "parents" and len(node.slice) == 1
              and isinstance(node.slice[0].slice, cst.Index)
              and isinstance(node.slice[0].slice.value, cst.Integer)):
            parents += int(node.slice[0].slice.value.value) + 1  # `.parents[1]`: two levels up
        if isinstance(node, cst.Name) and node.value == "__file__" and parents >= 2:
            return True
        if isinstance(node, cst.Name):
            values = index.assigned(node.value, scope)
            if len(values) != 1 or values[0] is node:
                continue
            at_import = any(v is values[0] for v in index.module_assigns.get(node.value, []))
            if at_import and dotted_name(values[0].func if isinstance(values[0], cst.Call) else values[0]) in (
                    "os.getcwd", "Path.cwd", "pathlib.Path.cwd"):
                return True
            if _names_original_dir(index, values[0], None if at_import else scope, depth + 1):
                return True
    return False


def _sets_pythonpath(index: Index, target: str, scope: Optional[Function], before: int) -> bool:
    """`target["PYTHONPATH"] = <the original directory>` earlier in `scope` (or at module level)."""
    for sub in index.subscripts:
        if not sub.store or sub.key != "PYTHONPATH" or sub.base != target or sub.stmt >= before:
            continue
        if sub.scope is not None and sub.scope is not scope:
            continue
        statement = index.statements[sub.stmt]
        if isinstance(statement, cst.Assign) and _names_original_dir(index, statement.value, sub.scope):
            return True
    for call in index.calls:
        if call.name == f"{target}.update" and call.stmt < before and call.scope in (None, scope):
            given = call.keyword("PYTHONPATH")
            mapping = call.positional(0)
            if given is None and isinstance(mapping, cst.Dict):
                given = _dict_value(mapping, "PYTHONPATH")
            if given is not None and _names_original_dir(index, given, call.scope):
                return True
    return False


def _dict_value(mapping: cst.Dict, key: str) -> Optional[cst.BaseExpression]:
    for element in mapping.elements:
        if isinstance(element, cst.DictElement) and string_value(element.key) == key:
            return element.value
    return None


def _child_finds_src(index: Index, call: Call) -> bool:
    """The child gets the repository root on its PYTHONPATH: through `env=` (a dict that sets it,
    or a copy of os.environ whose PYTHONPATH is set before the call), or through os.environ."""
    if _sets_pythonpath(index, "os.environ", call.scope, call.stmt):
        return True
    env = call.keyword("env")
    if env is None:
        return False
    value = resolve(index, env, call.scope)
    if isinstance(value, cst.Dict):
        given = _dict_value(value, "PYTHONPATH")
        if given is not None:
            return _names_original_dir(index, given, call.scope)
    if isinstance(value, cst.Call) and dotted_name(value.func) == "dict":
        given = keyword_argument(value, "PYTHONPATH")
        if given is not None:
            return _names_original_dir(index, given, call.scope)
    return isinstance(env, cst.Name) and _sets_pythonpath(index, env.value, call.scope, call.stmt)


@rule(
    code="RUN007", name="hydra-cwd-subprocess", severity=ERROR,
    consequence=CRASH,
    criterion="Code is immediately executable: with `@hydra.main` and no `version_base`, Hydra changes "
              "the working directory, so a `python -m src.…` child needs `cwd=` (the original directory).",
    rationale="Without version_base Hydra 1.x chdirs into outputs/<date>/<time>; the child then "
              "cannot import `src` (seed 004). Not when config.yaml (read through config_name) keeps "
              "the directory (`hydra.run.dir: .`, `hydra.job.chdir: false`), or the child gets the "
              "original directory as cwd= or on its PYTHONPATH.",
    invalid=[Example(files={MAIN: """
        import subprocess
        import hydra


        @hydra.main(config_path='../config', config_name='config')
        def main(cfg):
            subprocess.run(['python', '-u', '-m', 'src.train', f'run={cfg.run}'], check=True)
        """}, line=5, message='has no version_base'),
             # without config_name Hydra reads no config.yaml, so its `hydra.run.dir: .` does not apply
             Example(files={MAIN: """
                 import subprocess
                 import sys
                 import hydra


                 @hydra.main(config_path='../config')
                 def main(cfg):
                     subprocess.run([sys.executable, '-m', 'src.train'], check=True)
                 """, "config/config.yaml": """
                     hydra:
                       run:
                         dir: .
                     """}, line=6),
             # a run dir below the original directory still moves the process
             Example(files={MAIN: """
                 import subprocess
                 import sys
                 import hydra


                 @hydra.main(config_path='../config', config_name='config')
                 def main(cfg):
                     subprocess.run([sys.executable, '-m', 'src.train'], check=True)
                 """, "config/config.yaml": """
                     hydra:
                       run:
                         dir: ${hydra:runtime.cwd}/outputs/${now:%H-%M-%S}
                     """}, line=6),
             # os.getcwd() inside main is already Hydra's output directory
             Example(files={MAIN: """
                 import os
                 import subprocess
                 import sys
                 import hydra


                 @hydra.main(config_path='../config', config_name='config')
                 def main(cfg):
                     env = os.environ.copy()
                     env['PYTHONPATH'] = os.getcwd()
                     subprocess.run([sys.executable, '-m', 'src.train'], check=True, env=env)
                 """}, line=7)],
    valid=[Example(files={MAIN: """
        import subprocess
        import hydra
        from hydra.utils import get_original_cwd


        @hydra.main(config_path='../config', config_name='config')
        def main(cfg):
            subprocess.run(['python', '-u', '-m', 'src.train', f'run={cfg.run}'], check=True,
                           cwd=get_original_cwd())
        """}),
           # config.yaml keeps the process where it started: `hydra.run.dir: .` or `hydra.job.chdir: false`
           Example(files={MAIN: """
               import subprocess
               import sys
               import hydra


               @hydra.main(config_path='../config', config_name='config')
               def main(cfg):
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True)
               """, "config/config.yaml": """
                   hydra:
                     run:
                       dir: .
                     output_subdir: null
                   """}),
           Example(files={MAIN: """
               import subprocess
               import sys
               import hydra


               @hydra.main(config_path='../config', config_name='config')
               def main(cfg):
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True)
               """, "config/config.yaml": """
                   hydra:
                     job:
                       chdir: false
                   """}),
           # the child gets the original directory on its PYTHONPATH
           Example(files={MAIN: """
               import os
               import subprocess
               import sys
               from pathlib import Path
               import hydra
               from hydra.utils import get_original_cwd

               START = os.getcwd()


               @hydra.main(config_path='../config', config_name='config')
               def main(cfg):
                   root = Path(get_original_cwd())
                   env = os.environ.copy()
                   env['PYTHONPATH'] = os.pathsep.join([str(root), env.get('PYTHONPATH', '')])
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True, env=env)
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True,
                                  env={**os.environ, 'PYTHONPATH': START})
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True,
                                  env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent)))
                   os.environ['PYTHONPATH'] = str(Path(__file__).resolve().parents[1])
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True)
               """})],
)
def hydra_cwd_subprocess(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(MAIN)
    if source is None:
        return
    found = hydra_main(source)
    if found is None or keyword_argument(found[1].decorator, "version_base") is not None:
        return
    config_name = keyword_argument(found[1].decorator, "config_name")
    named = string_value(config_name) if config_name is not None else None
    if named in ("config", "config.yaml") and keeps_working_directory(bundle):
        return  # config.yaml keeps Hydra in the directory main started in
    index = source.index
    child_modules = {id(l.node) for l in launches(source)}
    for call in index.calls:
        if call.qualname not in SUBPROCESS_CALLS or call.keyword("cwd") is not None:
            continue
        if _child_finds_src(index, call):
            continue
        command = call.positional(0) or call.keyword("args")
        if command is None:
            continue
        value = resolve(index, command, call.scope)
        if id(value) in child_modules or any(l.scope is call.scope for l in launches(source)):
            line = source.span(call.node).line
            yield Hit(MAIN, f"`@hydra.main` has no version_base, so Hydra changes the working directory before "
                            f"main runs, and the `python -m src.…` child started at line {line} has no cwd=: it "
                            "cannot import src. Pass version_base=None and cwd=hydra.utils.get_original_cwd()",
                      found[1], end_line=source.span(call.node).end_line)
            return
