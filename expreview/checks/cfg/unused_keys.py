"""CFG: every YAML leaf key is read by some file (CFG005)."""
from __future__ import annotations

from typing import Iterator

import yaml

from expreview.bundle import Bundle
from expreview.findings import ADVICE, WARNING
from expreview.rule import Example, Hit, rule


CONSUMED_BY_TOOLS = {"defaults", "hydra", "_target_", "_recursive_", "_convert_", "_partial_", "_self_"}
# Descriptive keys: they label a run (and reach WandB with the whole config), they tune nothing.
_DESCRIPTIVE = {"run_id", "method", "description", "notes", "tags", "parameter_count", "comment", "paper"}


def names_the_code_uses(bundle: Bundle) -> set[str]:
    names: set[str] = set()
    for source in bundle.python_files():
        index = source.index
        names.update(s.value for s in index.strings)
        for attr in index.attributes:
            names.update(attr.name.split("."))
        for fn in index.functions:
            names.update(fn.params)
        for call in index.calls:
            names.update(a.keyword.value for a in call.node.args if a.keyword is not None)
            names.update(call.name.split("."))
    return names


@rule(
    code="CFG005", name="config-key-unused", severity=WARNING,
    consequence=ADVICE,
    criterion="Configuration files contain real experimental parameters that the code applies: "
              "every YAML leaf key is read by some file.",
    rationale="A key no code reads changes nothing: seed 002's \"noisy\" run sets `noise_ratio`, "
              "which nothing reads, so it equals another run.",
    invalid=[Example(files={"src/train.py": """
        def main(cfg):
            return cfg['training']['epochs']
        """,
                            "config/full_experiment.yaml": """
                                runs:
                                  - run_id: a
                                    training:
                                      epochs: 2
                                      noise_ratio: 0.15
                                """})],
    valid=[Example(files={"src/train.py": """
        def main(cfg):
            return cfg['training']['epochs'], cfg.get('run_id')
        """,
                          "config/full_experiment.yaml": """
                              runs:
                                - run_id: a
                                  training:
                                    epochs: 2
                              """})],
)
def config_key_unused(bundle: Bundle) -> Iterator[Hit]:
    used = names_the_code_uses(bundle)
    for doc in bundle.yaml_files():
        seen = set()
        for entry in doc.entries():
            keys = [k for k in entry.path if isinstance(k, str)]
            if not keys or not isinstance(entry.path[-1], str) or isinstance(entry.node, yaml.MappingNode):
                continue
            if isinstance(entry.node, yaml.SequenceNode) and any(
                    not isinstance(item, yaml.ScalarNode) for item in entry.node.value):
                continue  # a list of entries (runs) is structure, not a parameter
            key = keys[-1]
            if key in used or key in seen or key in CONSUMED_BY_TOOLS or key in _DESCRIPTIVE \
                    or keys[0] in CONSUMED_BY_TOOLS:
                continue
            seen.add(key)
            yield Hit(doc.path, f"`{'.'.join(keys)}` is set here but no file reads `{key}`; it changes nothing. "
                                "Read it where it should take effect, or remove it", entry.key_node or entry.node)
