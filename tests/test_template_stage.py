"""The template stage: detected from the repository, its prompt version told from the code, its task
type from the code or the options, its Dockerfile read as Docker reads it, and the runtime template
states of ../shared reviewed as template repositories."""
from __future__ import annotations

import json

import pytest

from conftest import SHARED, run_cli

import expreview
from expreview.bundle import Bundle
from expreview.facts.task import task_type, unused_task_module
from expreview.inputs.loaders import decide_stage
from expreview.sources.dockerfile import DockerfileSource
from expreview.versions import detect_in_files
from expreview.profiles import load_profile

CONFIG = "defaults:\n  - _self_\n  - run: ???\nmode: full\nresults_dir: results\nwandb:\n  entity: e\n  project: p\n  mode: online\n"
RUN = "run_id: proposed\nmethod: {name: m}\nmodel: {name: mlp}\ndataset: {name: d}\n"


def _decided(files: dict[str, str]) -> Bundle:
    bundle = Bundle(files=dict(files), source="repo")
    decide_stage(bundle, "auto")
    return bundle


def test_a_repository_with_a_dockerfile_and_config_run_is_a_template_one_and_says_so():
    files = {"config/config.yaml": CONFIG, "config/run/proposed.yaml": RUN, "Dockerfile": "FROM python:3.11-slim\n"}
    bundle = _decided(files)
    assert bundle.stage == "template"
    assert "stage template detected from Dockerfile and config/run/" in bundle.notes
    # config/config.yaml alone is a hydra repository, with or without a Dockerfile beside config/runs/
    assert _decided({k: v for k, v in files.items() if k != "Dockerfile"}).stage == "hydra"
    assert _decided({"config/config.yaml": CONFIG, "config/runs/proposed.yaml": RUN,
                     "Dockerfile": "FROM python:3.11\n"}).stage == "hydra"


def test_the_prompt_version_is_told_from_the_names_the_code_uses():
    groups = load_profile("template").versions
    older = detect_in_files(groups, {"src/main.py": "if cfg.mode == 'sanity_check':\n    pass\n"})
    assert older is not None and older.group == "T1" and "`sanity_check` in src/main.py" in older.how
    assert detect_in_files(groups, {"src/main.py": "if cfg.mode == 'sanity':\n    pass\n"}) is None  # the newest
    report = expreview.check({"src/main.py": "MODE = 'sanity_check'\n", "config/config.yaml": CONFIG},
                             stage="template", select=["TPL002"])
    assert report.prompt_version == "T1"
    # an explicit version wins over what the code suggests
    report = expreview.check({"src/main.py": "MODE = 'sanity_check'\n", "config/config.yaml": CONFIG},
                             stage="template", select=["TPL002"], prompt_version="T2")
    assert report.prompt_version == "T2"


@pytest.mark.parametrize("files,options,expected", [
    ({"src/inference.py": "x = 1\n"}, {}, "inference"),
    ({"src/train.py": "x = 1\n"}, {}, "training"),
    ({"src/train.py": "x = 1\n", "src/inference.py": "x = 1\n",
      "src/main.py": "from src.inference import run\n"}, {}, "inference"),
    ({"src/train.py": "x = 1\n", "src/inference.py": "x = 1\n",
      "src/main.py": "import sys\nCMD = [sys.executable, '-m', 'src.train']\n"}, {}, "training"),
    ({"src/train.py": "x = 1\n", "src/inference.py": "x = 1\n", "src/main.py": "print(1)\n"}, {}, None),
    ({"src/train.py": "x = 1\n", "src/inference.py": "x = 1\n"}, {"task": "inference"}, "inference"),
])
def test_the_task_comes_from_the_code_or_the_options(files, options, expected):
    bundle = Bundle(files=files, stage="template", options=options)
    assert task_type(bundle) == expected


def test_the_task_decides_the_required_module_and_the_unused_one():
    files = {"src/main.py": "from src.inference import run\n", "src/inference.py": "def run():\n    return 1\n",
             "src/train.py": "def main():\n    raise NotImplementedError\n"}
    report = expreview.check(files, stage="template", select=["LAY001", "PH004"])
    missing = [f.path for f in report.findings if f.code == "LAY001"]
    assert "src/inference.py" not in missing and "src/train.py" not in missing and "src/evaluate.py" in missing
    assert not [f for f in report.findings if f.code == "PH004"]  # train.py never runs in an inference task
    bundle = Bundle(files=files, stage="template", options={"task_files": {"training": ["src/train.py"],
                                                                           "inference": ["src/inference.py"]}})
    assert unused_task_module(bundle) == "src/train.py"
    # once something imports it, its stubs can run
    used = dict(files, **{"src/evaluate.py": "from src.train import main\n"})
    assert [f.code for f in expreview.check(used, stage="template", select=["PH004"]).findings] == ["PH004"]
    # an inference task without src/inference.py lacks its module
    report = expreview.check({"src/main.py": "print(1)\n"}, stage="template", select=["LAY001"],
                             options={"task": "inference"})
    assert "src/inference.py" in [f.path for f in report.findings]


def test_the_dockerfile_is_read_as_docker_reads_it():
    text = ("# escape=`\n"
            "FROM python:3.11-slim AS base\n"
            "RUN apt-get update && `\n"
            "    # a comment inside the instruction\n"
            "\n"
            "    apt-get install -y sox\n"
            "FROM base\n"
            "COPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv\n"
            "RUN <<EOF\n"
            "uv sync\n"
            "EOF\n"
            "copy . .\n")
    doc = DockerfileSource("Dockerfile", text)
    keywords = [(i.keyword, i.line) for i in doc.instructions]
    assert keywords == [("FROM", 2), ("RUN", 3), ("FROM", 7), ("COPY", 8), ("RUN", 9), ("COPY", 12)]
    assert doc.instructions[1].arguments == "apt-get update && apt-get install -y sox"
    assert doc.instructions[3].flags == {"from": "ghcr.io/astral-sh/uv:latest"}
    assert "uv sync" in doc.instructions[4].arguments
    assert [i.keyword for i in doc.final_stage()] == ["FROM", "COPY", "RUN", "COPY"]


def test_a_dockerfile_that_builds_but_cannot_run_is_a_crash_and_one_that_fails_to_build_is_not():
    builds = "FROM python:3.11-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv\n" \
             "COPY pyproject.toml ./\nRUN uv sync\n"
    report = expreview.check({"Dockerfile": builds}, stage="template", select=["TPL001"])
    assert [(f.consequence, "No module named 'src'" in f.message) for f in report.findings] == [("crash", True)]
    # uv sync before pyproject.toml: the build fails, and the workflow runs natively instead
    fails = "FROM python:3.11-slim\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /usr/local/bin/uv\nRUN uv sync\nCOPY . .\n"
    report = expreview.check({"Dockerfile": fails}, stage="template", select=["TPL001"])
    assert [(f.consequence, f.line) for f in report.findings] == [("criterion", 3)]


def test_the_runtime_template_states_are_reviewed_as_template_repositories():
    index = SHARED / "corpus" / "runtime" / "INDEX.tsv"
    if not index.is_file():
        pytest.skip("../shared/corpus/runtime is not beside this checkout")
    rows = [line.split("\t") for line in index.read_text(encoding="utf-8").splitlines()[1:]]
    template = [row[0] for row in rows if len(row) > 2 and row[2] == "template"]
    assert template
    for item in template:
        proc = run_cli("check", str(SHARED / "corpus" / "runtime" / item), "--format", "json")
        assert proc.returncode in (0, 1), proc.stderr
        assert json.loads(proc.stdout)["stage"] == "template", item
        said = run_cli("check", str(SHARED / "corpus" / "runtime" / item)).stdout
        assert "stage template detected from Dockerfile and config/run/" in said, item
