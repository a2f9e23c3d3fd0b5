"""HYD: Hydra wiring, run configs, mode handling, caches and WandB settings (hydra stage)."""
from __future__ import annotations

from typing import Iterator, Optional

import posixpath
import re

import libcst as cst

from expreview.bundle import Bundle
from expreview.facts.hydra_config import CONFIG, base_config, hydra_main, run_configs
from expreview.facts.literals import literal
from expreview.facts.pretrained import loads_local_directory
from expreview.facts.values import resolve
from expreview.findings import CRASH, CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Function, dotted_name, keyword_argument, string_value
from expreview.sources.pyfile import PythonSource

MAIN = "src/main.py"
_CONFIG = "defaults:\n  - _self_\nrun: null\nmode: full\nresults_dir: outputs\nwandb:\n  entity: me\n  project: exp\n  mode: online\n"
_MAIN = (
    "import hydra\nfrom omegaconf import DictConfig, open_dict\n\n\n"
    "@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)\n"
    "def main(cfg: DictConfig) -> None:\n    with open_dict(cfg):\n        if cfg.mode == \"trial\":\n"
    "            cfg.wandb.mode = \"disabled\"\n            cfg.optuna.n_trials = 0\n            cfg.training.epochs = 1\n"
    "        elif cfg.mode == \"full\":\n            cfg.wandb.mode = \"online\"\n"
    "    run_cfg = f\"config/runs/{cfg.run}.yaml\"\n    return run_cfg\n"
)
_RUN = "run_id: r1\nmethod: proposed\nmodel:\n  name: mlp\ndataset:\n  name: digits\ntraining:\n  epochs: 3\noptuna:\n  n_trials: 0\n"


@rule(
    code="HYD001", name="hydra-entry-point", severity=ERROR,
    consequence=CRASH,
    criterion="Uses Hydra to manage all experiment configurations: src/main.py has `@hydra.main` "
              "whose config_path/config_name resolve to config/config.yaml from src/.",
    rationale="`python -m src.main run=… results_dir=… mode=…` only works through Hydra; a wrong "
              "config_path fails with MissingConfigException before anything runs.",
    invalid=[Example(files={MAIN: _MAIN.replace('"../config"', '"config"'), CONFIG: _CONFIG}, line=5),
             Example(files={MAIN: """
                 import argparse
                 p = argparse.ArgumentParser()
                 """, CONFIG: _CONFIG}, line=1),
             # a constant or a __file__ path that points at src/config, not config/
             Example(files={MAIN: _MAIN.replace('config_path="../config"', 'config_path=CONFIG_DIR')
                            .replace("\n\n\n@hydra", "\nCONFIG_DIR = \"config\"\n\n\n@hydra"), CONFIG: _CONFIG},
                     line=6, message="resolves to src/config/config.yaml"),
             Example(files={MAIN: _MAIN.replace("import hydra\n", "import os\n\nimport hydra\n").replace(
                 'config_path="../config"', 'config_path=os.path.join(os.path.dirname(__file__), "config")'),
                 CONFIG: _CONFIG}, line=7, message="resolves to src/config/config.yaml")],
    valid=[Example(files={MAIN: _MAIN, CONFIG: _CONFIG}),
           # a module constant, or a path built from __file__, that points at config/ from src/
           Example(files={MAIN: _MAIN.replace('config_path="../config"', 'config_path=CONFIG_DIR')
                          .replace("\n\n\n@hydra", "\nCONFIG_DIR = \"../config\"\n\n\n@hydra"), CONFIG: _CONFIG}),
           Example(files={MAIN: _MAIN.replace("import hydra\n", "import os\n\nimport hydra\n").replace(
               'config_path="../config"', 'config_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config")'),
               CONFIG: _CONFIG}),
           Example(files={MAIN: _MAIN.replace("import hydra\n", "from pathlib import Path\n\nimport hydra\n").replace(
               'config_path="../config"', 'config_path=str(Path(__file__).resolve().parent.parent / "config")'),
               CONFIG: _CONFIG})],
)
def hydra_entry_point(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.python(MAIN)
    if source is None or not source.ok:
        return
    found = hydra_main(source)
    if found is None:
        yield Hit(MAIN, "src/main.py has no `@hydra.main`; decorate main with "
                        "`@hydra.main(config_path=\"../config\", config_name=\"config\", version_base=None)`")
        return
    fn, deco = found
    path_arg = keyword_argument(deco.decorator, "config_path")
    if path_arg is None and isinstance(deco.decorator, cst.Call) and deco.decorator.args \
            and deco.decorator.args[0].keyword is None:
        path_arg = deco.decorator.args[0].value
    name_arg = keyword_argument(deco.decorator, "config_name")
    config_dir = _repo_path(source, path_arg, None, from_file=True) if path_arg is not None else None
    config_name = literal(resolve(source.index, name_arg, None)) if name_arg is not None else None
    if path_arg is None or dotted_name(path_arg) == "None" or not isinstance(config_name, str):
        yield Hit(MAIN, "`@hydra.main` does not name config_path and config_name; pass "
                        "config_path=\"../config\", config_name=\"config\"", deco)
        return
    if config_dir is None:
        return  # a config_path computed in a way this check does not follow: not judged
    resolved = posixpath.normpath(posixpath.join(config_dir, config_name if config_name.endswith(".yaml")
                                                 else config_name + ".yaml"))
    if resolved != CONFIG:
        written = literal(path_arg)
        config_path = repr(written) if isinstance(written, str) else source.code(path_arg)
        yield Hit(MAIN, f"`@hydra.main(config_path={config_path}, config_name={config_name!r})` resolves to "
                        f"{resolved} from src/, not {CONFIG}; use config_path=\"../config\", config_name=\"config\"",
                  deco)


@rule(
    code="HYD002", name="run-configs-location", severity=ERROR,
    consequence=CRASH,
    criterion="Uses Hydra to manage all experiment configurations from `config/runs/*.yaml` "
              "(profile option `runs_dir`).",
    rationale="`run={run_id}` must select `{runs_dir}/{run_id}.yaml`; run configs anywhere else are "
              "never loaded.",
    invalid=[Example(files={MAIN: _MAIN.replace("config/runs/", "configs/"), CONFIG: _CONFIG, "config/runs/r1.yaml": _RUN}, line=1)],
    valid=[Example(files={MAIN: _MAIN, CONFIG: _CONFIG, "config/runs/r1.yaml": _RUN}),
           Example(files={MAIN: _MAIN.replace("    run_cfg = f\"config/runs/{cfg.run}.yaml\"\n", "    run_cfg = cfg.run\n"),
                          CONFIG: _CONFIG.replace("  - _self_\n", "  - _self_\n  - runs@run: r1\n"),
                          "config/runs/r1.yaml": _RUN})],
)
def run_configs_location(bundle: Bundle) -> Iterator[Hit]:
    runs_dir = bundle.option("runs_dir", "config/runs")
    group = runs_dir.rsplit("/", 1)[-1]
    misplaced = [p for p in bundle.paths() if re.match(r"config/runs?/[^/]+\.ya?ml$", p) and not p.startswith(runs_dir + "/")]
    for path in misplaced:
        yield Hit(path, f"{path} is outside {runs_dir}/, where run configs belong under this profile; move it")
    doc = bundle.yaml(CONFIG)
    defaults = doc.data.get("defaults") if doc is not None and isinstance(doc.data, dict) else None
    if isinstance(defaults, list):
        for item in defaults:
            keys = [str(k) for k in item] if isinstance(item, dict) else [str(item)]
            if any(k.split("@")[0].lstrip("/").split("/")[0] == group for k in keys):
                return  # the run configs are a Hydra config group
    for source in bundle.python_files():
        for s in source.index.strings:
            if f"{runs_dir}/" in s.value or re.search(rf"(^|/){re.escape(group)}/?$", s.value) or s.value == group:
                return
    yield Hit(MAIN, f"no file loads the run configs from {runs_dir}/ (neither a `{group}` config group in "
                    f"config/config.yaml nor a path to {runs_dir}/{{run}}.yaml); `run=<id>` selects nothing")


_ROOT = "/@repository"  # where a path built from __file__ starts: the file's own path under it
_PASS_THROUGH = ("os.path.abspath", "os.path.realpath", "os.path.normpath", "str", "os.fspath", "Path",
                 "pathlib.Path")


def _repo_path(source: PythonSource, node: cst.CSTNode, scope: Optional[Function],
               from_file: bool = False) -> Optional[str]:
    """The repository-relative path an expression spells, when it is built from string constants
    and `__file__` (`os.path.join(os.path.dirname(__file__), "..", "config")`,
    `str(Path(__file__).parent.parent / "config")`, a module constant holding either); None when it
    is computed otherwise. A relative path is relative to the file's directory when `from_file`
    (how Hydra reads config_path), else to the repository."""
    found = _anchored_path(source, node, scope, 0)
    if found is None:
        return None
    if found.startswith("/"):  # built from __file__, from the repository root _ROOT
        return posixpath.relpath(found, _ROOT)
    return posixpath.normpath(posixpath.join(posixpath.dirname(source.path), found)) if from_file else found


def _anchored_path(source: PythonSource, node: cst.CSTNode, scope: Optional[Function], depth: int) -> Optional[str]:
    if depth > 12:
        return None

    def sub(expr: cst.CSTNode) -> Optional[str]:
        return _anchored_path(source, expr, scope, depth + 1)

    node = resolve(source.index, node, scope)
    text = literal(node)
    if isinstance(text, str) and not isinstance(node, cst.FormattedString):
        return None if text.startswith("/") else text  # a machine's absolute path: not judged
    if isinstance(node, cst.Name) and node.value == "__file__":
        return f"{_ROOT}/{source.path}"
    if dotted_name(node) in ("os.pardir", "os.curdir"):
        return ".." if dotted_name(node) == "os.pardir" else "."
    if isinstance(node, cst.Call):
        name = dotted_name(node.func)
        args = [a.value for a in node.args if a.keyword is None and not a.star]
        if name in ("os.path.dirname", "dirname") and len(args) == 1:
            inner = sub(args[0])
            return posixpath.dirname(inner) if inner is not None else None
        if name in ("os.path.join", "join") and args:
            parts = [sub(a) for a in args]
            known = [p for p in parts if p is not None]
            return posixpath.normpath(posixpath.join(*known)) if len(known) == len(parts) else None
        if name in _PASS_THROUGH and len(args) == 1:
            return sub(args[0])
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("resolve", "absolute") and not args:
            return sub(node.func.value)
        return None
    if isinstance(node, cst.Attribute) and node.attr.value == "parent":
        inner = sub(node.value)
        return posixpath.dirname(inner) if inner is not None else None
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Attribute) \
            and node.value.attr.value == "parents" and len(node.slice) == 1 \
            and isinstance(node.slice[0].slice, cst.Index):
        level = literal(node.slice[0].slice.value)
        inner = sub(node.value.value)
        if not isinstance(level, int) or isinstance(level, bool) or inner is None:
            return None
        for _ in range(level + 1):
            inner = posixpath.dirname(inner)
        return inner
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Divide):
        left, right = sub(node.left), sub(node.right)
        return posixpath.normpath(posixpath.join(left, right)) if left is not None and right is not None else None
    return None


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


def _assignments(bundle: Bundle):
    """(dotted target, value) for every attribute assignment in the bundle, and for the keys an
    `update`/`merge` call writes from a dict literal or keywords."""
    for source in bundle.python_files():
        if not source.ok:
            continue
        for statement in source.index.statements:
            if isinstance(statement, (cst.Assign, cst.AnnAssign)):
                targets = [t.target for t in statement.targets] if isinstance(statement, cst.Assign) else [statement.target]
                for target in targets:
                    name = _target_name(target)
                    if name:
                        yield name, literal(statement.value)
        for call in source.index.calls:
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


@rule(
    code="HYD003", name="mode-handling", severity=ERROR,
    consequence=CRITERION,
    criterion="Code must automatically configure based on mode: `mode == \"trial\"` sets "
              "`wandb.mode=\"disabled\"`, `optuna.n_trials=0` and one epoch; `mode == \"full\"` sets "
              "`wandb.mode=\"online\"` (older prompts: `trial_mode=true`).",
    rationale="The pipeline's trial run checks that the code runs; without the overrides it trains "
              "for hours, logs to WandB and runs the whole Optuna study.",
    invalid=[Example(files={MAIN: _MAIN.replace("            cfg.wandb.mode = \"disabled\"\n", ""), CONFIG: _CONFIG}, line=8),
             # the trial branch shortens nothing that counts epochs or steps, and a run trains for 3 epochs
             Example(files={MAIN: _MAIN.replace("cfg.training.epochs = 1", "cfg.training.batch_size = 2"),
                            CONFIG: _CONFIG, "config/runs/r1.yaml": _RUN}, line=8, message="epochs = 1")],
    valid=[Example(files={MAIN: _MAIN, CONFIG: _CONFIG}),
           # any epoch counter counts, by attribute, by subscript, or merged from a dict literal
           Example(files={MAIN: _MAIN.replace("cfg.training.epochs = 1", "cfg.training.task_epochs = 1"), CONFIG: _CONFIG}),
           Example(files={MAIN: _MAIN.replace("cfg.training.epochs = 1", "cfg[\"training\"][\"n_epochs\"] = 1"),
                          CONFIG: _CONFIG}),
           Example(files={MAIN: _MAIN.replace("cfg.training.epochs = 1",
                                              "cfg = OmegaConf.merge(cfg, {\"training\": {\"max_epochs\": 1}})")
                          .replace("import DictConfig,", "import DictConfig, OmegaConf,"), CONFIG: _CONFIG}),
           Example(files={MAIN: _MAIN.replace("cfg.training.epochs = 1", "cfg.training.total_updates = 1"), CONFIG: _CONFIG}),
           # every run config already trains for at most one epoch (inference only): nothing to shorten
           Example(files={MAIN: _MAIN.replace("cfg.training.epochs = 1", "cfg.training.batch_size = 2"),
                          CONFIG: _CONFIG, "config/runs/r1.yaml": _RUN.replace("epochs: 3", "epochs: 0")})],
)
def mode_handling(bundle: Bundle) -> Iterator[Hit]:
    flag = bundle.option("mode_flag", "mode")
    texts = {s.value for source in bundle.python_files() if source.ok for s in source.index.strings}
    if flag == "mode" and "trial" not in texts:
        yield Hit(MAIN, "no file checks `cfg.mode == \"trial\"`; handle the trial mode (wandb disabled, "
                        "optuna.n_trials=0, one epoch)")
        return
    assigned = list(_assignments(bundle))
    where = _mode_branch(bundle)
    env_disabled = any("WANDB_MODE" in t for t in texts) and "disabled" in texts

    def sets(suffix, value=None):
        return any(name.endswith(suffix) and (value is None or v == value) for name, v in assigned)

    missing = []
    if not (sets("wandb.mode", "disabled") or env_disabled):
        missing.append('wandb.mode = "disabled"')
    if flag == "mode":  # the older trial_mode prompts ask only for WandB to be disabled
        if not sets("optuna.n_trials", 0):
            missing.append("optuna.n_trials = 0")
        if not any(_is_epoch_key(name) for name, _ in assigned) and not _runs_already_short(bundle):
            missing.append("epochs = 1")
    if missing:
        when = 'cfg.mode == "trial"' if flag == "mode" else "cfg.trial_mode is true"
        them = "them" if len(missing) > 1 else "it"
        yield Hit(where[0], f"the trial mode does not set {', '.join(missing)}; set {them} when {when}", where[1])
    if flag == "mode" and not sets("wandb.mode", "online"):
        yield Hit(where[0], "the full mode does not set wandb.mode = \"online\"; set it when cfg.mode == \"full\"",
                  where[1])


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


def _mode_branch(bundle: Bundle):
    """(path, node) of the first `… == "trial"` test (or any mention of trial_mode), else main."""
    for source in bundle.python_files():
        if not source.ok:
            continue
        for s in source.index.strings:
            if s.value == "trial" and id(s.node) in source.index.compared:
                return source.path, s.node
        for attr in source.index.attributes:
            if attr.name.endswith("trial_mode"):
                return source.path, attr.node
    return MAIN, None


_SECTIONS = ("run_id", "method", "model", "dataset", "training", "optuna")


@rule(
    code="HYD004", name="run-config-sections", severity=ERROR,
    consequence=CRITERION,
    criterion="Proper configuration structure with run_id, method, model, dataset, training, and "
              "optuna sections in every run config.",
    rationale="The code reads these sections for every run; a run config without one fails at the "
              "first access.",
    invalid=[Example(files={"config/runs/r1.yaml": _RUN.replace("optuna:\n  n_trials: 0\n", "")}, line=1)],
    valid=[Example(files={"config/runs/r1.yaml": _RUN})],
)
def run_config_sections(bundle: Bundle) -> Iterator[Hit]:
    for path, data in run_configs(bundle):
        missing = [s for s in _SECTIONS if s not in data]
        if missing:
            yield Hit(path, f"{path} lacks the section{'s' * (len(missing) > 1)} {', '.join(missing)}; every run "
                            "config needs run_id, method, model, dataset, training and optuna", 1)


_HUB_LOADERS = ("load_dataset", "from_pretrained", "hf_hub_download", "snapshot_download")
_SKLEARN_FETCH = "sklearn.datasets.fetch_"


@rule(
    code="HYD005", name="cache-dir", severity=ERROR,
    consequence=CRITERION,
    criterion="Uses `.cache/` as the cache directory for all datasets and models.",
    rationale="Runs share one download cache; without `cache_dir=\".cache/\"` every run downloads "
              "into the home directory of whatever machine it lands on.",
    invalid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset


        def data(cfg):
            return load_dataset(cfg.dataset.name)
        """}, line=5, message='pass cache_dir=".cache/"')],
    valid=[Example(files={"src/preprocess.py": """
        from datasets import load_dataset as hf_load


        def load_dataset(cfg):
            return hf_load(cfg.dataset.name, cache_dir="./.cache/")


        def data(cfg):
            return load_dataset(cfg)
        """}),
           # keywords unpacked from a mapping cannot be read here: they may hold cache_dir
           Example(files={"src/model.py": """
               from transformers import AutoModel

               CACHE_DIR = ".cache/"


               def build(name):
                   kwargs = {"cache_dir": CACHE_DIR, "trust_remote_code": False}
                   return AutoModel.from_pretrained(name, **kwargs)
               """})],
)
def cache_dir(bundle: Bundle) -> Iterator[Hit]:
    local = {fn.name for source in bundle.python_files() for fn in source.index.functions}
    for source in bundle.python_files():
        if not source.ok:
            continue
        for call in source.index.calls:
            keyword = None
            if call.name in local or call.name.split(".")[0] in ("self", "cls"):
                continue  # the bundle's own wrappers
            if call.name.endswith(_HUB_LOADERS) or call.qualname.endswith(_HUB_LOADERS):
                if call.name.endswith(".from_pretrained") and loads_local_directory(source, call):
                    continue  # a saved checkpoint directory, not a hub download
                keyword = "cache_dir"
            elif call.qualname.startswith(_SKLEARN_FETCH):
                keyword = "data_home"
            elif call.qualname.startswith("torchvision.datasets."):
                keyword = "root"
            if keyword is None:
                continue
            value = call.keyword(keyword)
            if value is None and keyword == "root":
                value = call.positional(0)
            if value is None and any(arg.star == "**" for arg in call.node.args):
                continue  # `**kwargs` may carry the keyword; what it holds is not read here
            if value is None:
                yield Hit(source.path, f"`{call.name}(…)` has no {keyword}=; pass {keyword}=\".cache/\"", call.node)
                continue
            text = string_value(value) if not isinstance(value, cst.FormattedString) else None
            if text is not None and not text.removeprefix("./").startswith(".cache"):
                yield Hit(source.path, f"`{call.name}(…)` caches in {text!r}; use {keyword}=\".cache/\"", call.node)


@rule(
    code="HYD006", name="wandb-settings", severity=ERROR,
    consequence=CRITERION,
    criterion="config/config.yaml contains mandatory WandB settings (entity/project).",
    rationale="train and evaluate both address runs as `{entity}/{project}/{run_id}`; without them "
              "logging goes to a default project evaluate cannot find.",
    invalid=[Example(files={CONFIG: """
        defaults:
          - _self_
        wandb:
          mode: online
        """}, line=1)],
    valid=[Example(files={CONFIG: _CONFIG})],
)
def wandb_settings(bundle: Bundle) -> Iterator[Hit]:
    data = base_config(bundle)
    if data is None:
        return
    wandb = data.get("wandb")
    missing = [k for k in ("entity", "project") if not isinstance(wandb, dict) or not wandb.get(k)]
    if missing:
        yield Hit(CONFIG, f"config/config.yaml has no wandb.{' or wandb.'.join(missing)}; add them under `wandb:`", 1)
