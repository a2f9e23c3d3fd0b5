"""HYD003: the trial mode disables WandB, sets optuna.n_trials=0 and one epoch, and the full mode
sets wandb.mode="online" (older prompts: `trial_mode=true`)."""
from __future__ import annotations

import re
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.hyd.common import CONFIG_EXAMPLE, MAIN, MAIN_EXAMPLE, RUN_EXAMPLE
from expreview.facts.call_graph import reachable
from expreview.facts.launches import launches
from expreview.facts.project_imports import project_module
from expreview.facts.hydra_config import CONFIG, run_configs
from expreview.facts.literals import literal
from expreview.facts.task import task_type
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, dotted_name, string_value

TRAIN = "src/train.py"

_OVERRIDE = re.compile(r"^\+{0,2}([A-Za-z_][\w.]*)=(\S*)$")


def _override_value(text: str):
    try:
        return int(text)
    except ValueError:
        return text.strip("'\"")


# A training-length counter: any key counting epochs (`epochs`, `num_epochs`, `task_epochs`,
# `epochs_per_task`, `max_epoch`), or a total/maximum number of steps, updates or iterations.
# Not an epoch index (`best_epoch`, `start_epoch`).
_EPOCH_KEY = re.compile(r"(?i)epoch|\w*epochs\w*|(max|num|n|total)_?(train_|training_)?epoch"
                        r"|(total|max|num|n)_?(train_|training_)?(steps|updates|iters|iterations)")


_TRIALS = re.compile(r"(?i)(n|num|optuna)?_?trials")


def _is_epoch_key(name: str) -> bool:
    return bool(_EPOCH_KEY.fullmatch(name.rsplit(".", 1)[-1]))


def _target_name(expr: cst.CSTNode) -> str:
    """`cfg.training.epochs` for an attribute chain, also through string subscripts
    (`cfg["training"]["epochs"]`, `cfg.training["epochs"]`); '' for anything else."""
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1 and isinstance(expr.slice[0].slice, cst.Index):
        key = string_value(expr.slice[0].slice.value)
        head = _target_name(expr.value)
        return f"{head}.{key}" if head and key and not isinstance(expr.slice[0].slice.value, cst.FormattedString) else ""
    return dotted_name(expr)


def _dict_leaves(node: cst.CSTNode, prefix: str):
    """(dotted key, value) for the leaves of a dict literal (`{"training": {"epochs": 1}}`)."""
    if not isinstance(node, cst.Dict):
        return
    for el in node.elements:
        if not isinstance(el, cst.DictElement):
            continue
        key = string_value(el.key)
        if key is None or isinstance(el.key, cst.FormattedString):
            continue
        if isinstance(el.value, cst.Dict):
            yield from _dict_leaves(el.value, f"{prefix}.{key}")
        else:
            yield f"{prefix}.{key}", literal(el.value)


def _top_function(fn: Optional[Function]) -> Optional[str]:
    while fn is not None and fn.parent is not None:
        fn = fn.parent
    return fn.name if fn is not None else None


def train_process(bundle: Bundle) -> Optional[dict[str, Optional[set[str]]]]:
    """When src/main.py starts src/train.py as a child process: the code that runs in that process,
    as {file: the top-level functions of it that run (None: all of it)}: train.py itself, and the
    functions it imports from other project modules with what they call in their files."""
    main = bundle.parsed(MAIN)
    train = bundle.parsed(TRAIN)
    if main is None or train is None or not any(l.target == TRAIN for l in launches(main)):
        return None
    reached: dict[str, Optional[set[str]]] = {TRAIN: None}
    for imp in train.index.imports:
        module = project_module(imp)
        if module is None or imp.name is None:
            continue
        path = "/".join(module.split(".")) + ".py"
        other = bundle.parsed(path)
        fn = other.index.function(imp.name) if other is not None else None
        if other is None or fn is None or path == TRAIN:
            continue
        names = reached.setdefault(path, set())
        if names is not None:
            names |= reachable(other.index, fn)
    return reached


def _in_process(source, scope: Optional[Function], process: Optional[dict[str, Optional[set[str]]]]) -> bool:
    if process is None:
        return True
    if source.path not in process:
        return False
    names = process[source.path]
    return names is None or _top_function(scope) in names


def _assignments(bundle: Bundle, process: Optional[dict[str, Optional[set[str]]]] = None):
    """(dotted target, value) for every attribute assignment in the bundle (or in the code of one
    process, see train_process), and for the keys an `update`/`merge` call writes from a dict literal
    or keywords."""
    for source in bundle.python_files():
        if not source.ok:
            continue
        for ordinal, statement in enumerate(source.index.statements):
            if process is not None and not _in_process(source, source.index.scope_of(ordinal), process):
                continue
            if isinstance(statement, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
                for target in targets:
                    name = _target_name(target)
                    if name:
                        yield name, literal(statement.value)
        for call in source.index.calls:
            if process is not None and not _in_process(source, call.scope, process):
                continue
            if call.name.endswith("OmegaConf.update") and len(call.node.args) >= 3:
                key = string_value(call.node.args[1].value)
                if key:
                    yield "cfg." + key, literal(call.node.args[2].value)
            elif call.name.endswith(("OmegaConf.merge", ".merge_with", ".update")):
                receiver = _target_name(call.node.func.value) if isinstance(call.node.func, cst.Attribute) else ""
                prefix = "cfg" if call.name.endswith("OmegaConf.merge") else receiver or "cfg"
                for arg in call.node.args:
                    if arg.keyword is not None:
                        yield f"{prefix}.{arg.keyword.value}", literal(arg.value)
                    else:
                        yield from _dict_leaves(arg.value, prefix)
        for s in source.index.strings:  # Hydra overrides handed to a child: "wandb.mode=disabled"
            match = _OVERRIDE.match(s.value)
            if match:
                yield "cfg." + match.group(1), _override_value(match.group(2))


_LAUNCHING_MAIN = MAIN_EXAMPLE.replace("import hydra\n", "import subprocess\nimport sys\n\nimport hydra\n").replace(
    "    return run_cfg\n",
    "    subprocess.run([sys.executable, '-m', 'src.train', f'run={cfg.run}', f'mode={cfg.mode}'], check=True)\n")
_TRAIN_CHILD = (
    "import hydra\n\n\n@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)\n"
    "def main(cfg):\n    print(cfg.run)\n"
)


_TEMPLATE_TRAIN = """
import hydra


@hydra.main(config_path="../config", config_name="config", version_base=None)
def main(cfg):
    if cfg.mode == "sanity":
        cfg.run.training.epochs = 1
        cfg.run.optuna.n_trials = 0
    return cfg.run.training.epochs
"""


@rule(
    code="HYD003", name="mode-handling", severity=ERROR,
    consequence=CRITERION,
    criterion="Code must automatically configure based on mode: `mode == \"trial\"` sets "
              "`wandb.mode=\"disabled\"`, `optuna.n_trials=0` and one epoch; `mode == \"full\"` sets "
              "`wandb.mode=\"online\"` (older prompts: `trial_mode=true`).",
    rationale="The pipeline's trial run checks that the code runs; without the overrides it trains "
              "for hours, logs to WandB and runs the whole Optuna study.",
    invalid=[Example(files={MAIN: MAIN_EXAMPLE.replace("            cfg.wandb.mode = \"disabled\"\n", ""), CONFIG: CONFIG_EXAMPLE}, line=8),
             # the trial branch shortens nothing that counts epochs or steps, and a run trains for 3 epochs
             Example(files={MAIN: MAIN_EXAMPLE.replace("cfg.training.epochs = 1", "cfg.training.batch_size = 2"),
                            CONFIG: CONFIG_EXAMPLE, "config/runs/r1.yaml": RUN_EXAMPLE}, line=8, message="epochs = 1"),
             # main applies the trial mode, but src.train composes its config again in its own process
             Example(files={MAIN: _LAUNCHING_MAIN, TRAIN: _TRAIN_CHILD, CONFIG: CONFIG_EXAMPLE},
                     message="src.train runs in its own process"),
             # the template stage: a training task whose sanity branch leaves the Optuna study as it is
             Example(files={TRAIN: _TEMPLATE_TRAIN.replace("        cfg.run.optuna.n_trials = 0\n", "")}, stage="template",
                     line=6, message="the sanity mode does not set optuna.n_trials = 0")],
    valid=[Example(files={MAIN: MAIN_EXAMPLE, CONFIG: CONFIG_EXAMPLE}),
           # the template's sanity mode keeps WandB online; an inference task has no epochs to cut
           Example(files={TRAIN: _TEMPLATE_TRAIN}, stage="template"),
           # the Optuna section through a variable of its own
           Example(files={TRAIN: _TEMPLATE_TRAIN.replace("        cfg.run.optuna.n_trials = 0\n",
                                                          "        search = cfg.run.optuna\n        search.n_trials = 0\n")},
                   stage="template"),
           Example(files={"src/inference.py": _TEMPLATE_TRAIN.replace("        cfg.run.optuna.n_trials = 0\n", "")},
                   stage="template"),
           # the child gets the trial settings: from the overrides main passes, or from main's own function
           Example(files={MAIN: _LAUNCHING_MAIN.replace("f'mode={cfg.mode}'", "f'mode={cfg.mode}', 'wandb.mode=disabled'"),
                          TRAIN: _TRAIN_CHILD, CONFIG: CONFIG_EXAMPLE}),
           Example(files={MAIN: _LAUNCHING_MAIN.replace("def main(cfg: DictConfig) -> None:\n    with open_dict(cfg):",
                                                        "def main(cfg: DictConfig) -> None:\n    apply_mode(cfg)\n\n\n"
                                                        "def apply_mode(cfg):\n    with open_dict(cfg):"),
                          TRAIN: _TRAIN_CHILD.replace("import hydra\n", "import hydra\nfrom src.main import apply_mode\n")
                          .replace("    print(cfg.run)\n", "    apply_mode(cfg)\n    print(cfg.run)\n"),
                          CONFIG: CONFIG_EXAMPLE}),
           # any epoch counter counts, by attribute, by subscript, or merged from a dict literal
           Example(files={MAIN: MAIN_EXAMPLE.replace("cfg.training.epochs = 1", "cfg.training.task_epochs = 1"), CONFIG: CONFIG_EXAMPLE}),
           Example(files={MAIN: MAIN_EXAMPLE.replace("cfg.training.epochs = 1", "cfg[\"training\"][\"n_epochs\"] = 1"),
                          CONFIG: CONFIG_EXAMPLE}),
           Example(files={MAIN: MAIN_EXAMPLE.replace("cfg.training.epochs = 1",
                                              "cfg = OmegaConf.merge(cfg, {\"training\": {\"max_epochs\": 1}})")
                          .replace("import DictConfig,", "import DictConfig, OmegaConf,"), CONFIG: CONFIG_EXAMPLE}),
           Example(files={MAIN: MAIN_EXAMPLE.replace("cfg.training.epochs = 1", "cfg.training.total_updates = 1"), CONFIG: CONFIG_EXAMPLE}),
           # every run config already trains for at most one epoch (inference only): nothing to shorten
           Example(files={MAIN: MAIN_EXAMPLE.replace("cfg.training.epochs = 1", "cfg.training.batch_size = 2"),
                          CONFIG: CONFIG_EXAMPLE, "config/runs/r1.yaml": RUN_EXAMPLE.replace("epochs: 3", "epochs: 0")})],
)
def mode_handling(bundle: Bundle) -> Iterator[Hit]:
    flag = bundle.option("mode_flag", "mode")
    # The template stage names its trial mode `sanity` (`sanity_check` before 2026-03-12), keeps WandB
    # online there (TPL003 judges its project), and shortens only a training task's run.
    modes = bundle.option("modes")
    trial = str(modes.get("sanity", "trial")) if isinstance(modes, dict) else "trial"
    disables_wandb = bundle.option("trial_wandb", "disabled") == "disabled"
    if isinstance(modes, dict) and task_type(bundle) != "training":
        return
    texts = {s.value for source in bundle.python_files() if source.ok for s in source.index.strings}
    if flag == "mode" and trial not in texts:
        asked = "wandb disabled, optuna.n_trials=0, one epoch" if disables_wandb else "optuna.n_trials=0, one epoch"
        yield Hit(MAIN, f"no file checks `cfg.mode == \"{trial}\"`; handle the {trial} mode ({asked})")
        return
    assigned = list(_assignments(bundle))
    where = _mode_branch(bundle, trial)
    env_disabled = any("WANDB_MODE" in t for t in texts) and "disabled" in texts

    def sets(suffix, value=None):
        return any(name.endswith(suffix) and (value is None or v == value) for name, v in assigned)

    missing = []
    if disables_wandb and not (sets("wandb.mode", "disabled") or env_disabled):
        missing.append('wandb.mode = "disabled"')
    if flag == "mode":  # the older trial_mode prompts ask only for WandB to be disabled
        # by its key, whatever the variable holding the Optuna section is called (`search.n_trials = 0`)
        if not any(_TRIALS.fullmatch(name.rsplit(".", 1)[-1]) and value == 0 for name, value in assigned):
            missing.append("optuna.n_trials = 0")
        if not any(_is_epoch_key(name) for name, _ in assigned) and not _runs_already_short(bundle):
            missing.append("epochs = 1")
    if missing:
        when = f'cfg.mode == "{trial}"' if flag == "mode" else "cfg.trial_mode is true"
        them = "them" if len(missing) > 1 else "it"
        yield Hit(where[0], f"the {trial} mode does not set {', '.join(missing)}; set {them} when {when}", where[1])
    if not disables_wandb:
        return
    if flag == "mode" and not sets("wandb.mode", "online"):
        yield Hit(where[0], "the full mode does not set wandb.mode = \"online\"; set it when cfg.mode == \"full\"",
                  where[1])
    if missing:
        return
    # main's settings do not reach a child process: src.train composes its own config from the command
    # line, so the train process itself (or the overrides main hands it) must apply the trial settings
    process = train_process(bundle)
    if process is None:
        return
    child = list(_assignments(bundle, process))
    if not any(name.endswith("wandb.mode") and value == "disabled" for name, value in child) and not env_disabled:
        launch = next(l for l in launches(bundle.parsed(MAIN)) if l.target == TRAIN)  # type: ignore[arg-type]
        yield Hit(MAIN, "the trial-mode settings (wandb.mode = \"disabled\", …) are applied in src/main.py, but "
                        "src.train runs in its own process and composes its config again from the command line, "
                        "so the trial run trains with WandB online; apply the mode in src/train.py too (or pass "
                        "`wandb.mode=disabled` to the child)", launch.node)


_NOT_A_LENGTH = re.compile(r"(?i)warmup|patience|every|interval|eval|save|log|freq")


def _runs_already_short(bundle: Bundle) -> bool:
    """Every run config counts its epochs and no training-length counter exceeds one (an
    inference-only study with `epochs: 0`): the trial mode has nothing to shorten."""
    runs = run_configs(bundle)

    def counters(data, key: str = ""):
        if isinstance(data, dict):
            for k, v in data.items():
                yield from counters(v, str(k))
        elif key and _is_epoch_key(key) and not _NOT_A_LENGTH.search(key):
            yield data

    found = [list(counters(data)) for _, data in runs]
    return bool(runs) and all(found) and all(
        isinstance(v, int) and not isinstance(v, bool) and v <= 1 for values in found for v in values)


def _mode_branch(bundle: Bundle, trial: str = "trial"):
    """(path, node) of the first `… == "trial"` test (or any mention of trial_mode), else main."""
    for source in bundle.python_files():
        if not source.ok:
            continue
        for s in source.index.strings:
            if s.value == trial and id(s.node) in source.index.compared:
                return source.path, s.node
        for attr in source.index.attributes:
            if attr.name.endswith("trial_mode"):
                return source.path, attr.node
    return MAIN, None
