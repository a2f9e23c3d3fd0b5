"""Are the JSON reports unchanged? Record them before a refactoring, compare after.

    python benchmarks/same_reports.py record DIR    # write one JSON report per input into DIR
    python benchmarks/same_reports.py compare DIR   # review again; list every report that differs

The inputs are the five seeds and the dev corpus's logged prompts (from ../shared, when it is beside
this checkout) and every fixture: each stage's good repository and each of its variants, built from
its diff. Reports are produced by the installed `expreview` command, as a user would run it.
"""
from __future__ import annotations

import difflib
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO / "tests"))

from fixture_variants import STAGE_ARGS, build_variant, variant_names  # noqa: E402


def expreview() -> list[str]:
    exe = Path(sys.executable).parent / "expreview"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "expreview"]


def inputs(scratch: Path) -> Iterator[tuple[str, list[str]]]:
    """(report name, arguments to `expreview check`) for every input."""
    for seed in sorted((SHARED / "seeds").glob("*.txt")):
        yield f"seed-{seed.stem}", [str(seed)]
    for prompt in sorted((SHARED / "corpus" / "dev").glob("*/prompt.txt")):
        yield f"dev-{prompt.parent.name}", [str(prompt)]
    for stage, args in STAGE_ARGS.items():
        yield f"{stage}-good", [str(REPO / "fixtures" / stage / "good"), *args(REPO)]
        for name in variant_names(stage):
            target = scratch / stage / name
            build_variant(stage, name, target)
            yield f"{stage}-{name}", [str(target), *args(REPO)]


def report(args: list[str]) -> str:
    proc = subprocess.run(expreview() + ["check", *args, "--format", "json"], capture_output=True, text=True)
    return f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("record", "compare"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    mode, where = argv[0], Path(argv[1])
    where.mkdir(parents=True, exist_ok=True)
    same = differ = 0
    with tempfile.TemporaryDirectory() as scratch:
        for name, args in inputs(Path(scratch)):
            # The report names the paths it was given; make the scratch directory stable.
            text = report(args).replace(scratch, "<scratch>")
            path = where / f"{name}.txt"
            if mode == "record":
                path.write_text(text, encoding="utf-8")
                same += 1
                continue
            before = path.read_text(encoding="utf-8") if path.is_file() else ""
            if before == text:
                same += 1
            else:
                differ += 1
                print(f"DIFFERS {name}")
                sys.stdout.writelines(difflib.unified_diff(
                    before.splitlines(True), text.splitlines(True), "before", "after", n=1))
    print(f"{mode}: {same} identical, {differ} different" if mode == "compare" else f"recorded {same} reports")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
