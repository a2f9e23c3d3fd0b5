"""WB003: evaluate.py reads entity and project from config/config.yaml and fetches each run with
`wandb.Api().run(f"{entity}/{project}/{run_id}")`."""
from __future__ import annotations

from typing import Iterator

from expreview.bundle import Bundle
from expreview.checks.wb.common import EVALUATE, EVALUATE_EXAMPLE
from expreview.findings import CRITERION, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import string_value


@rule(
    code="WB003", name="wandb-run-address", severity=ERROR,
    consequence=CRITERION,
    criterion="evaluate.py loads WandB config from config/config.yaml and uses "
              "`wandb.Api().run(f\"{entity}/{project}/{run_id}\")`.",
    rationale="Hard-coded entity/project strings point evaluate at someone else's project as soon as "
              "the config changes (seed 004).",
    invalid=[Example(files={EVALUATE: EVALUATE_EXAMPLE.replace("f\"{entity}/{project}/{run_id}\"", "f\"me/exp/{run_id}\"")}, line=18)],
    valid=[Example(files={EVALUATE: EVALUATE_EXAMPLE}),
           # the template's form: runs looked up by display name, entity and project from the environment
           Example(files={EVALUATE: """
               import os
               import wandb


               def fetch(run_id):
                   entity, project = os.environ["WANDB_ENTITY"], os.environ["WANDB_PROJECT"]
                   runs = wandb.Api().runs(f"{entity}/{project}", filters={"display_name": run_id}, order="-created_at")
                   return runs[0]
               """}, options={"wandb_api": "runs"})],
)
def wandb_run_address(bundle: Bundle) -> Iterator[Hit]:
    source = bundle.parsed(EVALUATE)
    if source is None:
        return
    index = source.index
    # the template asks for `api.runs(f"{entity}/{project}", filters={"display_name": run_id})`, with
    # entity and project from the config or the environment
    by_name = bundle.option("wandb_api", "run") == "runs"
    wanted = ('`wandb.Api().runs(f"{entity}/{project}", filters={"display_name": run_id})`' if by_name
              else '`wandb.Api().run(f"{entity}/{project}/{run_id}")`')
    if not index.calls_to("wandb.Api"):
        yield Hit(EVALUATE, f"src/evaluate.py does not use wandb.Api(); fetch each run with {wanted}")
        return
    reads_config = any("config.yaml" in s.value or s.value.rstrip("/").endswith("config") for s in index.strings) \
        or any(c.name.endswith(("compose", "initialize", "initialize_config_dir")) for c in index.calls)
    if by_name:
        reads_config = reads_config or any(s.value.startswith("WANDB_") for s in index.strings) \
            or any(s.value.startswith("config/run") for s in index.strings)
    for call in index.calls:
        arg = call.positional(0)
        if not call.name.endswith((".run", ".runs") if by_name else ".run") or arg is None:
            continue
        text = string_value(arg)
        if text is None:
            continue
        prefix = text.split("{", 1)[0]
        if prefix.count("/") >= 1 and prefix.split("/", 1)[0]:
            yield Hit(EVALUATE, f"the run path `{text}` hard-codes the WandB entity/project; read them from "
                                f"{'the config or the environment' if by_name else 'config/config.yaml'} and use "
                                f"{wanted}", call.node)
            return
    if not reads_config:
        where = "the config or the environment (WANDB_ENTITY, WANDB_PROJECT)" if by_name else "config/config.yaml"
        yield Hit(EVALUATE, f"src/evaluate.py never reads {where}, so entity/project do not come from there; "
                            "load them from it")
