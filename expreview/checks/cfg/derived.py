"""CFG: what the derived configs mean to the code: configured names the dispatch handles, keys
some file reads, and every run variation in both run configs (CFG004, CFG005, CFG007)."""
from __future__ import annotations

import re
from typing import Iterator, Optional

import yaml

from expreview.bundle import Bundle
from expreview.checks.cfg.dispatch import dispatches
from expreview.checks.cfg.plain import RUN_CONFIGS, RUN_ID_KEYS, RUN_LIST_KEYS
from expreview.findings import ADVICE, CRASH, CRITERION, ERROR, WARNING
from expreview.rule import Example, Hit, rule
from expreview.sources.yamlfile import YamlSource


def _yaml_values_at(bundle: Bundle, keys: tuple):
    """(doc, entry) for every scalar whose key path ends with `keys` (list indices skipped)."""
    for doc in bundle.yaml_files():
        for entry in doc.scalars():
            path = tuple(k for k in entry.path if isinstance(k, str))
            if path[-len(keys):] == keys and isinstance(entry.node.value, str):
                yield doc, entry


@rule(
    code="CFG004", name="configured-name-not-handled", severity=ERROR,
    consequence=CRASH,
    criterion="All run variations are implemented: every dataset/model name in the configs is "
              "handled by the code's name dispatch (after its .upper()/.lower() normalisation).",
    rationale="A configured name that the dispatch does not know falls through to "
              "NotImplementedError at the start of the run (seed 002: `WIKITEXT_103`).",
    invalid=[Example(files={
        "src/preprocess.py": """
            def get_data(cfg):
                name = cfg['dataset']['name'].upper()
                if name == 'DIGITS':
                    return [1]
                raise NotImplementedError(f'dataset {name}')
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: WIKITEXT_103
            """})],
    valid=[Example(files={
        "src/preprocess.py": """
            REGISTRY = {'DIGITS': 1, 'WIKITEXT_103': 2}


            def get_data(cfg):
                name = cfg['dataset']['name'].upper()
                if name not in REGISTRY:
                    raise NotImplementedError(f'dataset {name}')
                return REGISTRY[name]
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: wikitext_103
            """}),
           Example(files={
        "src/preprocess.py": """
            from datasets import load_dataset


            def get_data(cfg):
                name = cfg['dataset']['name']
                if name == 'synthetic':
                    return []
                if not name:
                    raise ValueError('unknown dataset')
                return load_dataset(name)
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: wikitext
            """})],
)
def configured_name_not_handled(bundle: Bundle) -> Iterator[Hit]:
    reported = set()
    sources = tuple(s for s in bundle.python_files() if s.ok)
    for source in sources:
        for dispatch in dispatches(source, sources):
            for doc, entry in _yaml_values_at(bundle, dispatch.keys[-2:] if len(dispatch.keys) > 1 else dispatch.keys):
                value = entry.node.value
                if dispatch.accepts(value) or (doc.path, value, dispatch.function.name) in reported:
                    continue
                reported.add((doc.path, value, dispatch.function.name))
                assert dispatch.fallback is not None  # dispatches() always sets it: the raise an unhandled name reaches
                line = source.span(dispatch.fallback).line
                handled = ", ".join(dispatch.handled_names)
                norm = "".join(f".{op}()" for op in dispatch.normalise)
                after = f"after `{dispatch.var}{norm}` it handles" if norm else "it handles"
                yield Hit(doc.path, f"`{'.'.join(dispatch.keys)}: {value}` is not handled by "
                                    f"`{dispatch.function.name}` in {source.path} ({after} "
                                    f"{handled}); the run reaches `{dispatch.error_name}` at "
                                    f"{source.path}:{line}. Implement this name there or use a handled one",
                          entry.node)


_CONSUMED_BY_TOOLS = {"defaults", "hydra", "_target_", "_recursive_", "_convert_", "_partial_", "_self_"}
# Descriptive keys: they label a run (and reach WandB with the whole config), they tune nothing.
_DESCRIPTIVE = {"run_id", "method", "description", "notes", "tags", "parameter_count", "comment", "paper"}


def _names_the_code_uses(bundle: Bundle) -> set[str]:
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
    used = _names_the_code_uses(bundle)
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
            if key in used or key in seen or key in _CONSUMED_BY_TOOLS or key in _DESCRIPTIVE \
                    or keys[0] in _CONSUMED_BY_TOOLS:
                continue
            seen.add(key)
            yield Hit(doc.path, f"`{'.'.join(keys)}` is set here but no file reads `{key}`; it changes nothing. "
                                "Read it where it should take effect, or remove it", entry.key_node or entry.node)


def _run_ids(doc: Optional[YamlSource]) -> Optional[list[tuple[str, yaml.Node]]]:
    if doc is None or doc.node is None or not isinstance(doc.data, (dict, list)):
        return None
    entries: list[tuple[str, yaml.Node]] = []
    lists = [doc.node] if isinstance(doc.node, yaml.SequenceNode) else [
        v for k, v in doc.node.value if isinstance(v, (yaml.SequenceNode, yaml.MappingNode))
        and getattr(k, "value", None) in RUN_LIST_KEYS]
    for keyed in (v for v in lists if isinstance(v, yaml.MappingNode)):  # runs keyed by their id
        entries += [(str(k.value), k) for k, _ in keyed.value if isinstance(k, yaml.ScalarNode)]
    for seq in (v for v in lists if isinstance(v, yaml.SequenceNode)):
        for item in seq.value:
            if isinstance(item, yaml.MappingNode):
                for k, v in item.value:
                    if getattr(k, "value", None) in RUN_ID_KEYS and isinstance(v, yaml.ScalarNode):
                        entries.append((str(v.value), v))
                        break
    return entries


def _norm(run_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", run_id.lower()).strip("-")


@rule(
    code="CFG007", name="run-variation-missing", severity=ERROR,
    consequence=CRITERION,
    criterion="All run_variations are defined in both config/smoke_test.yaml and "
              "config/full_experiment.yaml; the smoke test contains ALL run variations in lightweight form.",
    rationale="A variation missing from the smoke test is never exercised before the full run; one "
              "missing from the full experiment is never run at all.",
    invalid=[Example(run_variations=["baseline", "proposed"], files={
        "config/smoke_test.yaml": """
            runs:
              - run_id: smoke_random
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: baseline
              - run_id: proposed
            """}, line=2),
             Example(run_variations=["proposed", "proposed-no-warmup"], files={
        "config/smoke_test.yaml": """
            runs:
              - run_id: proposed-no-warmup
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: proposed
              - run_id: proposed-no-warmup
            """}, line=2)],
    valid=[Example(run_variations=["baseline", "proposed"], files={
        "config/smoke_test.yaml": """
            runs:
              - run_id: baseline
              - run_id: proposed
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: baseline
              - run_id: proposed
            """}),
           Example(run_variations=["baseline", "proposed"], files={
        "config/smoke_test.yaml": """
            variations:
              baseline: {epochs: 1}
              proposed: {epochs: 1}
            """,
        "config/full_experiment.yaml": """
            variations:
              baseline: {epochs: 9}
              proposed: {epochs: 9}
            """})],
)
def run_variation_missing(bundle: Bundle) -> Iterator[Hit]:
    if not bundle.run_variations:
        return
    for path in RUN_CONFIGS:
        doc = bundle.yaml(path)
        ids = _run_ids(doc)
        if ids is None:
            continue
        present = [_norm(i) for i, _ in ids]
        wanted = [_norm(v) for v in bundle.run_variations]

        def matches(variation: str, run_id: str) -> bool:
            # exact, or a prefixed/suffixed id (`smoke_baseline`) that no other variation names better
            if variation == run_id:
                return True
            if not re.search(rf"(^|-){re.escape(variation)}(-|$)", run_id):
                return False
            return not any(other != variation and variation in other and re.search(
                rf"(^|-){re.escape(other)}(-|$)", run_id) for other in wanted)

        missing = [v for v, norm in zip(bundle.run_variations, wanted) if not any(matches(norm, p) for p in present)]
        if missing:
            have = ", ".join(i for i, _ in ids) or "no runs"
            yield Hit(path, f"{path} lacks the run variation{'s' * (len(missing) > 1)} {', '.join(missing)} "
                            f"(it defines {have}); add one entry per variation", ids[0][1] if ids else 1)
