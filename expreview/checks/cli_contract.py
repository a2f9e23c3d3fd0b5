"""CLI: main's command line, and the flags it passes to the scripts it launches."""
from __future__ import annotations

from ..analysis import launches, parser_spec
from ..bundle import Bundle
from ..findings import ERROR
from ..rule import Example, Hit, rule

MAIN = "src/main.py"
_MAIN_OK = (
    "import argparse\n\n\ndef parse_args():\n    p = argparse.ArgumentParser()\n"
    "    g = p.add_mutually_exclusive_group(required=True)\n"
    "    g.add_argument('--smoke-test', action='store_true')\n"
    "    g.add_argument('--full-experiment', action='store_true')\n"
    "    p.add_argument('--results-dir', required=True)\n    return p.parse_args()\n"
)


@rule(
    code="CLI001", name="main-flags", stages=("base", "derived"), severity=ERROR,
    criterion="main.py properly supports `--smoke-test` and `--full-experiment` flags with "
              "`--results-dir <path>` argument.",
    rationale="The pipeline calls `python -m src.main --smoke-test --results-dir …`; argparse "
              "exits with status 2 on a flag it does not know.",
    invalid=[Example(files={MAIN: _MAIN_OK.replace("--results-dir", "--output")})],
    valid=[Example(files={MAIN: _MAIN_OK})],
)
def main_flags(bundle: Bundle):
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
    code="CLI002", name="subprocess-contract", stages=("base", "derived", "hydra"), severity=ERROR,
    criterion="main.py launches train.py (and evaluate.py) with arguments those scripts accept.",
    rationale="A flag the child's parser does not define, or a required flag main never passes, "
              "makes every run exit with status 2 before training starts.",
    invalid=[Example(files={
        MAIN: "import subprocess, sys\nsubprocess.run([sys.executable, '-m', 'src.train', '--config', 'c.yaml', '--device', '0'])\n",
        "src/train.py": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--config', required=True)\n"
                        "p.add_argument('--results-dir', required=True)\nargs = p.parse_args()\n"})],
    valid=[Example(files={
        MAIN: "import subprocess, sys\ncmd = [sys.executable, '-m', 'src.train', '--config', 'c.yaml']\n"
              "cmd += ['--results-dir', 'out']\nsubprocess.run(cmd)\n",
        "src/train.py": "import argparse\np = argparse.ArgumentParser()\np.add_argument('--config', required=True)\n"
                        "p.add_argument('--results-dir', required=True)\nargs = p.parse_args()\n"})],
)
def subprocess_contract(bundle: Bundle):
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
        for flag in spec.flags:
            if flag.required and not flag.positional and not passed & set(flag.names):
                yield Hit(MAIN, f"never passes `{flag.names[-1]}`, which {launch.target} requires; the child "
                                "exits with status 2. Pass it in this command", launch.node)
