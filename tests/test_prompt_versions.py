"""Prompt versions: every logged prompt is judged by the version group it is, and a group changes the
rules and options as ../shared/PROMPT_VERSIONS.md says."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from conftest import FIXTURES, SHARED, run_cli
from expreview.api import check
from expreview.inputs.prompt import load_prompt
from expreview.profiles import ProfileError, load_profile
from expreview.versions import detect, instruction_region

CATALOGUE = SHARED / "PROMPT_VERSIONS.md"
SUFFIX = {"base": "-validate_base_code", "hydra": "-validate_experiment_code", "derived": ""}


def catalogued() -> dict[str, str]:
    """Dev corpus folder -> version group, from the catalogue's validation table (§3)."""
    text = CATALOGUE.read_text(encoding="utf-8")
    section = text.split("## 3. Validation on the logged prompts", 1)[1].split("**Seeds**", 1)[0]
    out = {}
    for group, ids in re.findall(r"^\| ([A-Z][\w-]*) \| \d+ \| (.+) \|$", section, re.M):
        for pair in ids.split(", "):
            pair = re.sub(r"\s*\(.*\)$", "", pair).replace("…", "validate_experiment_code").strip("` ")
            family = pair.split("-", 1)[0]
            out[pair + SUFFIX[family] if not pair.endswith(SUFFIX[family]) else pair] = group
    return out


def seeds_catalogued() -> dict[str, str]:
    text = CATALOGUE.read_text(encoding="utf-8")
    line = re.search(r"\*\*Seeds\*\*.*", text)
    assert line
    return dict(re.findall(r"(\d{3}) → ([\w-]+)", line.group(0)))


@pytest.fixture
def catalogue(needs_shared):
    if not CATALOGUE.is_file():
        pytest.skip(f"{CATALOGUE} is not available")
    return catalogued()


def test_every_dev_prompt_reads_as_its_catalogued_group(catalogue):
    prompts = sorted((SHARED / "corpus" / "dev").glob("*/prompt.txt"))
    assert len(catalogue) == len(prompts) == 35
    for prompt in prompts:
        bundle = load_prompt(prompt.read_text(encoding="utf-8"), str(prompt))
        assert bundle.prompt_version == catalogue[prompt.parent.name], prompt.parent.name
        assert any("detected from the marker" in note and "conflict" not in note for note in bundle.notes)


def test_every_seed_reads_as_its_catalogued_group_and_reports_it(needs_shared, catalogue):
    for number, group in seeds_catalogued().items():
        (seed,) = (SHARED / "seeds").glob(f"{number}_*.txt")
        proc = run_cli("check", str(seed), "--format", "json")
        assert json.loads(proc.stdout)["prompt_version"] == group, seed.name
        assert f"prompt version {group} detected from the marker" in run_cli("check", str(seed)).stdout


def test_markers_are_read_in_the_instructions_only():
    profile = load_profile("base")
    b5 = next(g for g in profile.versions if g.group == "B5")
    code = json.dumps({"files": {"src/main.py": f"# {b5.marker}\n"}})
    prompt = f"Input:\n# Instructions\nReview it.\n# Current Research Method\n{b5.marker}\n{code}\n"
    assert b5.marker not in instruction_region(prompt)
    found = detect(profile.versions, prompt)
    assert found is not None and found.group != "B5" and not found.exact


def test_an_unknown_variant_is_judged_by_the_nearest_group_and_says_so():
    profile = load_profile("hydra")
    h20 = next(g for g in profile.versions if g.group == "H20")
    # H20's marker without the rest of its identifying set: no group is confirmed
    found = detect(profile.versions, f"Input:\n# Instructions\n{h20.marker}\n")
    assert found is not None and not found.exact and found.group == "H20"
    assert found.how.startswith("unknown prompt version") and "nearest group H20" in found.how
    bundle_note = detect(profile.versions, f"Input:\n{h20.marker} {h20.present[0]}\n")
    assert bundle_note is not None and bundle_note.exact and bundle_note.group == "H20"


def test_a_directory_is_judged_by_the_newest_group_unless_configured(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "base" / "good", repo)
    newest = json.loads(run_cli("check", str(repo), "--stage", "base", "--format", "json").stdout)
    assert newest["prompt_version"] == load_profile("base").versions[0].group and newest["ready"]
    # B5 asked for one GPU per run variation with a queue; the sequential good fixture breaks that
    with open(repo / "pyproject.toml", "a", encoding="utf-8") as fh:
        fh.write('\n[tool.expreview]\nstage = "base"\nprompt_version = "B5"\n')
    b5 = json.loads(run_cli("check", str(repo), "--format", "json").stdout)
    assert b5["prompt_version"] == "B5" and {f["code"] for f in b5["findings"]} == {"RUN003"}
    # --prompt-version beats the configuration
    b6 = json.loads(run_cli("check", str(repo), "--format", "json", "--prompt-version", "B6").stdout)
    assert b6["prompt_version"] == "B6" and b6["ready"]
    bad = run_cli("check", str(repo), "--prompt-version", "B99")
    assert bad.returncode == 2 and "no prompt version 'B99'" in bad.stderr and "B7" in bad.stderr


TRAIN_SILENT = '''
import hydra


@hydra.main(config_path="../config", config_name="config", version_base=None)
def main(cfg):
    print("training", cfg.run.run_id)
'''
TRAIN_JSON = TRAIN_SILENT + '''
    import json
    print(json.dumps({"run_id": cfg.run.run_id, "accuracy": 0.5}))
'''


def codes(files, **context) -> set[str]:
    return {f.code for f in check(files, "hydra", select=["OUT"], **context).findings if f.severity == "error"}


def test_older_hydra_prompts_require_the_train_json_that_newer_ones_forbid():
    silent, printing = {"src/train.py": TRAIN_SILENT}, {"src/train.py": TRAIN_JSON}
    assert codes(silent) == set() and codes(printing) == {"OUT003"}  # newest: no stdout JSON
    assert codes(silent, prompt_version="H5") == {"OUT001"}  # H0-H6: must print it
    assert codes(printing, prompt_version="H5") == set()
    assert codes(printing, prompt_version="H7") == {"OUT003"}


def test_derived_prompts_have_no_checkpoint_criterion():
    assert "CKPT001" not in load_profile("derived").rules and "CKPT001" in load_profile("base").rules


def test_a_version_that_switches_off_a_rule_the_stage_does_not_run_is_refused(tmp_path, monkeypatch):
    rules = tmp_path / "rules"
    shutil.copytree(FIXTURES.parent / "rules", rules)
    text = (rules / "base.yaml").read_text(encoding="utf-8")
    (rules / "base.yaml").write_text(text.replace("rules_off: [OUT001,", "rules_off: [WB001, OUT001,", 1),
                                     encoding="utf-8")
    monkeypatch.setenv("EXPREVIEW_RULES_DIR", str(rules))
    with pytest.raises(ProfileError, match="WB001"):
        load_profile("base")
