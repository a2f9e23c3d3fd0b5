"""CFG: the YAML configs parse, hold the run list main reads, and mean what the code assumes."""
from __future__ import annotations

import re
from typing import Optional

import libcst as cst
import yaml

from expreview.facts.analysis import literal
from expreview.bundle import Bundle
from expreview.findings import ERROR, WARNING
from expreview.sources.index import dotted_name, iter_subtree, string_value
from expreview.rule import Example, Hit, rule

ALL = ("base", "derived", "hydra")
RUN_CONFIGS = ("config/smoke_test.yaml", "config/full_experiment.yaml")
RUN_LIST_KEYS = ("runs", "variations", "experiments", "run_variations", "run_configs", "configs", "trials")
RUN_ID_KEYS = ("run_id", "name", "id")


@rule(
    code="CFG001", name="yaml-does-not-parse", stages=ALL, severity=ERROR,
    criterion="Configuration files contain real, loadable parameters: every YAML file parses.",
    rationale="main reads the YAML before the first run; a syntax error stops everything.",
    invalid=[Example(files={"config/smoke_test.yaml": "runs:\n  - run_id: a\n   lr: 0.1\n"})],
    valid=[Example(files={"config/smoke_test.yaml": "runs:\n  - run_id: a\n    lr: 0.1\n"})],
)
def yaml_does_not_parse(bundle: Bundle):
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
    code="CFG002", name="run-list-missing", stages=("base", "derived"), severity=ERROR,
    criterion="Configuration YAML structure is ready to accept run variations: each config holds "
              "the run list main reads, and every entry has a run id.",
    rationale="main iterates over the run list; a missing list runs nothing, and an entry without "
              "an id has no `{results_dir}/{run_id}` to write to.",
    invalid=[Example(files={
        "src/main.py": "import yaml\ncfg = yaml.safe_load(open('config/smoke_test.yaml'))\nfor run in cfg['runs']:\n    print(run['run_id'])\n",
        "config/smoke_test.yaml": "experiments:\n  - run_id: a\n",
        "config/full_experiment.yaml": "runs:\n  - seed: 1\n"})],
    valid=[Example(files={
        "src/main.py": "import yaml\ncfg = yaml.safe_load(open('config/smoke_test.yaml'))\nfor run in cfg['runs']:\n    print(run['run_id'])\n",
        "config/smoke_test.yaml": "runs:\n  - run_id: a\n",
        "config/full_experiment.yaml": "runs:\n  - run_id: a\n"}),
           Example(files={  # runs keyed by their id
        "src/main.py": "import yaml\ncfg = yaml.safe_load(open('config/smoke_test.yaml'))\n"
                       "for run_id, run in cfg['variations'].items():\n    print(run_id)\n",
        "config/smoke_test.yaml": "variations:\n  a:\n    seed: 1\n",
        "config/full_experiment.yaml": "variations:\n  a:\n    seed: 1\n"})],
)
def run_list_missing(bundle: Bundle):
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


def _converted_keys(bundle: Bundle) -> set[str]:
    """Keys whose values the code passes through float()/int() anyway."""
    return bundle.memo("converted_keys", lambda: _find_converted_keys(bundle))


def _find_converted_keys(bundle: Bundle) -> set[str]:
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
    code="CFG003", name="yaml11-number-as-string", stages=ALL, severity=ERROR,
    criterion="Configuration files contain real experimental parameters: numbers are written so "
              "that PyYAML reads them as numbers.",
    rationale="PyYAML follows YAML 1.1, where `1e-3` is the string '1e-3'; `Adam(lr='1e-3')` then "
              "fails (or a comparison silently misbehaves). Write `1.0e-3`.",
    invalid=[Example(files={"src/main.py": "import yaml\ncfg = yaml.safe_load(open('c.yaml'))\n",
                            "config/smoke_test.yaml": "runs:\n  - run_id: a\n    learning_rate: 1e-3\n"})],
    valid=[Example(files={"src/main.py": "import yaml\ncfg = yaml.safe_load(open('c.yaml'))\n",
                          "config/smoke_test.yaml": "runs:\n  - run_id: a\n    learning_rate: 1.0e-3\n"})],
)
def yaml11_number_as_string(bundle: Bundle):
    if bundle.option("config_loader") == "omegaconf" or not read_with_pyyaml(bundle):
        return  # OmegaConf reads 1e-3 as a float
    converted = _converted_keys(bundle)
    for doc in bundle.yaml_files():
        for entry in doc.scalars():
            node = entry.node
            if node.style or node.tag != "tag:yaml.org,2002:str":  # plain style is None or 
                continue
            if not _NUMBER_LIKE.fullmatch(node.value) or entry.path[-1] in converted:
                continue
            key = ".".join(str(k) for k in entry.path if isinstance(k, str)) or "the value"
            yield Hit(doc.path, f"`{key}: {node.value}` is read by PyYAML (YAML 1.1) as the string "
                                f"'{node.value}', not a number; write `{_float_spelling(node.value)}`", node)


# -- derived: configured names, unused keys, run variations ------------------

def _yaml_values_at(bundle: Bundle, keys: tuple):
    """(doc, entry) for every scalar whose key path ends with `keys` (list indices skipped)."""
    for doc in bundle.yaml_files():
        for entry in doc.scalars():
            path = tuple(k for k in entry.path if isinstance(k, str))
            if path[-len(keys):] == keys and isinstance(entry.node.value, str):
                yield doc, entry


@rule(
    code="CFG004", name="configured-name-not-handled", stages=("derived",), severity=ERROR,
    criterion="All run variations are implemented: every dataset/model name in the configs is "
              "handled by the code's name dispatch (after its .upper()/.lower() normalisation).",
    rationale="A configured name that the dispatch does not know falls through to "
              "NotImplementedError at the start of the run (seed 002: `WIKITEXT_103`).",
    invalid=[Example(files={
        "src/preprocess.py": "def get_data(cfg):\n    name = cfg['dataset']['name'].upper()\n"
                             "    if name == 'DIGITS':\n        return [1]\n"
                             "    raise NotImplementedError(f'dataset {name}')\n",
        "config/full_experiment.yaml": "runs:\n  - run_id: a\n    dataset:\n      name: WIKITEXT_103\n"})],
    valid=[Example(files={
        "src/preprocess.py": "REGISTRY = {'DIGITS': 1, 'WIKITEXT_103': 2}\n\n\ndef get_data(cfg):\n"
                             "    name = cfg['dataset']['name'].upper()\n    if name not in REGISTRY:\n"
                             "        raise NotImplementedError(f'dataset {name}')\n    return REGISTRY[name]\n",
        "config/full_experiment.yaml": "runs:\n  - run_id: a\n    dataset:\n      name: wikitext_103\n"}),
           Example(files={
        "src/preprocess.py": "from datasets import load_dataset\n\n\ndef get_data(cfg):\n    name = cfg['dataset']['name']\n"
                             "    if name == 'synthetic':\n        return []\n    if not name:\n"
                             "        raise ValueError('unknown dataset')\n    return load_dataset(name)\n",
        "config/full_experiment.yaml": "runs:\n  - run_id: a\n    dataset:\n      name: wikitext\n"})],
)
def configured_name_not_handled(bundle: Bundle):
    from expreview.checks.cfg.dispatch import dispatches

    reported = set()
    sources = tuple(s for s in bundle.python_files() if s.ok)
    for source in sources:
        for dispatch in dispatches(source, sources):
            for doc, entry in _yaml_values_at(bundle, dispatch.keys[-2:] if len(dispatch.keys) > 1 else dispatch.keys):
                value = entry.node.value
                if dispatch.accepts(value) or (doc.path, value, dispatch.function.name) in reported:
                    continue
                reported.add((doc.path, value, dispatch.function.name))
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
    code="CFG005", name="config-key-unused", stages=("derived", "hydra"), severity=WARNING,
    criterion="Configuration files contain real experimental parameters that the code applies: "
              "every YAML leaf key is read by some file.",
    rationale="A key no code reads changes nothing: seed 002's \"noisy\" run sets `noise_ratio`, "
              "which nothing reads, so it equals another run.",
    invalid=[Example(files={"src/train.py": "def main(cfg):\n    return cfg['training']['epochs']\n",
                            "config/full_experiment.yaml": "runs:\n  - run_id: a\n    training:\n      epochs: 2\n      noise_ratio: 0.15\n"})],
    valid=[Example(files={"src/train.py": "def main(cfg):\n    return cfg['training']['epochs'], cfg.get('run_id')\n",
                          "config/full_experiment.yaml": "runs:\n  - run_id: a\n    training:\n      epochs: 2\n"})],
)
def config_key_unused(bundle: Bundle):
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


def _run_ids(doc) -> Optional[list[tuple[str, yaml.Node]]]:
    if doc is None or doc.node is None or not isinstance(doc.data, (dict, list)):
        return None
    entries = []
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
    code="CFG007", name="run-variation-missing", stages=("derived",), severity=ERROR,
    criterion="All run_variations are defined in both config/smoke_test.yaml and "
              "config/full_experiment.yaml; the smoke test contains ALL run variations in lightweight form.",
    rationale="A variation missing from the smoke test is never exercised before the full run; one "
              "missing from the full experiment is never run at all.",
    invalid=[Example(run_variations=["baseline", "proposed"], files={
        "config/smoke_test.yaml": "runs:\n  - run_id: smoke_random\n",
        "config/full_experiment.yaml": "runs:\n  - run_id: baseline\n  - run_id: proposed\n"}),
             Example(run_variations=["proposed", "proposed-no-warmup"], files={
        "config/smoke_test.yaml": "runs:\n  - run_id: proposed-no-warmup\n",
        "config/full_experiment.yaml": "runs:\n  - run_id: proposed\n  - run_id: proposed-no-warmup\n"})],
    valid=[Example(run_variations=["baseline", "proposed"], files={
        "config/smoke_test.yaml": "runs:\n  - run_id: baseline\n  - run_id: proposed\n",
        "config/full_experiment.yaml": "runs:\n  - run_id: baseline\n  - run_id: proposed\n"}),
           Example(run_variations=["baseline", "proposed"], files={
        "config/smoke_test.yaml": "variations:\n  baseline: {epochs: 1}\n  proposed: {epochs: 1}\n",
        "config/full_experiment.yaml": "variations:\n  baseline: {epochs: 9}\n  proposed: {epochs: 9}\n"})],
)
def run_variation_missing(bundle: Bundle):
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


# -- hydra: attribute paths and struct mode --------------------------------

_HYDRA_CONFIG = "defaults:\n  - _self_\nmode: full\nwandb:\n  entity: e\n  project: p\ntraining:\n  epochs: 2\n"
_RUN = "run_id: r1\nmethod: proposed\nmodel:\n  name: mlp\ndataset:\n  name: digits\ntraining:\n  lr: 0.01\noptuna:\n  n_trials: 0\nevaluation:\n  interval_steps: 10\n"
_HYDRA_TRAIN = (
    "import hydra\nfrom omegaconf import DictConfig, OmegaConf, open_dict\n\n\n"
    "@hydra.main(config_path='../config', config_name='config', version_base=None)\n"
    "def main(cfg: DictConfig):\n    run_cfg = OmegaConf.load(f'config/runs/{cfg.run}.yaml')\n"
    "    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n"
    "    return cfg.evaluation.interval_steps, cfg.training.lr\n"
)


def _guard_keys(source) -> set[str]:
    """Keys the code tests for before using (`"x" in cfg`, hasattr, .get, OmegaConf.select)."""
    keys = set()
    index = source.index
    for s in index.strings:
        if id(s.node) in index.compared:
            keys.add(s.value)
    for call in index.calls:
        if call.name in ("hasattr", "getattr") or call.name.endswith((".get", "select")):
            for arg in call.node.args:
                value = string_value(arg.value)
                if value is not None:
                    keys.update(value.split("."))
    return keys


def _first_missing(trees, path) -> int:
    """Index of the first key of `path` that no tree has."""
    for i in range(1, len(path) + 1):
        if not any(_exists(t, path[:i]) for t in trees):
            return i - 1
    return len(path)


def _exists(tree, path) -> bool:
    from expreview.facts.hydra_config import exists
    return exists(tree, path)


@rule(
    code="CFG006", name="config-path-missing", stages=("hydra",), severity=ERROR,
    criterion="All parameters are loaded from run configs dynamically: every `cfg.a.b.c` path the "
              "code uses exists in config/config.yaml merged with the run configs.",
    rationale="OmegaConf raises ConfigAttributeError on a missing key the moment the line runs "
              "(seed 004: `cfg.training.evaluation.interval_steps`, where `evaluation` is top level).",
    invalid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN,
                            "src/train.py": _HYDRA_TRAIN.replace("cfg.evaluation.interval_steps", "cfg.training.evaluation.interval_steps")})],
    valid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN, "src/train.py": _HYDRA_TRAIN})],
)
def config_path_missing(bundle: Bundle):
    from expreview.facts.hydra_config import base_config, config_uses, merged_configs

    if base_config(bundle) is None:
        return
    trees = merged_configs(bundle)
    sources = tuple(s for s in bundle.python_files() if s.ok)
    uses = [u for source in sources for u in config_uses(source, sources)]
    # A write defines its key when its parent exists (under open_dict or not: CFG008 judges that).
    defined = {u.path for u in uses if u.store and u.path and any(_exists(t, u.path[:-1]) for t in trees)}
    reported = set()
    for use in uses:
        path = use.path[:-1] if use.store else use.path
        if not path or any(_exists(t, path) for t in trees):
            continue
        if any(path[:len(d)] == d for d in defined):
            continue
        missing = _first_missing(trees, path)
        if path[missing] in _guard_keys(use.source):
            continue
        key = (use.source.path, path)
        if key in reported:
            continue
        reported.add(key)
        parent = ".".join(path[:missing]) or "the config root"
        yield Hit(use.source.path, f"`cfg.{'.'.join(use.path)}`: there is no `{path[missing]}` under {parent} in "
                                   "config/config.yaml merged with the run configs, so OmegaConf raises "
                                   "ConfigAttributeError here; use the path where the key really is", use.node)


@rule(
    code="CFG008", name="struct-merge-new-key", stages=("hydra",), severity=ERROR,
    criterion="Proper configuration structure: code does not add keys to Hydra's struct config "
              "(OmegaConf.merge/update or assignment) without open_dict or set_struct(False).",
    rationale="@hydra.main hands over a struct config; merging a run config with keys it lacks "
              "raises `Key 'run_id' is not in struct` before training starts (seed 004).",
    invalid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN,
                            "src/train.py": _HYDRA_TRAIN.replace("    with open_dict(cfg):\n        cfg = OmegaConf.merge(cfg, run_cfg)\n        cfg.run_id = cfg.run\n",
                                                                 "    cfg = OmegaConf.merge(cfg, run_cfg)\n")})],
    valid=[Example(files={"config/config.yaml": _HYDRA_CONFIG, "config/runs/r1.yaml": _RUN, "src/train.py": _HYDRA_TRAIN})],
)
def struct_merge_new_key(bundle: Bundle):
    from expreview.facts.hydra_config import (base_config, config_roots, config_uses, in_ranges, merged_configs,
                                   open_dict_statements, run_configs, struct_lifted, _root_path)

    base = base_config(bundle)
    if base is None:
        return
    run_keys: list[str] = []  # in file order: OmegaConf names the first new key it meets
    for _, run in run_configs(bundle):
        run_keys += [k for k in run if k not in run_keys]
    sources = tuple(s for s in bundle.python_files() if s.ok)
    for source in sources:
        if struct_lifted(source):
            continue
        lifted = open_dict_statements(source)
        roots = config_roots(source, sources)
        index = source.index
        for call in index.calls:
            if in_ranges(call.stmt, lifted):
                continue
            if call.name.endswith("OmegaConf.merge") and len(call.node.args) >= 2:
                target = dotted_name(call.node.args[0].value)
                if not target:
                    continue
                base_path = _root_path(source, target.split(".")[0], call.scope, roots)
                if base_path is None:
                    continue
                base_path += tuple(target.split(".")[1:])
                added: list[str] = []
                for arg in call.node.args[1:]:
                    added += [k for k in _merged_keys(source, arg.value, call.scope, run_keys) if k not in added]
                node = base
                for key in base_path:
                    node = node.get(key, {}) if isinstance(node, dict) else {}
                new = [k for k in added if not (isinstance(node, dict) and k in node)]
                if new:
                    yield Hit(source.path, f"merges keys that Hydra's struct config does not have ({', '.join(new[:5])}"
                                           f"{', …' if len(new) > 5 else ''}), which raises `Key '{new[0]}' is not in "
                                           "struct`; merge inside `with open_dict(cfg):` or add the keys to "
                                           "config/config.yaml", call.node)
            elif call.name.endswith("OmegaConf.update") and len(call.node.args) >= 2:
                if call.keyword("force_add") is not None:
                    continue
                key = string_value(call.node.args[1].value)
                target = dotted_name(call.node.args[0].value)
                if key is None or not target or _root_path(source, target.split(".")[0], call.scope, roots) is None:
                    continue
                if not _exists(base, tuple(key.split("."))) and key.split(".")[0] not in set(run_keys):
                    yield Hit(source.path, f"`OmegaConf.update(…, {key!r})` adds a key that the struct config does not "
                                           "have; pass force_add=True or use open_dict", call.node)
        trees = merged_configs(bundle)
        for use in config_uses(source, sources):
            if not use.store or not use.path or in_ranges(index.stmt_of.get(id(use.node), -1), lifted):
                continue
            parent = use.path[:-1]
            if any(_exists(t, parent) for t in trees) and not any(_exists(t, use.path) for t in trees):
                yield Hit(source.path, f"assigns `cfg.{'.'.join(use.path)}`, a key the struct config does not have; "
                                       "wrap the assignment in `with open_dict(cfg):`", use.node)


def _merged_keys(source, expr, scope, run_keys: list) -> list[str]:
    from expreview.facts.analysis import resolve

    value = resolve(source.index, expr, scope)
    if isinstance(value, cst.Dict):
        return [string_value(e.key) for e in value.elements
                if isinstance(e, cst.DictElement) and string_value(e.key)]
    if isinstance(value, cst.Call) and dotted_name(value.func).endswith(("OmegaConf.load", "OmegaConf.create")):
        return list(run_keys)
    return []
