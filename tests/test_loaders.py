"""Input forms: directories, JSON bundles, logged prompts, and what is refused."""
from __future__ import annotations

import json
import os

import pytest

from conftest import FIXTURES, seed_file
from expreview.inputs.loaders import LoadError, decide_stage, load_path, load_text, prompt_runs, safe_path

GOOD = FIXTURES / "base" / "good"


def _prompt(bundle: dict, instructions: str, output: str) -> str:
    return ("Input:\nYou are an AI code reviewer.\n\n# Instructions\n" + instructions +
            "\n\n# Current Research Method\n{}\n\n# Generated Base Code Files\n" + json.dumps(bundle) +
            "\n\n\nOutput:\n" + output + "\n")


def test_prompt_reads_bundle_stage_options_and_ignores_output():
    instructions = ("- main.py implements 1 GPU per run variation allocation, queueing runs sequentially\n"
                    "- Figure generation with proper formatting (PDF output, legends, annotations)\n"
                    "- Respond with `is_base_code_ready`")
    output = json.dumps({"is_base_code_ready": True, "base_code_issue": "", "train_py": "import nope"})
    bundle = load_text(_prompt({"train_py": "import os\n", "main_py": "import sys\n"}, instructions, output), "p")
    assert bundle.stage == "base"
    assert bundle.files == {"src/train.py": "import os\n", "src/main.py": "import sys\n"}
    assert bundle.options["orchestration"] == "gpu-queue"
    assert bundle.options["figure_dir"] == "any"


def test_prompt_sequential_and_images_dir():
    instructions = ("- main.py executes run variations one at a time in sequential order\n"
                    "- PDF output to `{results_dir}/images/` directory")
    bundle = load_text(_prompt({"train_py": "x = 1\n"}, instructions, "{}"), "p")
    assert bundle.options == {"orchestration": "sequential", "figure_dir": "results_dir/images"}


def test_seed_prompts_give_their_options(needs_shared):
    seq = load_path(str(seed_file("000")))
    assert (seq.stage, seq.options["orchestration"], seq.options["figure_dir"]) == ("base", "sequential", "results_dir/images")
    assert len(seq.options["files"]) == 8 and "src/model.py" in seq.options["files"]
    queue = load_path(str(seed_file("001")))
    assert (queue.options["orchestration"], queue.options["figure_dir"]) == ("gpu-queue", "any")


def test_hydra_run_blocks_only_first_line_indented():
    text = ("# Experiment Runs\n\n- Run ID: run-a\n  Method: proposed\n  \n  Config Content:\n  ```yaml\n"
            "  run_id: run-a\nmodel:\n  name: m\n\n  ```\n  \n\n# Generated Experiment Code (To be validated)\n")
    assert prompt_runs(text) == {"run-a": "run_id: run-a\nmodel:\n  name: m\n"}


def test_directory_skips_tooling_dirs_and_docs(tmp_path):
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    (repo / "src" / "train.py").write_text("x = 1\n")
    for skipped in (".git", ".venv", "node_modules", "src/__pycache__"):
        (repo / skipped).mkdir(parents=True, exist_ok=True)
        (repo / skipped / "junk.py").write_text("y = 2\n")
    (repo / "README.md").write_text("# hi\n")
    bundle = load_path(str(repo))
    assert sorted(bundle.files) == ["src/train.py"]


def test_symlink_out_of_tree_is_not_followed(tmp_path):
    outside = tmp_path / "secret.py"
    outside.write_text("TOKEN = 1\n")
    repo = tmp_path / "repo"
    (repo / "src").mkdir(parents=True)
    os.symlink(outside, repo / "src" / "leak.py")
    assert "src/leak.py" not in load_path(str(repo)).files


@pytest.mark.parametrize("bad", ["../x.py", "/etc/passwd", "a/../../b.py", "x\0.py", "C:/x.py", ""])
def test_hostile_bundle_paths_are_rejected(bad):
    with pytest.raises(LoadError):
        safe_path(bad)


def test_unknown_bundle_keys_are_an_input_error():
    with pytest.raises(LoadError, match="unknown bundle key"):
        load_text(json.dumps({"trainer": "x"}), "b.json")


def test_stage_decision():
    bundle = load_path(str(GOOD))
    with pytest.raises(LoadError, match="--stage"):
        decide_stage(bundle, "auto")
    decide_stage(bundle, "base")
    assert bundle.stage == "base"
    hydra = load_text(json.dumps({"files": {"config/config.yaml": "a: 1\n"}}), "b")
    decide_stage(hydra, "auto")
    assert hydra.stage == "hydra" and "config/config.yaml" in hydra.notes[0]
