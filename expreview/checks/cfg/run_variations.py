"""CFG: every run variation the prompt names is defined in both run configs, matched by a run's id
or by its parameters (CFG007)."""
from __future__ import annotations

import re
from typing import Iterator, Optional

import yaml

from expreview.bundle import Bundle
from expreview.checks.cfg.common import RUN_CONFIGS, RUN_ID_KEYS, RUN_LIST_KEYS
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.yamlfile import YamlSource


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
