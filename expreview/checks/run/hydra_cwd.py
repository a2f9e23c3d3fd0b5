"""RUN007, RUN009: the directory a `@hydra.main` main's children start in. Without version_base
Hydra moves main into its output directory before main runs; a child started with no cwd= starts
there too. RUN007: a `python -m src.…` child then cannot import src (unless the original directory
is on its PYTHONPATH), and a script named by a relative path is not found. RUN009: a child that
does start reads a bundle file by a path relative to that directory. Not when config.yaml (read
through config_name) keeps Hydra from changing the directory."""
from __future__ import annotations

import re
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
from expreview.facts.conditions import always_reached, caught, under_branch
from expreview.facts.values import resolve
from expreview.edits import SAFE, UNSAFE, Fix
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, dotted_name, keyword_argument, string_value
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


def _directory_change(bundle: Bundle) -> Optional[tuple[PythonSource, cst.Decorator, Optional[bool], str]]:
    """(main's source, its `@hydra.main`, what the composed config says, why) when Hydra changes
    main's working directory before main runs; None when it keeps it (or there is no Hydra main)."""
    source = bundle.parsed(MAIN)
    if source is None:
        return None
    found = hydra_main(source)
    if found is None:
        return None
    config_name = keyword_argument(found[1].decorator, "config_name")
    named = string_value(config_name) if config_name is not None else None
    by_config = _composed_directory(bundle)
    if by_config is None and named in ("config", "config.yaml") and keeps_working_directory(bundle):
        by_config = False  # config.yaml keeps Hydra in the directory main started in
    by_version = _changes_directory(found[1])
    changes = by_config if by_config is not None else by_version
    if not changes:
        return None
    at = source.span(found[1]).line
    why = ("the composed config sets `hydra.job.chdir: true`" if by_config else
           f"`@hydra.main` (line {at}) has no version_base"
           if keyword_argument(found[1].decorator, "version_base") is None else
           f"`@hydra.main` (line {at}) asks for version_base below 1.2")
    return source, found[1], by_config, why


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
    change = _directory_change(bundle)
    if change is None:
        return
    # The finding sits on the launch: that call is the line of the traceback (the child exits
    # non-zero) and the one a local repair (cwd=) changes; the decorator is named as the reason.
    source, decorator, by_config, why = change
    fix = "Pass version_base=None and cwd=hydra.utils.get_original_cwd()" if not by_config else \
        "Pass cwd=hydra.utils.get_original_cwd()"
    edit = _version_base_fix(source, decorator) if by_config is None else None
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


_FILE_ERRORS = ("FileNotFoundError", "OSError", "IOError", "Exception", "BaseException")
# Reads of a file by path: the path is their first argument.
_READS = ("open", "io.open", "OmegaConf.load", "omegaconf.OmegaConf.load", "Path", "pathlib.Path",
          "json.load", "yaml.safe_load", "torch.load", "pd.read_csv", "pandas.read_csv", "np.load", "numpy.load")


def _children(source: PythonSource, bundle: Bundle) -> Iterator[tuple[Call, str]]:
    """(launch, the bundle file it starts) for each child main starts with no cwd=."""
    scripts = {id(l.call.node): l.target for l in script_launches(bundle) if l.parent == MAIN and not l.relative}
    modules = launches(source)
    by_node = {id(l.node): l.target for l in modules}
    for call in source.index.calls:
        if call.qualname not in SUBPROCESS_CALLS or call.keyword("cwd") is not None:
            continue
        command = call.positional(0) or call.keyword("args")
        if command is None:
            continue
        target = scripts.get(id(call.node)) or by_node.get(id(resolve(source.index, command, call.scope)))
        if target is None:
            in_scope = {l.target for l in modules if l.scope is call.scope}
            target = in_scope.pop() if len(in_scope) == 1 else None
        if target is not None:
            yield call, target


def _template(source: PythonSource, expr: cst.CSTNode, scope, original: bool = False) -> Optional[tuple[str, bool]]:
    """(the relative path `expr` names, whether it is joined to the original directory) for a
    plain relative path, `to_absolute_path(p)`, `Path(get_original_cwd()) / "a" / "b"` or
    `os.path.join(get_original_cwd(), "a", "b")`."""
    index = source.index
    expr = resolve(index, expr, scope)
    text = string_value(expr)
    if text is not None:
        text = text.strip()
        relative = bool(text) and not text.startswith(("/", "~", "{", ".."))
        return (text[2:] if text.startswith("./") else text, original) if relative else None
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func).rsplit(".", 1)[-1]
        args = [a.value for a in expr.args if a.keyword is None and not a.star]
        if name == "to_absolute_path" and len(args) == 1:
            return _template(source, args[0], scope, True)
        if name in ("Path", "str") and len(args) == 1:
            return _template(source, args[0], scope, original)
        if dotted_name(expr.func) == "os.path.join" and len(args) >= 2 and _original_dir(args[0]):
            given = [string_value(resolve(index, a, scope)) for a in args[1:]]
            written = [p.strip("/") for p in given if p is not None]
            return ("/".join(written), True) if len(written) == len(given) else None
        return None
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Divide):
        parts: list[str] = []
        node: cst.CSTNode = expr  # the chain `base / "a" / "b"`, read from its right end
        while isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
            part = string_value(resolve(index, node.right, scope))
            if part is None:
                return None
            parts.insert(0, part.strip("/"))
            node = node.left
        if _original_dir(node):
            return "/".join(parts), True
    return None


def _original_dir(expr: cst.CSTNode) -> bool:
    """`get_original_cwd()`, `Path(get_original_cwd())`, `to_absolute_path(".")`: what Hydra calls
    the original directory, which in a child is the directory it started in. Not
    facts.child_env.names_original_dir: that also accepts `Path(__file__).parents[1]`, which is the
    repository in any process, and is the repair RUN009 proposes."""
    if isinstance(expr, cst.Call):
        name = dotted_name(expr.func).rsplit(".", 1)[-1]
        if name == "get_original_cwd":
            return True
        if name == "to_absolute_path" and expr.args and string_value(expr.args[0].value) in (".", "./", ""):
            return True
        if name in ("Path", "str") and len(expr.args) == 1:
            return _original_dir(expr.args[0].value)
    return False


def _bundle_file(template: str, paths: list[str]) -> Optional[str]:
    """The first bundle file the path names (or a file under the directory it names). Its first
    segment must be written out (`config/…`): a path that starts with a value could be anywhere."""
    first = template.strip("/").split("/", 1)[0]
    if not first or "{" in first or first in (".", ".."):
        return None
    pattern = re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part)
                                 for part in re.split(r"(\{[^{}]*\})", template.strip("/"))) + "(/.*)?$")
    return next((p for p in paths if pattern.match(p)), None)


@rule(
    code="RUN009", name="hydra-child-relative-path", severity=ERROR, consequence=CRASH,
    criterion="Code is immediately executable: a child that main starts after Hydra changed main's working "
              "directory finds the repository's files.",
    rationale="Without version_base Hydra moves main into outputs/<date>/<time> before main runs. A child "
              "started with no cwd= starts there too, so a bundle file it names by a relative path "
              "(`open(\"config/runs/x.yaml\")`) is looked for under that output directory; in a child with "
              "its own `@hydra.main`, `to_absolute_path` and `get_original_cwd()` name that output directory "
              "as well. Not when main keeps its directory (RUN007's guards), the launch passes cwd=, the path "
              "is built from `__file__`, or the read is guarded (a `try` that catches the error, a branch).",
    invalid=[Example(files={MAIN: """
        import subprocess
        import sys
        from pathlib import Path
        import hydra


        @hydra.main(config_path='../config', config_name='config')
        def main(cfg):
            script = Path(__file__).parent / 'train.py'
            subprocess.run([sys.executable, str(script), f'run={cfg.run}'], check=True)
        """, "src/train.py": """
        from pathlib import Path
        import hydra
        from hydra.utils import to_absolute_path
        from omegaconf import OmegaConf


        @hydra.main(config_path='../config', config_name='config')
        def main(cfg):
            run_yaml = Path(to_absolute_path(f'config/runs/{cfg.run}.yaml'))
            cfg = OmegaConf.merge(cfg, OmegaConf.load(run_yaml))
        """, "config/runs/r1.yaml": "run_id: r1\n"}, path="src/train.py", line=9,
        message="config/runs/"),
             Example(files={MAIN: """
                 import os
                 import subprocess
                 import sys
                 import hydra
                 from hydra.utils import get_original_cwd


                 @hydra.main(config_path='../config', config_name='config')
                 def main(cfg):
                     env = dict(os.environ, PYTHONPATH=get_original_cwd())
                     subprocess.run([sys.executable, '-u', '-m', 'src.train', f'run={cfg.run}'], check=True, env=env)
                 """, "src/train.py": """
                 from pathlib import Path
                 import hydra
                 from hydra.utils import get_original_cwd
                 from omegaconf import OmegaConf


                 @hydra.main(config_path='../config', config_name='config')
                 def main(cfg):
                     run_yaml = Path(get_original_cwd()) / 'config' / 'runs' / f'{cfg.run}.yaml'
                     cfg = OmegaConf.merge(cfg, OmegaConf.load(run_yaml))
                 """, "config/runs/r1.yaml": "run_id: r1\n"}, path="src/train.py", line=9,
                 message="get_original_cwd")],
    valid=[
        # the child starts in the original directory
        Example(files={MAIN: """
            import subprocess
            import sys
            from pathlib import Path
            import hydra
            from hydra.utils import get_original_cwd


            @hydra.main(config_path='../config', config_name='config')
            def main(cfg):
                script = Path(__file__).parent / 'train.py'
                subprocess.run([sys.executable, str(script)], check=True, cwd=get_original_cwd())
            """, "src/train.py": """
            from omegaconf import OmegaConf

            CFG = OmegaConf.load('config/runs/r1.yaml')
            """, "config/runs/r1.yaml": "run_id: r1\n"}),
        # the path is built from the file's own place; a guarded read; main keeps its directory
        Example(files={MAIN: """
            import subprocess
            import sys
            from pathlib import Path
            import hydra


            @hydra.main(config_path='../config', config_name='config')
            def main(cfg):
                script = Path(__file__).parent / 'train.py'
                subprocess.run([sys.executable, str(script), f'run={cfg.run}'], check=True)
            """, "src/train.py": """
            from pathlib import Path
            import hydra
            from omegaconf import OmegaConf

            ROOT = Path(__file__).resolve().parents[1]


            @hydra.main(config_path='../config', config_name='config')
            def main(cfg):
                cfg = OmegaConf.merge(cfg, OmegaConf.load(ROOT / 'config' / 'runs' / f'{cfg.run}.yaml'))
                try:
                    extra = OmegaConf.load(f'config/runs/{cfg.run}.yaml')
                except FileNotFoundError:
                    extra = None
                # a path that starts with a value: where it points is not known
                other = OmegaConf.load(f'{cfg.config_dir}/runs/{cfg.run}.yaml')
            """, "config/runs/r1.yaml": "run_id: r1\n"}),
        Example(files={MAIN: """
            import subprocess
            import sys
            from pathlib import Path
            import hydra


            @hydra.main(config_path='../config', config_name='config', version_base=None)
            def main(cfg):
                script = Path(__file__).parent / 'train.py'
                subprocess.run([sys.executable, str(script)], check=True)
            """, "src/train.py": """
            from omegaconf import OmegaConf

            CFG = OmegaConf.load('config/runs/r1.yaml')
            """, "config/runs/r1.yaml": "run_id: r1\n"}),
    ],
)
def hydra_child_relative_path(bundle: Bundle) -> Iterator[Hit]:
    change = _directory_change(bundle)
    if change is None:
        return
    source, _, _, why = change
    paths = sorted(bundle.files)
    sources = tuple(s for s in bundle.python_files() if s.ok)
    reported = set()
    for launch, target in _children(source, bundle):
        child = bundle.parsed(target)
        if child is None or target in reported:
            continue
        entry = hydra_main(child)
        entries = [entry[0]] if entry else [fn for fn in child.index.functions if fn.name == "main" and fn.parent is None]
        for call in child.index.calls:
            if call.qualname not in _READS and call.name.rsplit(".", 1)[-1] not in ("to_absolute_path",) \
                    and not (call.name.rsplit(".", 1)[-1] == "Path" and call.node.args):
                continue
            arg = call.positional(0)
            if arg is None:
                continue
            found = _template(child, call.node, call.scope) if call.name.endswith("to_absolute_path") else \
                _template(child, arg, call.scope)
            if found is None:
                continue
            file = _bundle_file(found[0], paths)
            if file is None or under_branch(child, call.stmt, call.scope) or caught(child, call.stmt, call.scope, _FILE_ERRORS):
                continue
            if not always_reached(child, call.scope, sources, entries):
                continue
            # The finding is where the path is written (a name's one value): that is what to change.
            written = call.node if call.name.endswith("to_absolute_path") else resolve(child.index, arg, call.scope)
            how = ("`to_absolute_path`/`get_original_cwd()` name the directory this process started in, which is "
                   "main's output directory" if found[1] else "a relative path is looked for there")
            yield Hit(child.path, f"{MAIN}:{source.span(launch.node).line} starts this file with no cwd=, and {why}, so "
                                  f"it starts in Hydra's output directory; {how}, where `{found[0]}` (the bundle's "
                                  f"{file}) does not exist, and the read fails. Pass cwd=hydra.utils.get_original_cwd() "
                                  f"to the launch, or build the path from the file's place "
                                  f"(Path(__file__).resolve().parents[1] / …)", written if written is not arg else call.node)
            reported.add(target)
            break
