"""TPL003: sanity and pilot runs log to their own WandB projects, `{project}-sanity` and
`{project}-pilot`, unless the config names another: the contract keeps trial runs out of the full
runs' project, which evaluate reads."""
from __future__ import annotations

import re
from typing import Iterator

import yaml

from expreview.bundle import Bundle
from expreview.facts.docstrings import is_docstring
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule

_TRAIN = "src/train.py"
_GOOD = """
import wandb


def start(cfg):
    project = cfg.wandb.project
    if cfg.mode == "sanity":
        project = f"{project}-sanity"
    elif cfg.mode == "pilot":
        project = f"{project}-pilot"
    return wandb.init(entity=cfg.wandb.entity, project=project, name=cfg.run.run_id)
"""
# `f"{cfg.wandb.project}-{cfg.mode}"`: the suffix is the mode itself
_BY_MODE = re.compile(r"\{[^{}]*project[^{}]*\}-\{[^{}]*mode[^{}]*\}")


@rule(
    code="TPL003", name="trial-wandb-project", severity=ERROR,
    consequence=CRITERION,
    criterion="Sanity runs log under the WandB project `{project}-sanity` and pilot runs under "
              "`{project}-pilot`, unless the config overrides it.",
    rationale="evaluate reads the newest run of each run id from the project; a sanity or pilot run "
              "logged there can be what the comparison reads instead of the full run.",
    invalid=[
        Example(files={_TRAIN: _GOOD.replace('f"{project}-sanity"', 'project')}, line=10, message="`-sanity`"),
        Example(files={_TRAIN: _GOOD.replace('f"{project}-pilot"', 'project')}, line=10, message="`-pilot`"),
        # a docstring or a YAML comment naming the sanity project sets nothing
        Example(files={_TRAIN: '"""Sanity runs belong in <project>-sanity."""\n' + _GOOD.replace('f"{project}-sanity"', 'project'),
                       "config/config.yaml": "wandb:\n  project: exp  # exp-sanity for sanity runs\n"},
                line=12, message="`-sanity`"),
    ],
    valid=[
        Example(files={_TRAIN: _GOOD}),
        Example(files={_TRAIN: _GOOD.replace('f"{project}-sanity"', 'f"{cfg.wandb.project}-{cfg.mode}"')
                       .replace('f"{project}-pilot"', 'f"{cfg.wandb.project}-{cfg.mode}"')}),
        # the config names the trial projects
        Example(files={_TRAIN: _GOOD.replace('f"{project}-sanity"', 'cfg.wandb.sanity_project')
                       .replace('f"{project}-pilot"', 'cfg.wandb.pilot_project'),
                       "config/config.yaml": "wandb:\n  project: exp\n  sanity_project: exp-sanity\n"
                                             "  pilot_project: exp-pilot\n"}),
        # before 2026-03-12 pilot mode was optional: only the sanity project is asked for
        Example(files={_TRAIN: _GOOD.replace('f"{project}-pilot"', 'project')}, options={"pilot_validation": False}),
        # no WandB at all is WB001's to report
        Example(files={_TRAIN: "def start(cfg):\n    return None\n"}),
    ],
)
def trial_wandb_project(bundle: Bundle) -> Iterator[Hit]:
    inits = [(source, call) for source in bundle.python_files() if source.path.startswith("src/")
             for call in source.index.calls if call.qualname == "wandb.init" or call.name == "wandb.init"]
    if not inits:
        return
    # what the code and the configs say, not what their docstrings and comments say
    strings = [s.value for source in bundle.python_files() for s in source.index.strings
               if not is_docstring(source.index, s.node, s.stmt)]
    configs = [entry.node.value for doc in bundle.yaml_files() for entry in doc.entries()
               if isinstance(entry.node, yaml.ScalarNode) and isinstance(entry.node.value, str)]
    if any(_BY_MODE.search(s) for s in strings):
        return
    roles = ["sanity"] + (["pilot"] if bundle.option("pilot_validation", True) else [])
    source, call = inits[0]
    for role in roles:
        suffix = f"-{role}"
        if any(suffix in s for s in strings) or any(re.search(rf"\S{re.escape(suffix)}\b", t) for t in configs):
            continue
        yield Hit(source.path, f"{role} runs log to the full runs' WandB project: nothing names a `{suffix}` "
                               f"project; in {role} mode pass `project=f\"{{cfg.wandb.project}}{suffix}\"` to "
                               "wandb.init (unless the config names the project for that mode)", call.node)
