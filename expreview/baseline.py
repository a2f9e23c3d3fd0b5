"""Baselines: accept today's findings, report only new ones.

An entry is keyed by rule, path and a hash of the finding's source line with whitespace
normalised, not by line number, so edits elsewhere in the file do not invalidate it. Entries that
no longer match a finding are reported as stale (BSL001).

The bundle an entry belongs to is named by its path relative to the baseline file's directory
(`bundle_key`), so the same baseline applies whichever directory the command runs from. Version 1
files named it as typed on the command line; they are read as relative to the working directory."""
from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

from expreview.bundle import Bundle
from expreview.findings import ADVICE, WARNING, Finding

STALE_ENTRY = "BSL001"
VERSION = 2
READABLE = (1, 2)
STDIN = "-"


from expreview.errors import BaselineError  # noqa: E402  (re-exported)


def line_hash(bundle: Bundle, finding: Finding) -> str:
    text = bundle.files.get(finding.path, "")
    lines = text.splitlines()
    line = lines[finding.line - 1] if 0 < finding.line <= len(lines) else ""
    normalised = " ".join(line.split())
    import hashlib  # here: only a review with a baseline hashes (it is 3 ms of every cold start)

    return hashlib.sha256(f"{finding.code}\0{finding.path}\0{normalised}".encode("utf-8")).hexdigest()[:20]


def entries(bundle: Bundle, findings: list[Finding], source: str) -> list[dict]:
    return [{"bundle": source, "code": f.code, "path": f.path, "line_hash": line_hash(bundle, f),
             "message": f.message} for f in findings if f.code != STALE_ENTRY]


def bundle_key(bundle_path: str, baseline_file: str) -> str:
    """`bundle_path` (as typed, relative to the working directory) relative to the directory of
    `baseline_file`, in POSIX form; stdin stays `-`."""
    if bundle_path == STDIN:
        return STDIN
    start = os.path.dirname(os.path.abspath(baseline_file))
    try:
        relative = os.path.relpath(os.path.abspath(bundle_path), start)
    except ValueError:  # another drive (Windows): no relative path exists
        return Path(os.path.abspath(bundle_path)).as_posix()
    return Path(relative).as_posix()


def write(path: str, all_entries: list[dict]) -> None:
    ordered = sorted(all_entries, key=lambda e: (e["bundle"], e["path"], e["code"], e["line_hash"], e["message"]))
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"version": VERSION, "tool": "expreview", "entries": ordered},
                                     indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline ({exc.strerror or exc})") from None


def read(path: str) -> list[dict]:
    """The entries of baseline file `path`, each `bundle` relative to the file's directory."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"{path}: cannot read the baseline ({exc.strerror or exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: the baseline is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("version") not in READABLE or not isinstance(data.get("entries"), list):
        raise BaselineError(f"{path}: not an expreview baseline (version {VERSION}); write one with --write-baseline")
    for entry in data["entries"]:
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("code", "path", "line_hash")):
            raise BaselineError(f"{path}: every entry needs code, path and line_hash as strings")
        if "bundle" in entry and not isinstance(entry["bundle"], str):
            raise BaselineError(f"{path}: an entry's bundle must be a string")
    if data["version"] == 1:
        return [{**e, "bundle": bundle_key(e["bundle"], path)} if "bundle" in e else e for e in data["entries"]]
    return data["entries"]


def missing_bundles(entries: list[dict], baseline_file: str) -> dict[str, int]:
    """Bundles the baseline names that do not exist (relative to its directory), with their entry
    counts: moved or deleted experiments, whose entries can never match again."""
    start = Path(os.path.abspath(baseline_file)).parent
    counts = Counter(e["bundle"] for e in entries if e.get("bundle") not in (None, STDIN))
    return {key: n for key, n in sorted(counts.items()) if not (start / key).exists()}


def apply(bundle: Bundle, findings: list[Finding], baseline: list[dict], source: str) -> list[Finding]:
    """Drop findings the baseline accepts; add a BSL001 warning for each entry nothing matched."""
    mine = [e for e in baseline if e.get("bundle", source) == source]
    budget = Counter((e["code"], e["path"], e["line_hash"]) for e in mine)
    kept = []
    for finding in findings:
        key = (finding.code, finding.path, line_hash(bundle, finding))
        if budget[key] > 0:
            budget[key] -= 1
        else:
            kept.append(finding)
    for (code, path, _), left in sorted(budget.items()):
        for _ in range(left):
            kept.append(Finding(STALE_ENTRY, WARNING, path, 1, 1, 1, 1,
                                f"the baseline accepts a {code} finding in {path} that no longer occurs; "
                                "write the baseline again (--write-baseline) to drop it", consequence=ADVICE))
    return kept
