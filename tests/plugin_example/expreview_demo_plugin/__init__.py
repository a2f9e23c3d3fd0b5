"""A third-party expreview rule: flags `print(` in src/model.py."""
from expreview.findings import WARNING
from expreview.rule import Example, Hit, rule


@rule(
    code="XDEMO001", name="no-print-in-model", stages=("base", "derived", "hydra"), severity=WARNING,
    criterion="src/model.py does not print.",
    rationale="Model code that prints floods every training log.",
    invalid=[Example(files={"src/model.py": "print('building')\n"})],
    valid=[Example(files={"src/model.py": "import torch\n"})],
)
def no_print_in_model(bundle):
    source = bundle.python("src/model.py")
    if source is None or not source.ok:
        return
    for call in source.index.calls:
        if call.name == "print":
            yield Hit("src/model.py", "src/model.py prints; log through the training loop instead", call.node)
