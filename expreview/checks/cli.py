"""CLI: main's command line, and the flags it passes to the scripts it launches."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.hydra_config import hydra_main
from expreview.facts.launches import launches
from expreview.facts.literals import literal
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import string_value
from expreview.sources.pyfile import PythonSource

MAIN = "src/main.py"
_MAIN_OK = (
    "import argparse\n\n\ndef parse_args():\n    p = argparse.ArgumentParser()\n"
    "    g = p.add_mutually_exclusive_group(required=True)\n"
    "    g.add_argument('--smoke-test', action='store_true')\n"
    "    g.add_argument('--full-experiment', action='store_true')\n"
    "    p.add_argument('--results-dir', required=True)\n    return p.parse_args()\n"
)


# -- the argparse interface a script defines ----------------------------------

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


# -- rules --------------------------------------------------------------------

@rule(
    code="CLI001", name="main-flags", severity=ERROR,
    consequence=CRASH,
    criterion="main.py properly supports `--smoke-test` and `--full-experiment` flags with "
              "`--results-dir <path>` argument.",
    rationale="The pipeline calls `python -m src.main --smoke-test --results-dir …`; argparse "
              "exits with status 2 on a flag it does not know.",
    invalid=[Example(files={MAIN: _MAIN_OK.replace("--results-dir", "--output")}, line=7)],
    valid=[Example(files={MAIN: _MAIN_OK})],
)
def main_flags(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.python(MAIN)
    if source is None or not source.ok:
        return
    spec = parser_spec(source)
    defined = spec.options if spec else []
    where = spec.flags[0].node if spec and spec.flags else None
    for flag in ("--smoke-test", "--full-experiment", "--results-dir"):
        if flag not in defined:
            how = "no argparse parser" if spec is None else f"only {', '.join(defined) or 'no options'}"
            yield Hit(MAIN, f"src/main.py does not accept `{flag}` (it defines {how}); add "
                            f"`parser.add_argument(\"{flag}\", …)`", where)


@rule(
    code="CLI002", name="subprocess-contract", severity=ERROR,
    consequence=CRASH,
    criterion="main.py launches train.py (and evaluate.py) with arguments those scripts accept.",
    rationale="A flag the child's parser does not define, or a required flag main never passes, "
              "makes every run exit with status 2 before training starts.",
    invalid=[Example(files={
        MAIN: """
            import subprocess, sys
            subprocess.run([sys.executable, '-m', 'src.train', '--config', 'c.yaml', '--device', '0'])
            """,
        "src/train.py": """
            import argparse
            p = argparse.ArgumentParser()
            p.add_argument('--config', required=True)
            p.add_argument('--results-dir', required=True)
            args = p.parse_args()
            """}),
             Example(files={  # the module named through a constant
        MAIN: """
            import subprocess, sys
            TRAIN = 'src.train'


            def run(python):
                subprocess.run([python, '-u', '-m', TRAIN, '--config', 'c.yaml'])
            """,
        "src/train.py": """
            import argparse
            p = argparse.ArgumentParser()
            p.add_argument('--config', required=True)
            p.add_argument('--results-dir', required=True)
            args = p.parse_args()
            """}, line=6)],
    valid=[Example(files={
        MAIN: """
            import subprocess, sys
            cmd = [sys.executable, '-m', 'src.train', '--config', 'c.yaml']
            cmd += ['--results-dir', 'out']
            for key, value in {'seed': 1}.items():
                cmd.append(f'--{key}')
            subprocess.run(cmd)
            """,
        "src/train.py": """
            import argparse
            p = argparse.ArgumentParser()
            p.add_argument('--config', required=True)
            p.add_argument('--results-dir', required=True)
            args = p.parse_args()
            """})],
)
def subprocess_contract(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.python(MAIN)
    if source is None or not source.ok:
        return
    for launch in launches(source):
        target = bundle.python(launch.target)
        if target is None or not target.ok:
            continue
        spec = parser_spec(target)
        if spec is None:
            continue
        passed = {flag for flag, _ in launch.flags}
        if not spec.tolerant:
            for flag, node in launch.flags:
                if not spec.defines(flag):
                    yield Hit(MAIN, f"passes `{flag}` to {launch.target}, whose parser does not define it "
                                    f"(it accepts {', '.join(spec.options) or 'no options'}); the child exits "
                                    f"with status 2. Define the flag there or stop passing it", node)
        for defined in spec.flags:
            if defined.required and not defined.positional and not passed & set(defined.names):
                yield Hit(MAIN, f"never passes `{defined.names[-1]}`, which {launch.target} requires; the child "
                                "exits with status 2. Pass it in this command", launch.node)


def _parses_key_values(source: PythonSource) -> bool:
    """Hydra, or its own `key=value` parsing of sys.argv."""
    if hydra_main(source) is not None:
        return True
    index = source.index
    uses_argv = any(a.name.startswith("sys.argv") for a in index.attributes)
    splits = any(c.name.endswith((".split", ".partition")) and (first := c.positional(0)) is not None
                 and string_value(first) == "=" for c in index.calls)
    return uses_argv and splits or any(c.name.endswith("OmegaConf.from_cli") or c.qualname.endswith("from_cli")
                                       for c in index.calls)


@rule(
    code="CLI003", name="key-value-cli", severity=ERROR,
    consequence=CRASH,
    criterion="CLI interface matches `python -m src.main run={run_id} results_dir={path} mode=…` and "
              "`python -m src.evaluate results_dir={path} run_ids='[\"run-1\", …]'`, with run_ids "
              "parsed by json.loads.",
    rationale="argparse positionals receive the literal `results_dir=/x` (seed 004), and "
              "`--results-dir` options reject `results_dir=/x`; run_ids is a JSON list.",
    invalid=[Example(files={"src/evaluate.py": """
        import argparse, json
        p = argparse.ArgumentParser()
        p.add_argument('results_dir')
        p.add_argument('run_ids')
        args = p.parse_args()
        run_ids = json.loads(args.run_ids)
        """})],
    valid=[Example(files={"src/evaluate.py": """
        import json, sys
        args = dict(a.split('=', 1) for a in sys.argv[1:])
        run_ids = json.loads(args['run_ids'])
        """})],
)
def key_value_cli(bundle: Bundle) -> Iterator[Hit]:
    for path in ("src/main.py", "src/evaluate.py"):
        source = bundle.python(path)
        if source is None or not source.ok:
            continue
        spec = parser_spec(source)
        if not _parses_key_values(source) and spec is not None:
            flags: Sequence[Optional[Flag]] = spec.flags or []
            for flag in flags or [None]:
                where = flag.node if flag else None
                shown = flag.names[0] if flag else "its parser"
                yield Hit(path, f"{path} parses `{shown}` with argparse, which cannot take the `key=value` form "
                                f"(`results_dir=/x` arrives literally, or is rejected); parse key=value arguments "
                                "(Hydra, or split sys.argv on '=')", where)
        elif spec is None and not _parses_key_values(source) and path == "src/evaluate.py":
            yield Hit(path, "src/evaluate.py reads no `results_dir=… run_ids=…` arguments; parse them from sys.argv")
        if path == "src/evaluate.py" and any("run_ids" in s.value for s in source.index.strings) \
                and not source.index.calls_to("json.loads"):
            yield Hit(path, "run_ids is not parsed with json.loads; it arrives as a JSON list string")
