"""Guards against known false blocking findings on real generated code (PY002, HYD001, HYD003,
WB001, WB002, DRV001, CKPT001, CKPT002), beyond the rules' own examples: the cases each guard
must keep reporting next to those it must leave alone."""
from __future__ import annotations

import pytest

import expreview
from expreview.checks.ckpt import MODEL, OTHER, UNKNOWN, name_kind
from expreview.checks.hyd.common import CONFIG_EXAMPLE


def codes(files: dict[str, str], stage: str, select: str) -> list[str]:
    report = expreview.check(files, stage=stage)
    return [f.message for f in report.findings if f.code == select]


@pytest.mark.parametrize("expr,reported", [
    ('"../config"', False),
    ('os.path.join("..", "config")', False),
    ('os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "config")', False),
    ('str(Path(__file__).resolve().parent.parent / "config")', False),
    ('Path(__file__).parents[1] / "config"', False),
    ('CONFIG_DIR', False),
    ('os.environ["CONFIG_DIR"]', False),  # computed at run time: not judged
    ('"/opt/project/config"', False),  # a machine's absolute path: not judged
    ('"config"', True),
    ('str(Path(__file__).parent / "config")', True),
    ('os.path.join(os.path.dirname(__file__), "..", "..", "config")', True),
])
def test_hydra_config_path_resolution(expr, reported):
    main = ("import os\nfrom pathlib import Path\n\nimport hydra\n\nCONFIG_DIR = \"../config\"\n\n\n"
            f"@hydra.main(config_path={expr}, config_name=\"config\", version_base=None)\n"
            "def main(cfg):\n    pass\n")
    found = codes({"src/main.py": main, "config/config.yaml": CONFIG_EXAMPLE}, "hydra", "HYD001")
    assert bool(found) is reported, found


def test_hydra_config_name_missing_is_still_reported():
    main = "import hydra\n\n\n@hydra.main(config_path=\"../config\")\ndef main(cfg):\n    pass\n"
    assert codes({"src/main.py": main, "config/config.yaml": CONFIG_EXAMPLE}, "hydra", "HYD001")


@pytest.mark.parametrize("name,kind", [
    ("model", MODEL), ("self.model", MODEL), ("best_model_state", MODEL), ("state_dict", MODEL),
    ("ckpt", MODEL), ("bestModelWeights", MODEL),
    ("samples", OTHER), ("model_outputs", OTHER), ("embeddings", OTHER), ("generated_images", OTHER),
    ("tokenizer", OTHER),
    ("obj", UNKNOWN), ("x", UNKNOWN),
])
def test_what_a_saved_name_says(name, kind):
    assert name_kind(name) == kind


def test_ckpt002_is_silent_when_a_save_cannot_be_classified():
    train = "import torch\n\n\ndef save(obj, path):\n    torch.save(obj, path)\n"
    assert not codes({"src/train.py": train}, "base", "CKPT002")
    assert not codes({"src/train.py": train}, "base", "CKPT001")


def test_ckpt001_counts_a_whole_model_moved_to_cpu():
    train = "import torch\n\n\ndef save(model, path):\n    torch.save(model.cpu(), path)\n"
    assert codes({"src/train.py": train}, "base", "CKPT001")


def test_py002_namespace_guard_covers_only_its_own_name():
    train = ("def cleanup():\n    if \"model\" in locals() and \"opt\" in locals():\n        model.cpu()\n"
             "        opt.zero_grad()\n    if \"model\" in globals():\n        sched.step()\n")
    found = codes({"src/train.py": train}, "base", "PY002")
    assert len(found) == 1 and "`sched`" in found[0], found


_EVALUATE_READS = (
    "import wandb\n\n\ndef main(api, path):\n    run = api.run(path)\n    history = run.history()\n"
    "    return history[\"{key}\"]\n"
)


@pytest.mark.parametrize("log,key,reported", [
    ('run.log(metrics)', "anything", False),  # keys not known: any key may be logged
    ('run.log({**metrics, "epoch": e})', "anything", False),
    ('run.log({f"train_{k}": v for k, v in metrics.items()})', "train_loss", False),
    ('run.log({f"train_{k}": v for k, v in metrics.items()})', "val_loss", True),
    ('run.log({k: v for k, v in {"loss": 1, "acc": 2}.items()})', "acc", False),
    ('run.log({k: v for k, v in {"loss": 1, "acc": 2}.items()})', "val_acc", True),
    ('run.log(dict(loss=1))', "loss", False),
    ('run.log(dict(loss=1))', "acc", True),
])
def test_wb002_dynamic_writes(log, key, reported):
    train = ("import wandb\n\n\ndef train(cfg, metrics, e):\n    run = wandb.init(project=cfg.p)\n"
             f"    for _ in range(3):\n        {log}\n")
    found = codes({"src/train.py": train, "src/evaluate.py": _EVALUATE_READS.replace("{key}", key)}, "hydra", "WB002")
    assert bool(found) is reported, found


def test_wb002_a_logged_dict_that_grows_is_not_a_fixed_key_list():
    train = ("import wandb\n\n\ndef train(cfg):\n    run = wandb.init(project=cfg.p)\n    for _ in range(3):\n"
             "        log = {\"loss\": 1}\n        log[\"val_acc\"] = 2\n        run.log(log)\n")
    assert not codes({"src/train.py": train, "src/evaluate.py": _EVALUATE_READS.replace("{key}", "val_acc")},
                     "hydra", "WB002")


RICH_TRAIN = """
from rich.console import Console

console = Console()


def main(run_cfg, run_id, metrics):
    console.print_json(data=run_cfg)
    console.print_json(data={"run_id": run_id, **metrics})
"""


def test_out001_a_rich_print_of_the_config_is_not_the_metrics_record():
    report = expreview.check({"src/train.py": RICH_TRAIN}, stage="base", select=["OUT001"])
    assert [(f.code, f.line) for f in report.findings] == [("OUT001", 9)]
    only_config = RICH_TRAIN.replace('    console.print_json(data={"run_id": run_id, **metrics})\n', "")
    report = expreview.check({"src/train.py": only_config}, stage="base", select=["OUT001"])
    assert [f.code for f in report.findings] == ["OUT001"] and "never prints its metrics" in report.findings[0].message


def test_drv001_an_inlined_definition_is_a_warning_and_a_removed_one_an_error():
    from expreview.checks.drv.missing import _PARSE_ARGS_BASE
    from expreview.rule import example_text
    base = {"src/train.py": example_text(_PARSE_ARGS_BASE)}
    inlined = ("import argparse\n\nif __name__ == \"__main__\":\n"
               "    parser = argparse.ArgumentParser()\n"
               "    parser.add_argument(\"--config\", required=True, type=str)\n"
               "    parser.add_argument(\"--results-dir\", required=True, type=str)\n"
               "    args = parser.parse_args()\n    print(args.config)\n")
    # the same flags read another way: the base's body is not what runs here
    rewritten = ("import sys\n\nif __name__ == \"__main__\":\n"
                 "    config = sys.argv[sys.argv.index(\"--config\") + 1]\n    print(config)\n")
    severities = {}
    for name, text in (("inlined", inlined), ("rewritten", rewritten)):
        report = expreview.check({"src/train.py": text}, stage="derived", base=base)
        severities[name] = [f.severity for f in report.findings if f.code == "DRV001"]
    assert severities == {"inlined": ["warning"], "rewritten": ["error"]}
