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
            """}),
             # an earlier test that does not return lets the name through to the dispatch
             Example(files={
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: dummy
            """,
        "src/preprocess.py": """
            def _factory(name):
                if name == 'cifar10':
                    return 1
                raise NotImplementedError(f'dataset {name}')


            def get_data(cfg):
                name = cfg['dataset']['name']
                if name == 'dummy':
                    print('using the dummy dataset')
                return _factory(name)
            """}, line=4, message="dataset.name: dummy"),
             # a prefix test handles the names it starts, not others
             Example(files={
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                model:
                  name: vit_b16
            """,
        "src/model.py": """
            def build_model(cfg):
                name = cfg['model']['name']
                if name.startswith('resnet'):
                    return 1
                if name in ('mlp', 'cnn'):
                    return 2
                raise ValueError(f'unknown model {name}')
            """}, line=4, message="resnet*")],
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
            """}),
           # handled before the dispatch: the caller returns for `dummy` before calling the factory
           Example(files={
        "src/preprocess.py": """
            def _factory(name):
                if name == 'cifar10':
                    return 1
                raise NotImplementedError(f'dataset {name}')


            def get_data(cfg):
                name = cfg['dataset']['name']
                if name == 'dummy':
                    return 0
                return _factory(name)
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                dataset:
                  name: dummy
            """}),
           # a prefix test (`startswith`) and `in (...)`/`in {...}` membership handle their names
           Example(files={
        "src/model.py": """
            SMALL = frozenset({'mlp', 'cnn'})


            def build_model(cfg):
                name = cfg['model']['name'].lower()
                if name.startswith('resnet'):
                    return 1
                if name in ('vit_b16', 'vit_s16') or name in SMALL:
                    return 2
                raise ValueError(f'unknown model {name}')
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                model:
                  name: ResNet50
              - run_id: b
                model:
                  name: vit_b16
              - run_id: c
                model:
                  name: cnn
            """}),
           # the raise of another variable's chain is not where an unhandled task goes
           Example(files={
        "src/train.py": """
            def train(cfg):
                task = cfg['task']['name']
                if task == 'classification':
                    head = 'softmax'
                else:
                    head = 'lm'
                optimizer = cfg['training']['optimizer']
                if optimizer == 'sgd':
                    return head, 1
                else:
                    raise ValueError(f'unknown optimizer {optimizer}')
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: a
                task:
                  name: language_modeling
                training:
                  optimizer: sgd
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


def _run_entries(doc: Optional[YamlSource]) -> Optional[list[tuple[str, yaml.Node, yaml.Node]]]:
    """(run id, the node holding the id, the run's entry) for each run the file defines."""
    if doc is None or doc.node is None or not isinstance(doc.data, (dict, list)):
        return None
    entries: list[tuple[str, yaml.Node, yaml.Node]] = []
    lists = [doc.node] if isinstance(doc.node, yaml.SequenceNode) else [
        v for k, v in doc.node.value if isinstance(v, (yaml.SequenceNode, yaml.MappingNode))
        and getattr(k, "value", None) in RUN_LIST_KEYS]
    for keyed in (v for v in lists if isinstance(v, yaml.MappingNode)):  # runs keyed by their id
        entries += [(str(k.value), k, v) for k, v in keyed.value if isinstance(k, yaml.ScalarNode)]
    for seq in (v for v in lists if isinstance(v, yaml.SequenceNode)):
        for item in seq.value:
            if isinstance(item, yaml.MappingNode):
                for k, v in item.value:
                    if getattr(k, "value", None) in RUN_ID_KEYS and isinstance(v, yaml.ScalarNode):
                        entries.append((str(v.value), v, item))
                        break
    return entries


# -- how a run variation id matches a run entry -----------------------------
# Ids are compared as word sequences, case-, punctuation- and spacing-blind (`bn-adapt` ~ `BN_Adapt`
# ~ `bnadapt`), with Greek letters spelled (`α` ~ `alpha`) or dropped, and a generic trailing
# suffix (`ZORRO-full` ~ `zorro`) optional.
_GREEK = {"α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
          "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi",
          "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
          "χ": "chi", "ψ": "psi", "ω": "omega"}
_GREEK_NAMES = frozenset(_GREEK.values())
_GENERIC_SUFFIXES = frozenset({"full", "default", "complete", "std", "standard", "all"})


def _words(text: str) -> list[str]:
    """The lower-case words of an id: `ATW-BOIL noLogistic` -> atw, boil, no, logistic."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", text).lower()
    text = "".join(f"-{_GREEK[ch]}-" if ch in _GREEK else ch for ch in text)
    return [w for w in re.split(r"[^a-z0-9]+", text) if w]


def _forms(words: list[str]) -> set[str]:
    """The spellings a variation id may take in a run id, each as its words joined."""
    forms = {"".join(words)}
    no_greek = [w for w in words if w not in _GREEK_NAMES]
    for variant in (words, no_greek):
        forms.add("".join(variant))
        if len(variant) > 1 and variant[-1] in _GENERIC_SUFFIXES:
            forms.add("".join(variant[:-1]))
    # a shortened spelling keeps a word: `α-0.1` does not become `01`
    return {f for f in forms if re.search(r"[a-z]", f)} or {"".join(words)}


def _spans(forms: set[str], words: list[str]) -> list[tuple[int, int]]:
    """Where a run id's consecutive words spell one of `forms`."""
    return [(i, j) for i in range(len(words)) for j in range(i + 1, len(words) + 1) if "".join(words[i:j]) in forms]


_OFF_PREFIXES = ("no", "without", "wo", "disable", "disabled", "remove", "drop")
_ON_PREFIXES = ("use", "enable", "enabled", "with", "apply")


def _named_parameters(entry: yaml.Node) -> tuple[set[str], dict[str, bool]]:
    """The run entry's string values (each as its words joined) and its switches: `disable_gate: true`
    and `use_gate: false` both say gate -> False."""
    values: set[str] = set()
    switches: dict[str, bool] = {}
    stack = [entry]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode) \
                        and value.tag.endswith(":bool"):
                    words = _words(str(key.value))
                    on = value.value.lower() in ("true", "yes", "on")
                    if len(words) > 1 and words[0] in _OFF_PREFIXES:
                        switches["".join(words[1:])] = not on
                    elif len(words) > 1 and words[0] in _ON_PREFIXES:
                        switches["".join(words[1:])] = on
                    elif words:
                        switches.setdefault("".join(words), on)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.ScalarNode) and isinstance(node.value, str) and node.tag.endswith(":str"):
            values.add("".join(_words(node.value)))
    return values, switches


def _switched_off(words: list[str]) -> Optional[str]:
    """`no-fisher`, `without_gate`, `w/o rollback`: the component an ablation turns off."""
    if len(words) > 1 and words[0] in ("no", "without"):
        return "".join(words[1:])
    if len(words) > 2 and words[:2] == ["w", "o"]:
        return "".join(words[2:])
    return None


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
            """}, line=2),
             # a generic suffix is optional only when no other variation is the short id
             Example(run_variations=["zorro", "zorro-full"], files={
        "config/smoke_test.yaml": """
            runs:
              - run_id: smoke_zorro
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: zorro
              - run_id: zorro_full
            """}, line=2, message="variation zorro-full"),
             # an ablation keeps the method it ablates: its parameters do not name the full method
             Example(run_variations=["ZORRO-full", "no-fisher"], files={
        "config/smoke_test.yaml": """
            runs:
              - run_id: smoke_no_fisher
                method: zorro
                disable_fisher: true
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: zorro_full
              - run_id: no_fisher
            """}, line=2, message="variation ZORRO-full")],
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
            """}),
           # ids match blind to case and punctuation, Greek letters spelled or dropped, a `-full` suffix
           Example(run_variations=["BN-Adapt", "ZORRO-full", "ATW-BOIL-noLogistic", "λ-decay"], files={
        "config/smoke_test.yaml": """
            runs:
              - run_id: smoke_bnadapt
              - run_id: smoke_zorro
              - run_id: smoke_atw_boil_no_logistic
              - run_id: smoke_lambda_decay
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: cifar.bn adapt
              - run_id: cifar-ZORRO_default
              - run_id: cifar-atw-boil-nologistic
              - run_id: cifar_decay
            """}),
           # an entry matches the variation its parameters name
           Example(run_variations=["source-frozen", "no-fisher"], files={
        "config/smoke_test.yaml": """
            runs:
              - run_id: smoke_source
                method: source_frozen
              - run_id: smoke_ablation_1
                training:
                  disable_fisher: true
            """,
        "config/full_experiment.yaml": """
            runs:
              - run_id: source-frozen
              - run_id: no-fisher
            """})],
)
def run_variation_missing(bundle: Bundle) -> Iterator[Hit]:
    if not bundle.run_variations:
        return
    variations = list(bundle.run_variations)
    words = {v: _words(v) for v in variations}
    exact = {v: "".join(w) for v, w in words.items()}
    # a variation's shortened spellings that another variation's id spells are no longer its own
    forms = {v: {f for f in _forms(words[v]) if f == exact[v] or f not in
                 {exact[o] for o in variations if o != v}} for v in variations}
    for path in RUN_CONFIGS:
        entries = _run_entries(bundle.yaml(path))
        if entries is None:
            continue
        ids = [(run_id, node) for run_id, node, _ in entries]

        def named_by_id(variation: str, run_id: str) -> bool:
            # the whole id, or words of a prefixed/suffixed id (`smoke_baseline`) that no other
            # variation names better (`proposed` is not in `proposed_no_warmup` when both are variations)
            run_words = _words(run_id)
            mine = _spans(forms[variation], run_words)
            if (0, len(run_words)) in mine:
                return True
            theirs = [span for other in variations if other != variation for span in _spans(forms[other], run_words)]
            return any(not any(a <= i and j <= b and (a, b) != (i, j) for a, b in theirs) for i, j in mine)

        def named_by_parameters(variation: str, run_id: str, entry: yaml.Node) -> bool:
            # the entry's parameters name it: `method: source_frozen`, or `disable_fisher: true` for
            # `no-fisher`; not when its id names another variation (an ablation keeps `method: zorro`)
            if any(named_by_id(other, run_id) for other in variations if other != variation):
                return False
            values, switches = _named_parameters(entry)
            if forms[variation] & values:
                return True
            off = _switched_off(words[variation])
            return off is not None and switches.get(off) is False

        missing = [v for v in variations if not any(
            named_by_id(v, run_id) or named_by_parameters(v, run_id, entry) for run_id, _, entry in entries)]
        if missing:
            have = ", ".join(i for i, _ in ids) or "no runs"
            yield Hit(path, f"{path} lacks the run variation{'s' * (len(missing) > 1)} {', '.join(missing)} "
                            f"(it defines {have}); add one entry per variation", ids[0][1] if ids else 1)
