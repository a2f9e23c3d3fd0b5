"""CFG: every YAML config parses (CFG001)."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule


@rule(
    code="CFG001", name="yaml-does-not-parse", severity=ERROR,
    consequence=CRASH,
    criterion="Configuration files contain real, loadable parameters: every YAML file parses.",
    rationale="main reads the YAML before the first run; a syntax error stops everything.",
    invalid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: a
           lr: 0.1
        """}, line=3)],
    valid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: a
            lr: 0.1
        """})],
)
def yaml_does_not_parse(bundle: Bundle) -> Iterator[Hit]:
    for doc in bundle.yaml_files():
        if doc.problem is not None:
            yield Hit(doc.path, f"{doc.path} is not valid YAML: {doc.problem.message}; fix it",
                      doc.problem.line)
