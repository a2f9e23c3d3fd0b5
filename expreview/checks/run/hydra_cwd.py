"""RUN007: a `python -m src.…` child of a `@hydra.main` without version_base starts in the
directory main started in (cwd=, or the original directory on its PYTHONPATH), unless config.yaml
keeps Hydra from changing the working directory."""
from __future__ import annotations

from functools import partial
from typing import Iterator, Optional

import libcst as cst
from packaging.version import InvalidVersion, Version

from expreview.bundle import Bundle
from expreview.checks.run.common import MAIN, SUBPROCESS_CALLS
from expreview.facts.hydra_compose import hydra_compositions
from expreview.facts.hydra_config import config_chdir, hydra_main, keeps_directory, keeps_working_directory
from expreview.facts.child_env import child_finds_src
from expreview.facts.launches import launches
from expreview.facts.script_launches import script_launches
from expreview.facts.values import resolve
from expreview.edits import SAFE, UNSAFE, Fix
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import keyword_argument, string_value
from expreview.sources.pyfile import PythonSource
from expreview.sources.python_edits import replace_node, with_keyword

def _changes_directory(decorator: cst.Decorator) -> Optional[bool]:
    """Whether Hydra changes the working directory by default for this `@hydra.main`: without
    version_base (or with one below 1.2) it does; None (no version) and 1.2+ do not; unknown
    (a version that is not a literal) is None."""
    given = keyword_argument(decorator.decorator, "version_base")
    if given is None:
        return True
    if isinstance(given, cst.Name) and given.value == "None":
        return False
    text = string_value(given)
    if text is None:
        return None
    try:
        return Version(text) < Version("1.2")
    except InvalidVersion:
        return None


def _composed_directory(bundle: Bundle) -> Optional[bool]:
    """What the composed configs say about the directory change: True when some run's config sets
    `hydra.job.chdir: true`, False when every run's keeps the directory (`hydra.job.chdir: false`
    or `hydra.run.dir: .`), None when they leave it to the version's default."""
    composed = hydra_compositions(bundle)
    configs = [c for c in composed.compositions if c.config is not None] if composed is not None else []
    if not configs:
        return None if keeps_working_directory(bundle) else config_chdir(bundle)
    if any(c.chdir is True and not keeps_directory(c.run_dir) for c in configs):
        return True
    if all(c.chdir is False or keeps_directory(c.run_dir) for c in configs):
        return False
    return None


def _version_base_fix(source: PythonSource, decorator: cst.Decorator) -> Optional[Fix]:
    """`version_base=None` added to a `@hydra.main(...)` that has none: Hydra then keeps the working
    directory. Safe when the call names its config_path (version_base=None changes only the
    directory then); without one, Hydra 1.2+ also stops defaulting config_path to the script's
    folder, which a reader must check."""
    call = decorator.decorator
    if not isinstance(call, cst.Call) or keyword_argument(call, "version_base") is not None:
        return None
    edit = replace_node(source, call, with_keyword(call, "version_base", cst.Name("None")))
    if edit is None:
        return None
    safe = keyword_argument(call, "config_path") is not None
    return Fix("Pass version_base=None to @hydra.main", SAFE if safe else UNSAFE, (edit,))


def _cwd_fix(source: PythonSource, call) -> Optional[Fix]:
    """`cwd=hydra.utils.get_original_cwd()` added to the child's call, written with what the file
    imports (`get_original_cwd` itself, or the `hydra` module). Unsafe: the child then also writes
    its relative paths under the original directory, not under Hydra's run directory."""
    bound = {imp.alias: imp.qualified for imp in source.index.imports if imp.scope is None}
    if bound.get("get_original_cwd") == "hydra.utils.get_original_cwd":
        func: cst.BaseExpression = cst.Name("get_original_cwd")
    elif bound.get("hydra") == "hydra":
        func = cst.Attribute(value=cst.Attribute(value=cst.Name("hydra"), attr=cst.Name("utils")),
                             attr=cst.Name("get_original_cwd"))
    else:
        return None
    edit = replace_node(source, call.node, with_keyword(call.node, "cwd", cst.Call(func=func)), call.stmt)
    return Fix("Start the child in the original directory: cwd=hydra.utils.get_original_cwd()", UNSAFE,
               (edit,)) if edit else None


@rule(
    code="RUN007", name="hydra-cwd-subprocess", severity=ERROR,
    consequence=CRASH, fixable=True,
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
        """}, line=7, message='has no version_base'),
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
                     """}, line=8),
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
                     """}, line=8),
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
                 """}, line=11),
             # version_base 1.1 keeps the old behaviour: Hydra changes the directory
             Example(files={MAIN: """
                 import subprocess
                 import sys
                 import hydra


                 @hydra.main(config_path='../config', config_name='config', version_base='1.1')
                 def main(cfg):
                     subprocess.run([sys.executable, '-m', 'src.train'], check=True)
                 """}, line=8, message="version_base below 1.2"),
             # version_base=None, but the config asks for the directory change
             Example(files={MAIN: """
                 import subprocess
                 import sys
                 import hydra


                 @hydra.main(config_path='../config', config_name='config', version_base=None)
                 def main(cfg):
                     subprocess.run([sys.executable, '-m', 'src.train'], check=True)
                 """, "config/config.yaml": """
                     run: r1
                     hydra:
                       job:
                         chdir: true
                     """, "config/runs/r1.yaml": "run_id: r1\n"}, line=8, message="hydra.job.chdir: true"),
             # a child started as a script by a relative path, from Hydra's output directory
             Example(files={MAIN: """
                 import subprocess
                 import hydra


                 @hydra.main(config_path='../config', config_name='config')
                 def main(cfg):
                     subprocess.run(['python', 'src/train.py', f'run={cfg.run}'], check=True)
                 """, "src/train.py": "print('train')\n"}, line=7, message="can't open file")],
    valid=[Example(files={MAIN: """
        import subprocess
        import hydra
        from hydra.utils import get_original_cwd


        @hydra.main(config_path='../config', config_name='config')
        def main(cfg):
            subprocess.run(['python', '-u', '-m', 'src.train', f'run={cfg.run}'], check=True,
                           cwd=get_original_cwd())
        """}),
           # version_base 1.2 and later do not change the directory
           Example(files={MAIN: """
               import subprocess
               import sys
               import hydra


               @hydra.main(config_path='../config', config_name='config', version_base='1.3')
               def main(cfg):
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True)
               """}),
           # a run config in the global package keeps the directory for its run (composed with Hydra)
           Example(files={MAIN: """
               import subprocess
               import sys
               import hydra


               @hydra.main(config_path='../config', config_name='config')
               def main(cfg):
                   subprocess.run([sys.executable, '-m', 'src.train'], check=True)
               """, "config/config.yaml": """
                   defaults:
                     - _self_
                     - run: ???
                   results_dir: results
                   mode: full
                   """, "config/run/r1.yaml": """
                   # @package _global_
                   hydra:
                     run:
                       dir: .
                   """}, options={"runs_dir": "config/run"}),
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
    if found is None:
        return
    config_name = keyword_argument(found[1].decorator, "config_name")
    named = string_value(config_name) if config_name is not None else None
    by_config = _composed_directory(bundle)
    if by_config is None and named in ("config", "config.yaml") and keeps_working_directory(bundle):
        by_config = False  # config.yaml keeps Hydra in the directory main started in
    by_version = _changes_directory(found[1])
    changes = by_config if by_config is not None else by_version
    if not changes:
        return
    # The finding sits on the launch: that call is the line of the traceback (the child exits
    # non-zero) and the one a local repair (cwd=) changes; the decorator is named as the reason.
    at = source.span(found[1]).line
    why = ("the composed config sets `hydra.job.chdir: true`" if by_config else
           f"`@hydra.main` (line {at}) has no version_base"
           if keyword_argument(found[1].decorator, "version_base") is None else
           f"`@hydra.main` (line {at}) asks for version_base below 1.2")
    fix = "Pass version_base=None and cwd=hydra.utils.get_original_cwd()" if not by_config else \
        "Pass cwd=hydra.utils.get_original_cwd()"
    edit = _version_base_fix(source, found[1]) if by_config is None else None
    index = source.index
    child_modules = {id(l.node) for l in launches(source)}
    relative_scripts = {id(l.call.node): l for l in script_launches(bundle) if l.parent == MAIN and l.relative}
    for call in index.calls:
        if call.qualname not in SUBPROCESS_CALLS or call.keyword("cwd") is not None:
            continue
        command = call.positional(0) or call.keyword("args")
        if command is None:
            continue
        script = relative_scripts.get(id(call.node))
        if script is not None:
            yield Hit(MAIN, f"the child started here names its script by the relative path `{script.target}`, "
                            f"and {why}, so Hydra changes the working directory before main runs: the script does "
                            f"not exist there (\"can't open file\"). {fix}", call.node,
                      fix=edit or partial(_cwd_fix, source, call))
            return
        if child_finds_src(index, call):
            continue
        value = resolve(index, command, call.scope)
        if id(value) in child_modules or any(l.scope is call.scope for l in launches(source)):
            yield Hit(MAIN, f"the `python -m src.…` child started here has no cwd=, and {why}, so Hydra "
                            f"changes the working directory before main runs: the child cannot import src. "
                            f"{fix}", call.node, fix=edit or partial(_cwd_fix, source, call))
            return
