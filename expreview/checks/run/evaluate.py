"""RUN006: src/main.py neither launches nor imports src.evaluate (evaluation runs independently)."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.run.common import MAIN
from expreview.facts.launches import launches
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule


@rule(
    code="RUN006", name="main-calls-evaluate", severity=ERROR,
    consequence=CRITERION,
    criterion="main.py DOES NOT call evaluate.py (evaluation is executed independently).",
    rationale="evaluate reads every run from WandB after all runs finished; called from one run's "
              "main it sees a partial set, or no data at all in trial mode.",
    invalid=[Example(files={MAIN: """
        import subprocess, sys
        subprocess.run([sys.executable, '-m', 'src.evaluate', 'results_dir=out'])
        """}, line=2)],
    valid=[Example(files={MAIN: """
        import subprocess, sys
        subprocess.run([sys.executable, '-u', '-m', 'src.train', 'run=r1'])
        """})],
)
def main_calls_evaluate(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(MAIN)
    if source is None:
        return
    for launch in launches(source):
        if launch.target == "src/evaluate.py":
            yield Hit(MAIN, "src/main.py launches src.evaluate; evaluation runs independently after all runs, "
                            "so remove this call", launch.node)
    for imp in source.index.imports:
        if imp.module in ("src.evaluate",) or imp.module == "src" and imp.name == "evaluate" \
                or imp.level == 1 and imp.module == "evaluate":
            yield Hit(MAIN, "src/main.py imports src.evaluate; evaluation runs independently, so do not "
                            "call it from main", imp.node)
