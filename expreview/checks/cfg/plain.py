"""CFG: the YAML configs parse, hold the run list main reads, and spell numbers so that PyYAML
reads them as numbers (CFG001-003). The run-config names and keys here are shared by the package."""
from __future__ import annotations

import re
from typing import Iterator

import libcst as cst
import yaml

from expreview.bundle import Bundle
from expreview.facts.cache import bundle_fact
from expreview.facts.literals import literal
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import iter_subtree, string_value

RUN_CONFIGS = ("config/smoke_test.yaml", "config/full_experiment.yaml")
RUN_LIST_KEYS = ("runs", "variations", "experiments", "run_variations", "run_configs", "configs", "trials")
RUN_ID_KEYS = ("run_id", "name", "id")


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


_NUMBER_LIKE = re.compile(r"[-+]?(?:\d[\d_]*\.?\d*|\.\d+)[eE][-+]?\d+")
_PYYAML_LOADS = ("yaml.safe_load", "yaml.load", "yaml.full_load", "yaml.unsafe_load", "yaml.safe_load_all",
                 "yaml.load_all")


def _float_spelling(text: str) -> str:
    mantissa, _, exponent = text.lower().partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[:1] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}"


@bundle_fact
def _converted_keys(bundle: Bundle) -> set[str]:
    """Keys whose values the code passes through float()/int() anyway."""
    keys = set()
    for source in bundle.python_files():
        for call in source.index.calls:
            if call.name in ("float", "int") and call.node.args:
                for node in iter_subtree(call.node.args[0].value):
                    value = string_value(node) if isinstance(node, cst.SimpleString) else None
                    if value is not None:
                        keys.add(value)
    return keys


def read_with_pyyaml(bundle: Bundle) -> bool:
    return any(source.index.calls_to(*_PYYAML_LOADS) for source in bundle.python_files())


@rule(
    code="CFG003", name="yaml11-number-as-string", severity=ERROR,
    consequence=CRASH,
    criterion="Configuration files contain real experimental parameters: numbers are written so "
              "that PyYAML reads them as numbers.",
    rationale="PyYAML follows YAML 1.1, where `1e-3` is the string '1e-3'; `Adam(lr='1e-3')` then "
              "fails (or a comparison silently misbehaves). Write `1.0e-3`.",
    invalid=[Example(files={"src/main.py": """
        import yaml
        cfg = yaml.safe_load(open('c.yaml'))
        """,
                            "config/smoke_test.yaml": """
                                runs:
                                  - run_id: a
                                    learning_rate: 1e-3
                                """})],
    valid=[Example(files={"src/main.py": """
        import yaml
        cfg = yaml.safe_load(open('c.yaml'))
        """,
                          "config/smoke_test.yaml": """
                              runs:
                                - run_id: a
                                  learning_rate: 1.0e-3
                              """})],
)
def yaml11_number_as_string(bundle: Bundle) -> Iterator[Hit]:
    if bundle.option("config_loader") == "omegaconf" or not read_with_pyyaml(bundle):
        return  # OmegaConf reads 1e-3 as a float
    converted = _converted_keys(bundle)
    for doc in bundle.yaml_files():
        for entry in doc.scalars():
            node = entry.node
            assert isinstance(node, yaml.ScalarNode)  # scalars() yields only entries whose node is a scalar
            if node.style or node.tag != "tag:yaml.org,2002:str":  # plain style is None or 
                continue
            if not _NUMBER_LIKE.fullmatch(node.value) or entry.path[-1] in converted:
                continue
            key = ".".join(str(k) for k in entry.path if isinstance(k, str)) or "the value"
            yield Hit(doc.path, f"`{key}: {node.value}` is read by PyYAML (YAML 1.1) as the string "
                                f"'{node.value}', not a number; write `{_float_spelling(node.value)}`", node)
