"""CLI002: main launches train.py (and evaluate.py) with flags their argparse parsers define, and
passes every flag they require."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.cli.common import MAIN, parser_spec
from expreview.facts.launches import launches
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule


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
    source = bundle.parsed(MAIN)
    if source is None:
        return
    for launch in launches(source):
        target = bundle.parsed(launch.target)
        if target is None:
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
