"""The fixture variants themselves: manifests agree with the diffs, and the diffs apply strictly."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fixture_variants import (FIXTURES, NO_NEWLINE, STAGES, PatchError, apply_diff, build_variant, changed_lines,
                              diff_path, make_diff, manifest, read_tree, variant_files, variant_names)

ALL = [(stage, name) for stage in STAGES for name in variant_names(stage)]
IDS = [f"{s}-{n}" for s, n in ALL]
GOOD = read_tree(FIXTURES / "base" / "good")
YAML_FLOAT = diff_path("base", "yaml-float").read_text(encoding="utf-8")


@pytest.mark.parametrize("stage", STAGES)
def test_manifest_lists_exactly_the_variants(stage):
    entries = manifest(stage)
    assert sorted(entries) == variant_names(stage) and entries
    assert not list((FIXTURES / stage).glob("bad-*")), "variants are diffs now, not directories"
    for name, entry in entries.items():
        assert set(entry) <= {"why", "findings", "side"} and {"why", "findings"} <= set(entry), name
        assert isinstance(entry["why"], str) and entry["why"].strip() and "\n" not in entry["why"], name
        for finding in entry["findings"] + entry.get("side", []):
            assert set(finding) == {"code", "path", "line", "severity"}, (name, finding)
            assert finding["severity"] in ("error", "warning") and isinstance(finding["line"], (int, type(None)))


@pytest.mark.parametrize("stage, name", ALL, ids=IDS)
def test_expected_lines_are_lines_the_diff_adds_or_changes(stage, name):
    """So that a line number cannot go stale: it moves with the diff or the diff stops applying."""
    entry, changed = manifest(stage)[name], changed_lines(stage, name)
    for finding in entry["findings"] + entry.get("side", []):
        if finding["line"] is not None:
            assert finding["line"] in changed.get(finding["path"], set()), (finding, changed)


@pytest.mark.parametrize("stage, name", ALL, ids=IDS)
def test_every_diff_applies_strictly(stage, name, tmp_path):
    good = read_tree(FIXTURES / stage / "good")
    built = read_tree(build_variant(stage, name, tmp_path / name))
    assert built == variant_files(stage, name) != good
    # the diff names only files that differ, and regenerating it gives the same text
    assert make_diff(FIXTURES / stage / "good", tmp_path / name) == diff_path(stage, name).read_text(encoding="utf-8")


def test_wrong_context_is_rejected():
    assert apply_diff(GOOD, YAML_FLOAT) != GOOD
    context = next(line for line in YAML_FLOAT.splitlines(True) if line.startswith(" ") and line.strip())
    broken = YAML_FLOAT.replace(context, " # not the fixture's line\n", 1)  # the first (edge) context line
    with pytest.raises(PatchError, match="does not match"):
        apply_diff(GOOD, broken)


@pytest.mark.parametrize("shift", [-1, 1, 3])
def test_a_shifted_hunk_is_rejected(shift):
    """A patch tool with offset tolerance would find the hunk a few lines away; this one must not."""
    import re

    def moved(m):
        return f"@@ -{int(m[1]) + shift},{m[2]} +{int(m[3]) + shift},{m[4]} @@"

    shifted = re.sub(r"^@@ -(\d+),(\d+) \+(\d+),(\d+) @@", moved, YAML_FLOAT, flags=re.M)
    assert shifted != YAML_FLOAT
    with pytest.raises(PatchError):
        apply_diff(GOOD, shifted)


@pytest.mark.parametrize("mangle", [
    lambda d: d.replace("+++ b/", "+++ ", 1),  # no b/ prefix
    lambda d: d.replace("--- a/", "", 1),  # no old-file header
    lambda d: d.rstrip("\n").rsplit("\n", 1)[0] + "\n",  # hunk one line short
    lambda d: d + " one context line too many\n",  # hunk longer than its header
    lambda d: d.replace("\n ", "\n", 1),  # a context line lost its leading space
    lambda d: d.replace("@@ -", "@@ -x", 1),  # header not numeric
    lambda d: d + d,  # one file patched twice
    lambda d: "\n".join(line if line[:1] != "+" or line.startswith("+++") else " " + line[1:]
                        for line in d.split("\n")),  # a hunk that changes nothing (and bad counts)
], ids=["prefix", "header", "short", "long", "context", "numbers", "twice", "no-change"])
def test_malformed_diffs_are_rejected(mangle):
    with pytest.raises(PatchError):
        apply_diff(GOOD, mangle(YAML_FLOAT))


def test_creation_deletion_and_missing_final_newline(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    for root, files in ((good, {"keep.py": "a\nb\nc\n", "gone.py": "x\n", "tail.txt": "1\n2"}),
                        (bad, {"keep.py": "a\nB\nc\n", "new/made.py": "n\n", "tail.txt": "1\n3\n"})):
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
    diff = make_diff(good, bad)
    assert "--- a/gone.py\n+++ /dev/null\n" in diff and "--- /dev/null\n+++ b/new/made.py\n" in diff
    assert f"-2\n{NO_NEWLINE}\n" in diff
    assert apply_diff(read_tree(good), diff) == read_tree(bad)
    assert apply_diff(read_tree(bad), make_diff(bad, good)) == read_tree(good)
    with pytest.raises(PatchError, match="file exists"):
        apply_diff({**read_tree(good), "new/made.py": "n\n"}, diff)
    with pytest.raises(PatchError, match="does not exist"):
        apply_diff({k: v for k, v in read_tree(good).items() if k != "gone.py"}, diff)
    with pytest.raises(PatchError):  # the no-newline marker is part of the context to match
        apply_diff({**read_tree(good), "tail.txt": "1\n2\n"}, diff)


def test_command_line_writes_and_lists_variants(tmp_path):
    script = str(Path(__file__).with_name("fixture_variants.py"))
    listed = subprocess.run([sys.executable, script, "list"], capture_output=True, text=True, check=True)
    assert listed.stdout.splitlines() == [f"{s} {n}" for s, n in ALL]
    subprocess.run([sys.executable, script, "write", "base", "deps-table", str(tmp_path / "v")], check=True,
                   capture_output=True)
    assert read_tree(tmp_path / "v") == variant_files("base", "deps-table")
    bad = subprocess.run([sys.executable, script, "write", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "write STAGE NAME DIR" in bad.stderr
