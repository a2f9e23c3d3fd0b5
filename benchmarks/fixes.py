#!/usr/bin/env python3
"""What --fix does on real generated code: ../shared/corpus/dev (each logged prompt's bundle) and the
seeds, fixed in memory exactly as `expreview check --fix --unsafe-fixes` fixes a bundle (nothing is
written). Per rule: how many error findings the fixes removed, how many remain, and every finding a
fix introduced (goal: none), plus any fix skipped for a conflict.

Usage: python benchmarks/fixes.py [--safe-only]"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

from expreview.engine import review_bundle  # noqa: E402
from expreview.findings import ERROR  # noqa: E402
from expreview.fixing import fix_files, rebuilt  # noqa: E402
from expreview.inputs.loaders import decide_stage, load_path  # noqa: E402


def inputs() -> list[Path]:
    dev = sorted((SHARED / "corpus" / "dev").glob("*/prompt.txt"))
    seeds = sorted((SHARED / "seeds").glob("[0-9]*.txt"))
    return dev + seeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--safe-only", action="store_true", help="apply only safe fixes (as plain --fix)")
    args = parser.parse_args()
    found = inputs()
    if not found:
        print(f"no inputs: {SHARED} has no corpus/dev or seeds")
        return 0
    fixed: Counter = Counter()
    remaining: Counter = Counter()
    introduced: list[str] = []
    conflicts: list[str] = []
    changed_bundles = 0
    for path in found:
        bundle = load_path(str(path))
        decide_stage(bundle, "auto")
        before = review_bundle(rebuilt(bundle, bundle.files))
        result = fix_files(bundle.files, lambda files: review_bundle(rebuilt(bundle, files)), not args.safe_only)
        changed_bundles += bool(result.changed)
        errors_before = Counter(f.code for f in before.findings if f.severity == ERROR)
        errors_after = Counter(f.code for f in result.report.findings if f.severity == ERROR)
        for code in errors_before:
            fixed[code] += max(0, errors_before[code] - errors_after[code])
        remaining.update(errors_after)
        name = path.parent.name if path.name == "prompt.txt" else path.name
        all_before = Counter((f.code, f.path) for f in before.findings)
        for (code, where), n in (Counter((f.code, f.path) for f in result.report.findings) - all_before).items():
            introduced.append(f"{name}: {n} new {code} in {where}")
        conflicts += [f"{name}: {c.code} at {c.path}:{c.line} ({c.message})" for c in result.conflicts]
    print(f"expreview fixes over {len(found)} bundles ({'safe only' if args.safe_only else 'safe and unsafe'}): "
          f"{changed_bundles} changed")
    print(f"{'rule':<8}{'fixed':>7}{'remaining':>11}")
    for code in sorted(set(fixed) | set(remaining)):
        if fixed[code] or code in remaining:
            print(f"{code:<8}{fixed[code]:>7}{remaining[code]:>11}")
    # A new finding may be introduced by a fix, or revealed by it (a rule that could not judge the broken
    # file before): read each.
    print(f"new after fixing (introduced or revealed): {len(introduced)}" + "".join(f"\n  {line}" for line in introduced))
    print(f"skipped for a conflict: {len(conflicts)}" + "".join(f"\n  {line}" for line in conflicts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
