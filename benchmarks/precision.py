"""Precision on real code: every error finding on ../shared/corpus/{dev,runtime}, against its hand label.

    python benchmarks/precision.py                 # per rule: errors reported, TP-crash, TP-criterion, FP, unlabelled
    python benchmarks/precision.py --unlabelled    # also list each unlabelled or FP-labelled error finding
    python benchmarks/precision.py --append        # add a row (label `?`) for each unlabelled finding, to fill in

The labels are benchmarks/labels/<corpus>.tsv, one row per error finding: item (the corpus folder), code,
path, line, label (TP-crash | TP-criterion | FP), and a one-line reason. The dev corpus is reviewed from
its logged prompts, the runtime corpus from its repository folders (stage auto, else hydra, as
../shared/tools/runtimescore.py does). tests/test_precision.py fails on an error finding that is
unlabelled or labelled FP.
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
LABELS = REPO / "benchmarks" / "labels"
CORPORA = ("dev", "runtime")
KINDS = ("TP-crash", "TP-criterion", "FP")
# `message` (optional, last): the finding's message, to tell apart several findings on one line
COLUMNS = ("item", "code", "path", "line", "label", "reason", "message")


@dataclass(frozen=True)
class Seen:
    item: str
    code: str
    path: str
    line: int
    message: str

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.item, self.code, self.path, self.line)


def items(corpus: str) -> list[Path]:
    root = CORPUS / corpus
    if corpus == "dev":
        return sorted(p.parent for p in root.glob("*/prompt.txt"))
    return sorted(p.parent for p in root.glob("*/meta.json"))


def review(corpus: str, folder: Path):
    """The report for one corpus item, reviewed in this process."""
    from expreview.engine import review_bundle
    from expreview.inputs.loaders import LoadError, decide_stage, load_path

    if corpus == "dev":
        bundle = load_path(str(folder / "prompt.txt"))
        decide_stage(bundle, "auto")
    else:
        bundle = load_path(str(folder))
        try:
            decide_stage(bundle, "auto")
        except LoadError:
            decide_stage(bundle, "hydra")
    return review_bundle(bundle)


def error_findings(corpus: str) -> Iterator[Seen]:
    for folder in items(corpus):
        for f in review(corpus, folder).findings:
            if f.severity == "error":
                yield Seen(folder.name, f.code, f.path, f.line, f.message)


Key = tuple[str, str, str, int]


class Labels:
    """The labelled rows of one corpus. Several findings of a rule can share a line (a file-level
    finding is at line 1): a finding takes the label of the row with its message (the provisional
    reason a row starts with), else the one label all rows of its line agree on."""

    def __init__(self, rows: list[dict[str, str]]):
        self.rows: dict[Key, list[tuple[str, str]]] = {}
        self.by_message: dict[tuple[Key, str], str] = {}
        for row in rows:
            key = (row["item"], row["code"], row["path"], int(row["line"]))
            self.rows.setdefault(key, []).append((row["label"], row["reason"]))
            if row.get("message"):
                self.by_message[(key, row["message"])] = row["label"]

    def label(self, seen: Seen) -> str:
        if (seen.key, seen.message[:200]) in self.by_message:
            return self.by_message[(seen.key, seen.message[:200])]
        labels = {label for label, _ in self.rows.get(seen.key, [])}
        return labels.pop() if len(labels) == 1 else "unlabelled"

    def __contains__(self, key: Key) -> bool:
        return key in self.rows

    def items(self):
        for key, rows in self.rows.items():
            for label, reason in rows:
                yield key, (label, reason)


def read_labels(corpus: str) -> Labels:
    path = LABELS / f"{corpus}.tsv"
    if not path.is_file():
        return Labels([])
    with path.open(encoding="utf-8", newline="") as fh:
        return Labels(list(csv.DictReader(fh, delimiter="\t")))


def append_rows(corpus: str, rows: list[Seen]) -> None:
    path = LABELS / f"{corpus}.tsv"
    LABELS.mkdir(exist_ok=True)
    new = not path.is_file()
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        if new:
            writer.writerow(COLUMNS)
        for s in rows:
            text = s.message.replace("\t", " ")[:200]
            writer.writerow([s.item, s.code, s.path, s.line, "?", text, text])


def table(corpus: str, seen: list[Seen], labels: Labels) -> tuple[str, Counter]:
    per: dict[str, Counter] = {}
    totals: Counter = Counter()
    for s in seen:
        label = labels.label(s)
        label = label if label in KINDS else "unlabelled"
        per.setdefault(s.code, Counter())[label] += 1
        totals[label] += 1
    lines = [f"{corpus}: {len(seen)} error findings",
             f"  {'rule':8} {'errors':>6} {'crash':>6} {'crit.':>6} {'FP':>4} {'unlab.':>6}"]
    for code in sorted(per):
        c = per[code]
        lines.append(f"  {code:8} {sum(c.values()):6} {c['TP-crash']:6} {c['TP-criterion']:6} {c['FP']:4} "
                     f"{c['unlabelled']:6}")
    lines.append(f"  {'total':8} {len(seen):6} {totals['TP-crash']:6} {totals['TP-criterion']:6} {totals['FP']:4} "
                 f"{totals['unlabelled']:6}")
    return "\n".join(lines), totals


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=CORPORA + ("all",), default="all")
    parser.add_argument("--unlabelled", action="store_true", help="list unlabelled and FP-labelled findings")
    parser.add_argument("--append", action="store_true", help="append `?` rows for unlabelled findings")
    args = parser.parse_args(argv)
    if not CORPUS.is_dir():
        print(f"precision: {CORPUS} is not there (../shared beside this checkout)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    for corpus in CORPORA if args.corpus == "all" else (args.corpus,):
        seen = list(error_findings(corpus))
        labels = read_labels(corpus)
        text, _ = table(corpus, seen, labels)
        print(text)
        missing = [s for s in seen if labels.label(s) not in KINDS]
        if args.unlabelled:
            for s in seen:
                label = labels.label(s)
                if label not in ("TP-crash", "TP-criterion"):
                    print(f"    {label:10} {s.item} {s.path}:{s.line} {s.code} {s.message[:160]}")
        if args.append:
            fresh = [s for s in missing if s.key not in labels or labels.label(s) == "unlabelled"]
            append_rows(corpus, fresh)
            print(f"  appended {len(fresh)} rows to {LABELS / (corpus + '.tsv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
