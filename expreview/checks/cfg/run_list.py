"""CFG: each run config holds the run list src/main.py reads, and every entry of it has a run id
(CFG002)."""
from __future__ import annotations

from typing import Iterator

import yaml

from expreview.bundle import Bundle
from expreview.checks.cfg.common import RUN_CONFIGS, RUN_ID_KEYS, RUN_LIST_KEYS
from expreview.facts.literals import literal
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule


def _keys_main_reads(bundle: Bundle) -> list[str]:
    main = bundle.python("src/main.py")
    if main is None:
        return []
    keys = [s.key for s in main.index.subscripts if not s.store]
    for call in main.index.calls:
        if call.name.endswith(".get"):
            key = literal(call.positional(0))
            if isinstance(key, str):
                keys.append(key)
    return keys


def _run_list_key(bundle: Bundle):
    keys = _keys_main_reads(bundle)
    listed = set()
    for path in RUN_CONFIGS:
        doc = bundle.yaml(path)
        if doc is not None and isinstance(doc.data, dict):
            listed |= {k for k, v in doc.data.items() if isinstance(v, (list, dict))}
    for key in keys:
        if key in listed:
            return key, keys
    for key in keys:
        if key in RUN_LIST_KEYS:
            return key, keys
    return None, keys


@rule(
    code="CFG002", name="run-list-missing", severity=ERROR,
    consequence=CRASH,
    criterion="Configuration YAML structure is ready to accept run variations: each config holds "
              "the run list main reads, and every entry has a run id.",
    rationale="main iterates over the run list; a missing list runs nothing, and an entry without "
              "an id has no `{results_dir}/{run_id}` to write to.",
    invalid=[Example(files={
        "src/main.py": """
            import yaml
            cfg = yaml.safe_load(open('config/smoke_test.yaml'))
            for run in cfg['runs']:
                print(run['run_id'])
            """,
        "config/smoke_test.yaml": """
            experiments:
              - run_id: a
            """,
        "config/full_experiment.yaml": """
            runs:
              - seed: 1
            """})],
    valid=[Example(files={
        "src/main.py": """
            import yaml
            cfg = yaml.safe_load(open('config/smoke_test.yaml'))
            for run in cfg['runs']:
                print(run['run_id'])
            """,
        "config/smoke_test.yaml": """
            runs:
              - run_id: a
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
            """}),
           Example(files={  # runs keyed by their id
        "src/main.py": """
            import yaml
            cfg = yaml.safe_load(open('config/smoke_test.yaml'))
            for run_id, run in cfg['variations'].items():
                print(run_id)
            """,
        "config/smoke_test.yaml": """
            variations:
              a:
                seed: 1
            """,
        "config/full_experiment.yaml": """
            variations:
              a:
                seed: 1
            """})],
)
def run_list_missing(bundle: Bundle) -> Iterator[Hit]:
    key, read = _run_list_key(bundle)
    id_keys = [k for k in RUN_ID_KEYS if k in read] or list(RUN_ID_KEYS)
    for path in RUN_CONFIGS:
        doc = bundle.yaml(path)
        if doc is None or doc.node is None:
            continue
        if not isinstance(doc.node, yaml.MappingNode):
            if isinstance(doc.node, yaml.SequenceNode):
                entries = doc.node.value
            else:
                yield Hit(path, f"{path} holds no run list; write `runs:` with one entry per run variation", 1)
                continue
        else:
            wanted = key or next((k for k in RUN_LIST_KEYS if isinstance(doc.data.get(k), list)), None)
            value = next((v for k, v in doc.node.value if getattr(k, "value", None) == wanted), None) if wanted else None
            if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
                continue  # an empty run list is a template waiting for its runs
            if isinstance(value, yaml.MappingNode):
                continue  # runs keyed by their id: `variations: {baseline: {...}}`
            if value is None or not isinstance(value, yaml.SequenceNode):
                name = wanted or "runs"
                yield Hit(path, f"{path} has no `{name}:` list{' (src/main.py reads it)' if key else ''}; "
                                f"add `{name}:` with one entry per run variation", 1)
                continue
            entries = value.value
        for entry in entries:
            if not isinstance(entry, yaml.MappingNode):
                continue
            names = {getattr(k, "value", None) for k, _ in entry.value}
            if not names & set(id_keys):
                yield Hit(path, f"this run entry has no `{id_keys[0]}`; give every run variation an id",
                          entry)
