"""PH001: placeholders in base code hold only dataset- and model-specific values (and what names
or describes a run); core logic holds none."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.ph.tokens import placeholder_tokens
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule

CORE_FILES = ("src/train.py", "src/evaluate.py", "src/main.py")
RUN_IDENTITY_KEYS = ("run_id", "name", "id", "description")


def _in_dataset_or_model_scope(path: tuple) -> bool:
    for key in path:
        if isinstance(key, str) and ("dataset" in key.lower() or "model" in key.lower() or key.lower() == "data"):
            return True
    return False


def _under_run_identity(path: tuple) -> bool:
    """A run identity key anywhere on the path (`description.note`, `runs.0.description`): what
    names or describes a run is provided later, at any depth."""
    return any(isinstance(key, str) and key in RUN_IDENTITY_KEYS for key in path)


@rule(
    code="PH001", name="placeholder-outside-scope", severity=ERROR,
    consequence=CRITERION,
    criterion="Placeholders are ONLY used for dataset-specific and model-specific components; core "
              "algorithm logic has NO placeholders.",
    rationale="The derive step replaces dataset and model placeholders only; a placeholder in the "
              "training loop, the orchestration or a hyperparameter survives into the experiment.",
    invalid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: a
            seed: SPECIFIC_CONFIG_PLACEHOLDER  # the seed per run
        """}, line=3),
             Example(files={"src/train.py": """
                 def step(cfg):
                     # the optimiser, chosen later
                     return 'OPTIMIZER_PLACEHOLDER'
                 """}, line=3),
             Example(files={"src/train.py": """
                 def step(cfg):
                     # the learning rate, chosen later
                     LR_PLACEHOLDER = 0.1
                     return LR_PLACEHOLDER
                 """}, line=3),
             # a run's description is exempt, its training values beside it are not
             Example(files={"config/smoke_test.yaml": """
                 runs:
                   - description:
                       note: NOTE_PLACEHOLDER  # what this run shows, written later
                     training:
                       epochs: EPOCHS_PLACEHOLDER  # the epoch count, chosen later
                 """}, line=5, message="runs.0.training.epochs")],
    valid=[Example(files={"config/smoke_test.yaml": """
        runs:
          - run_id: BASELINE_PLACEHOLDER  # run name set later
            dataset:
              name: DATASET_PLACEHOLDER  # replaced by the real dataset id
        """}),
           # run identity keys count at any depth
           Example(files={"config/smoke_test.yaml": """
               runs:
                 - description:
                     note: NOTE_PLACEHOLDER  # what this run shows, written later
                   name:
                     suffix: SUFFIX_PLACEHOLDER  # the run name's suffix, set later
               """})],
)
def placeholder_outside_scope(bundle: Bundle) -> Iterator[Hit]:
    for token in placeholder_tokens(bundle):
        if token.path.endswith((".yaml", ".yml")):
            path = token.yaml_path
            if _under_run_identity(path) or _in_dataset_or_model_scope(path):
                continue
            key = ".".join(str(k) for k in path)
            yield Hit(token.path, f"`{key}: {token.text}` is a placeholder outside the dataset/model scope; "
                                  "base configs may leave only dataset and model values open. Give it a "
                                  "real value", token.location)
        elif token.path in CORE_FILES:
            yield Hit(token.path, f"`{token.text}` is a placeholder in {token.path}, which is core logic; only "
                                  "dataset- and model-specific code may hold placeholders. Implement it",
                      token.location)
