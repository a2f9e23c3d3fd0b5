"""The fixture variants: each stage's good repository with one defect put in.

A variant is `fixtures/<stage>/variants/<name>.diff`, a unified diff against `fixtures/<stage>/good/`
(paths `a/<relpath>` / `b/<relpath>`, new files from `/dev/null`, deleted files to `/dev/null`).
`fixtures/<stage>/variants.yaml` lists each variant's expected findings. The diffs are applied
strictly: every hunk must match its context exactly, at exactly the line its header states.

    python tests/fixture_variants.py list [STAGE]           # the variants, one `stage name` a line
    python tests/fixture_variants.py write STAGE NAME DIR   # build a variant into DIR (must not exist)
    python tests/fixture_variants.py diff STAGE NAME DIR    # (re)write variants/NAME.diff from DIR
"""
from __future__ import annotations

import difflib
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VARIATIONS = "baseline,proposed,proposed-no-warmup"
STAGES = ("base", "derived", "hydra", "template")
NO_NEWLINE = "\\ No newline at end of file"

# The `expreview check` arguments each stage's fixtures are reviewed with.
STAGE_ARGS: dict[str, Callable[[Path], list[str]]] = {
    "base": lambda repo: ["--stage", "base"],
    "derived": lambda repo: ["--base", str(repo / "fixtures" / "base" / "good"), "--run-variations", VARIATIONS],
    "hydra": lambda repo: [],
    "template": lambda repo: [],  # Dockerfile and config/run/ make the stage template
}


class PatchError(ValueError):
    """A diff that is malformed or does not apply exactly."""


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: tuple[tuple[str, str], ...]  # (" " | "-" | "+", text with its "\n" unless at end of file)


@dataclass(frozen=True)
class FilePatch:
    old: str | None  # relative path, None for a created file
    new: str | None  # relative path, None for a deleted file
    hunks: tuple[Hunk, ...]

    @property
    def path(self) -> str:
        return self.new or self.old or ""


_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(?: .*)?")


def split_lines(text: str) -> list[str]:
    """`text` cut after every "\\n" (only "\\n": a "\\r" or form feed is part of its line)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _header_path(line: str, marker: str, prefix: str, where: str) -> str | None:
    if not line.startswith(marker):
        raise PatchError(f"{where}: expected a {marker!r} line, got {line!r}")
    name = line[len(marker):].split("\t", 1)[0]
    if name == "/dev/null":
        return None
    if not name.startswith(prefix) or len(name) == len(prefix):
        raise PatchError(f"{where}: path {name!r} does not start with {prefix!r}")
    return name[len(prefix):]


def parse_diff(text: str) -> list[FilePatch]:
    """The file patches of a unified diff; raises PatchError on anything malformed."""
    lines = [line.rstrip("\n") for line in split_lines(text)]
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("diff "):  # `diff -ruN` writes one before each file
            i += 1
            continue
        if i + 1 >= len(lines):
            raise PatchError(f"line {i + 1}: file header without '+++' line")
        old = _header_path(lines[i], "--- ", "a/", f"line {i + 1}")
        new = _header_path(lines[i + 1], "+++ ", "b/", f"line {i + 2}")
        if old is None and new is None or old is not None and new is not None and old != new:
            raise PatchError(f"line {i + 1}: bad file pair {old!r} -> {new!r}")
        i += 2
        hunks: list[Hunk] = []
        while i < len(lines) and lines[i].startswith("@@"):
            hunk, i = _parse_hunk(lines, i)
            hunks.append(hunk)
        if not hunks:
            raise PatchError(f"line {i + 1}: no hunk for {old or new}")
        patches.append(FilePatch(old, new, tuple(hunks)))
    paths = [p.path for p in patches]
    if len(set(paths)) != len(paths):
        raise PatchError(f"a file is patched twice: {paths}")
    return patches


def _parse_hunk(lines: list[str], i: int) -> tuple[Hunk, int]:
    match = _HUNK.fullmatch(lines[i])
    if not match:
        raise PatchError(f"line {i + 1}: malformed hunk header {lines[i]!r}")
    old_start, new_start = int(match[1]), int(match[3])
    old_len, new_len = (1 if n is None else int(n) for n in (match[2], match[4]))
    body: list[tuple[str, str]] = []
    old_left, new_left = old_len, new_len
    i += 1
    while old_left or new_left or i < len(lines) and lines[i] == NO_NEWLINE:
        if i >= len(lines):
            raise PatchError(f"line {i}: hunk ends early ({old_left} old, {new_left} new lines missing)")
        line = lines[i]
        if line == NO_NEWLINE:
            if not body or not body[-1][1].endswith("\n"):
                raise PatchError(f"line {i + 1}: misplaced {NO_NEWLINE!r}")
            body[-1] = (body[-1][0], body[-1][1][:-1])
        elif line[:1] in (" ", "-", "+"):
            op = line[0]
            old_left -= op != "+"
            new_left -= op != "-"
            if old_left < 0 or new_left < 0:
                raise PatchError(f"line {i + 1}: hunk longer than its header says")
            body.append((op, line[1:] + "\n"))
        else:
            raise PatchError(f"line {i + 1}: {line!r} is not a hunk line")
        i += 1
    if not any(op != " " for op, _ in body):
        raise PatchError(f"line {i}: hunk changes nothing")
    return Hunk(old_start, old_len, new_start, new_len, tuple(body)), i


def _offset(start: int, length: int) -> int:
    """0-based index of a hunk side's first line (an empty side names the line before it)."""
    return start if length == 0 else start - 1


def apply_patch(old_text: str | None, patch: FilePatch) -> str | None:
    """The patched text (None: deleted); raises PatchError unless every hunk matches exactly."""
    if (old_text is None) != (patch.old is None):
        raise PatchError(f"{patch.path}: " + ("file does not exist" if old_text is None else "file exists"))
    old = split_lines(old_text or "")
    new: list[str] = []
    done = 0  # old lines consumed
    for hunk in patch.hunks:
        at = _offset(hunk.old_start, hunk.old_len)
        if at < done:
            raise PatchError(f"{patch.path}: hunk at line {hunk.old_start} overlaps or is out of order")
        new += old[done:at]
        if _offset(hunk.new_start, hunk.new_len) != len(new):
            raise PatchError(f"{patch.path}: hunk +{hunk.new_start} does not follow from the hunks before it")
        want = [text for op, text in hunk.lines if op != "+"]
        if old[at:at + len(want)] != want:
            raise PatchError(f"{patch.path}: hunk does not match at line {hunk.old_start}")
        new += [text for op, text in hunk.lines if op != "-"]
        done = at + len(want)
    new += old[done:]
    if any(not line.endswith("\n") for line in new[:-1]):
        raise PatchError(f"{patch.path}: a line without newline is not at the end of the file")
    if patch.new is None:
        if new:
            raise PatchError(f"{patch.path}: deletion leaves {len(new)} lines")
        return None
    return "".join(new)


def apply_diff(files: dict[str, str], text: str) -> dict[str, str]:
    """`files` (relative path -> text) with the unified diff `text` applied strictly."""
    result = dict(files)
    for patch in parse_diff(text):
        patched = apply_patch(result.get(patch.path), patch)
        if patched is None:
            del result[patch.path]
        else:
            result[patch.path] = patched
    return result


def read_tree(root: Path) -> dict[str, str]:
    """Every file under `root`, relative path -> text (bytes decoded as UTF-8, line ends untouched)."""
    return {p.relative_to(root).as_posix(): p.read_bytes().decode("utf-8")
            for p in sorted(root.rglob("*")) if p.is_file()}


def make_diff(good: Path, bad: Path) -> str:
    """A unified diff (3 lines of context) turning directory `good` into directory `bad`."""
    before, after = read_tree(good), read_tree(bad)
    out: list[str] = []
    for path in sorted(before.keys() | after.keys()):
        a, b = before.get(path), after.get(path)
        if a == b:
            continue
        for line in difflib.unified_diff(split_lines(a or ""), split_lines(b or ""),
                                         "/dev/null" if a is None else f"a/{path}",
                                         "/dev/null" if b is None else f"b/{path}", lineterm="\n"):
            out.append(line if line.endswith("\n") else f"{line}\n{NO_NEWLINE}\n")
    return "".join(out)


def diff_path(stage: str, name: str) -> Path:
    return FIXTURES / stage / "variants" / f"{name}.diff"


def variant_names(stage: str) -> list[str]:
    """The names of a stage's variants (the diff files' stems), sorted."""
    return sorted(p.stem for p in (FIXTURES / stage / "variants").glob("*.diff"))


def variant_files(stage: str, name: str) -> dict[str, str]:
    """A variant's files, relative path -> text, without writing anything."""
    return apply_diff(read_tree(FIXTURES / stage / "good"), diff_path(stage, name).read_text(encoding="utf-8"))


def build_variant(stage: str, name: str, target: Path) -> Path:
    """Copy the stage's good repository to `target` (must not exist) and apply the variant's diff."""
    files = read_tree(FIXTURES / stage / "good")
    patched = apply_diff(files, diff_path(stage, name).read_text(encoding="utf-8"))
    shutil.copytree(FIXTURES / stage / "good", target)
    for path, text in patched.items():
        if files.get(path) != text:
            (target / path).parent.mkdir(parents=True, exist_ok=True)
            (target / path).write_bytes(text.encode("utf-8"))
    for path in files.keys() - patched.keys():
        (target / path).unlink()
    return target


def changed_lines(stage: str, name: str) -> dict[str, set[int]]:
    """Per file of the variant, the line numbers (in the variant's file) that its diff adds or changes."""
    changed: dict[str, set[int]] = {}
    for patch in parse_diff(diff_path(stage, name).read_text(encoding="utf-8")):
        if patch.new is None:
            continue
        lines = changed.setdefault(patch.new, set())
        for hunk in patch.hunks:
            number = _offset(hunk.new_start, hunk.new_len) + 1
            for op, _ in hunk.lines:
                if op == "+":
                    lines.add(number)
                number += op != "-"
    return changed


def manifest(stage: str) -> dict[str, dict[str, Any]]:
    """`fixtures/<stage>/variants.yaml`: variant name -> {why, findings, [side]}.

    `findings` must all be reported; `side` (consequences of the defect) may be. Each finding is
    {code, path, line (or None), severity}."""
    with open(FIXTURES / stage / "variants.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def main(argv: list[str]) -> int:
    """The command line: see the module docstring."""
    if argv[:1] == ["list"] and len(argv) <= 2 and set(argv[1:]) <= set(STAGES):
        for stage in argv[1:] or STAGES:
            print("\n".join(f"{stage} {name}" for name in variant_names(stage)))
        return 0
    if len(argv) == 4 and argv[0] in ("write", "diff") and argv[1] in STAGES:
        _, stage, name, where = argv
        if argv[0] == "write":
            print(build_variant(stage, name, Path(where)))
        else:
            diff_path(stage, name).parent.mkdir(exist_ok=True)
            diff_path(stage, name).write_text(make_diff(FIXTURES / stage / "good", Path(where)), encoding="utf-8")
            print(diff_path(stage, name))
        return 0
    print(__doc__.split("\n\n")[2], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
