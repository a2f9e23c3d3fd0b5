#!/usr/bin/env python3
"""How expreview's verdicts compare with the logged LLM reviewer's, per stage.

Usage: python benchmarks/agreement.py CORPUS_DIR [--stage base|derived|hydra] [--all-findings]

CORPUS_DIR holds one folder per logged review (prompt.txt, meta.json), as ../shared/corpus/dev/.
Prints a confusion table per stage (rows: the LLM's verdict; columns: expreview's), then, for
every disagreement, expreview's top finding and the start of the LLM's issue text.
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections import Counter
from pathlib import Path

from expreview.engine import review_bundle
from expreview.inputs.loaders import LoadError, decide_stage, load_path
from expreview.profiles import ProfileError

SEVERITY_ORDER = {"error": 0, "warning": 1}
# What stops a run first matters most: install, parse, layout, then wiring, then contracts.
FAMILY_ORDER = ["DEP", "PY", "LAY", "CLI", "RUN", "CFG", "HYD", "WB", "EVAL", "DRV", "OUT", "CKPT", "FIG", "SPEC", "PH"]


def review(folder: Path):
    bundle = load_path(str(folder / "prompt.txt"))
    decide_stage(bundle, "auto")
    return review_bundle(bundle)


def top_finding(report) -> str:
    if not report.findings:
        return "(no findings)"
    def rank(f):
        family = f.code.rstrip("0123456789")
        return (SEVERITY_ORDER.get(f.severity, 2), FAMILY_ORDER.index(family) if family in FAMILY_ORDER else 99,
                f.path, f.line)
    f = min(report.findings, key=rank)
    return f"{f.code} {f.path}:{f.line} {f.message}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--stage", choices=("base", "derived", "hydra"))
    parser.add_argument("--all-findings", action="store_true", help="list every error of a disagreement")
    args = parser.parse_args()
    folders = sorted(p for p in args.corpus.iterdir() if (p / "meta.json").is_file())
    if not folders:
        print(f"no logged reviews (folders with meta.json) in {args.corpus}", file=sys.stderr)
        return 2
    tables: dict[str, Counter] = {}
    disagreements = []
    for folder in folders:
        meta = json.loads((folder / "meta.json").read_text())
        stage = meta.get("stage")
        if args.stage and stage != args.stage:
            continue
        llm = "ready" if meta.get("ready") else "not ready"
        try:
            report = review(folder)
            ours = "ready" if report.ready else "not ready"
        except (LoadError, ProfileError) as exc:
            report, ours = None, "error"
            meta["_error"] = str(exc)
        tables.setdefault(stage, Counter())[(llm, ours)] += 1
        if ours != llm:
            disagreements.append((folder.name, stage, llm, ours, report, meta))
    for stage, counts in sorted(tables.items()):
        total = sum(counts.values())
        agree = counts[("ready", "ready")] + counts[("not ready", "not ready")]
        print(f"\n{stage} ({total} reviews, agreement {agree}/{total})")
        header = "LLM / expreview"
        print(f"  {header:<18}{'ready':>8}{'not ready':>11}{'error':>8}")
        for llm in ("ready", "not ready"):
            row = [counts[(llm, ours)] for ours in ("ready", "not ready", "error")]
            print(f"  {llm:<18}{row[0]:>8}{row[1]:>11}{row[2]:>8}")
    if disagreements:
        print("\nDisagreements:")
    for name, stage, llm, ours, report, meta in disagreements:
        runtime = meta.get("runtime") or {}
        ran = f" (pipeline later ran it: crashed={runtime.get('crashed')})" if runtime.get("ran") else ""
        print(f"- {name} [{stage}] LLM {llm}, expreview {ours}{ran}")
        if report is None:
            print(f"    error: {meta['_error']}")
            continue
        errors = [f for f in report.findings if f.severity == "error"]
        print(f"    expreview: {len(errors)} errors; top: {top_finding(report)[:220]}")
        if args.all_findings:
            for f in errors:
                print(f"      {f.code} {f.path}:{f.line} {f.message[:160]}")
        issue = (meta.get("issue") or "").replace("\n", " ").strip()
        if issue:
            print(textwrap.shorten(f"    LLM: {issue}", 240))
    return 0


if __name__ == "__main__":
    sys.exit(main())
