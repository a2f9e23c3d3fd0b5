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
COLUMNS = ("item", "code", "path", "line", "label", "reason")


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


def read_labels(corpus: str) -> dict[tuple[str, str, str, int], tuple[str, str]]:
    path = LABELS / f"{corpus}.tsv"
    if not path.is_file():
        return {}
    out = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            out[(row["item"], row["code"], row["path"], int(row["line"]))] = (row["label"], row["reason"])
    return out


def append_rows(corpus: str, rows: list[Seen]) -> None:
    path = LABELS / f"{corpus}.tsv"
    LABELS.mkdir(exist_ok=True)
    new = not path.is_file()
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        if new:
            writer.writerow(COLUMNS)
        for s in rows:
            writer.writerow([s.item, s.code, s.path, s.line, "?", s.message.replace("\t", " ")[:200]])


def table(corpus: str, seen: list[Seen], labels: dict) -> tuple[str, Counter]:
    per: dict[str, Counter] = {}
    totals: Counter = Counter()
    for s in seen:
        label = labels.get(s.key, ("unlabelled", ""))[0]
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
        missing = [s for s in seen if labels.get(s.key, ("",))[0] not in KINDS]
        if args.unlabelled:
            for s in seen:
                label = labels.get(s.key, ("unlabelled",))[0]
                if label not in ("TP-crash", "TP-criterion"):
                    print(f"    {label:10} {s.item} {s.path}:{s.line} {s.code} {s.message[:160]}")
        if args.append:
            fresh = [s for s in missing if s.key not in labels]
            append_rows(corpus, fresh)
            print(f"  appended {len(fresh)} rows to {LABELS / (corpus + '.tsv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
