#!/usr/bin/env python3
"""expreview performance report: every measurement in ONE run on one machine, printed as ratios.

Usage: python benchmarks/bench.py [--quick] [--fixit PATH] [--inputs auto|fixtures] [--profile INDEX]

It measures (no assertions; it is a report):
  1. rule overhead  in-process `review_bundle` on a fresh Bundle / bare `libcst.parse_module` of its
                    Python files + `yaml.safe_load` of its YAML files (goal <= 1.5x)
  2. cold start     `expreview check <a base-stage bundle> --format json` as a whole process, beside
                    `python -c "import libcst"` as the floor (goal <= 0.5 s, and <= 2.0x the floor)
  3. peer           `expreview check` over the bundles written out as directories vs `fixit lint` over the
                    same Python files (goal <= 0.25x); skipped when fixit is not installed
  4. throughput     many bundles in one `expreview check` call, --jobs 1 and 2: bundles/s and peak RSS
  5. hydra          cold start of a hydra-stage review (fixtures/hydra/good, which Hydra composes) against
                    `python -c "import libcst"` (goal <= 3x), and the in-process review of that bundle with
                    2, 8 and 32 run configs: time per run config (goal: 32 runs <= 8x the 2-run time)

Inputs: the five logged prompts in ../shared/seeds (relative to the repository); when absent, the
repository's fixtures (base/good, hydra/good, derived/good with base/good as its base).
Timings alternate between the two sides of each ratio and report medians, because the machines are
shared and noisy. A measurement that fails prints why and the run continues.
"""
from __future__ import annotations

import argparse
import cProfile
import datetime as _dt
import gc
import importlib.util
import io
import json
import os
import platform
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[1]
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
sys.path.insert(0, str(REPO))  # the working tree, even when the venv holds a non-editable install

import libcst  # noqa: E402
import yaml  # noqa: E402

from expreview.bundle import Bundle  # noqa: E402
from expreview.engine import paused_gc, review_bundle  # noqa: E402
from expreview.inputs.loaders import decide_stage, load_path  # noqa: E402

try:
    from yaml import CSafeLoader as _CLoader
except ImportError:  # pragma: no cover
    _CLoader = None

GOAL_OVERHEAD = 1.5
GOAL_COLD = 0.5
GOAL_BASE_COLD_RATIO = 2.0  # x the `import libcst` floor, for a base-stage review
GOAL_PEER = 0.25
GOAL_HYDRA_COLD = 3.0  # x the `import libcst` floor
GOAL_HYDRA_SCALING = 8.0  # 32 run configs / 2 run configs
HYDRA_RUNS = (2, 8, 32)
THROUGHPUT_COPIES = 8  # bundles replicated to ~40


# -- inputs -------------------------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    bundle: Bundle                  # loaded once; never reviewed itself (fresh copies are)
    cli_args: list[str]             # arguments of `expreview check` reviewing just this bundle
    notes: list[str] = field(default_factory=list)


def load_cases(which: str = "auto") -> tuple[str, list[Case]]:
    seeds = sorted(SEEDS.glob("00[0-4]_*.txt")) if SEEDS.is_dir() and which != "fixtures" else []
    cases = []
    if seeds:
        for path in seeds:
            b = load_path(str(path))
            decide_stage(b, "auto")
            cases.append(Case(path.name[:3], b, [str(path)]))
        return f"seeds ({SEEDS})", cases
    fx = REPO / "fixtures"
    b = load_path(str(fx / "base" / "good"))
    decide_stage(b, "base")
    cases.append(Case("base/good", b, [str(fx / "base" / "good"), "--stage", "base"]))
    b = load_path(str(fx / "hydra" / "good"))
    decide_stage(b, "auto")
    cases.append(Case("hydra/good", b, [str(fx / "hydra" / "good")]))
    b = load_path(str(fx / "derived" / "good"))
    b.base = load_path(str(fx / "base" / "good"))
    b.base.stage = "base"
    b.run_variations = ["baseline", "proposed", "proposed-no-warmup"]
    decide_stage(b, "auto")
    cases.append(Case("derived/good", b, [str(fx / "derived" / "good"), "--base", str(fx / "base" / "good"),
                                          "--run-variations", ",".join(b.run_variations)]))
    return f"fixtures ({fx}; " + ("chosen with --inputs)" if which == "fixtures" else "../shared/seeds not found)"), cases


def fresh(b: Optional[Bundle]) -> Optional[Bundle]:
    """A new Bundle over the same texts: no parsed document (and no cache hanging off one) is reused."""
    if b is None:
        return None
    return Bundle(files=dict(b.files), stage=b.stage, options=dict(b.options),
                  run_variations=list(b.run_variations) if b.run_variations is not None else None,
                  base=fresh(b.base), source=b.source, root=b.root, notes=list(b.notes),
                  load_findings=list(b.load_findings), unreadable=dict(b.unreadable))


def parse_inputs(b: Bundle) -> tuple[list[str], list[str]]:
    """The Python and YAML texts a review of `b` parses, its base bundle's included."""
    py, ym = [], []
    for bundle in (b, b.base):
        if bundle is None:
            continue
        for path, text in sorted(bundle.files.items()):
            if path in bundle.unreadable:
                continue
            if path.endswith(".py"):
                py.append(text)
            elif path.endswith((".yaml", ".yml")):
                ym.append(text)
    return py, ym


# -- timing helpers -----------------------------------------------------------------------------------

def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call; CPU time is what a busy shared machine distorts least. The
    collector is paused as the CLI pauses it (engine.paused_gc); review_bundle itself leaves it alone."""
    gc.collect()
    with paused_gc():
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - start, time.process_time() - start_cpu


@dataclass
class Proc:
    wall: float
    cpu: float  # user + system seconds of the child and the children it waited for
    returncode: int
    maxrss_kb: int
    stdout: str
    stderr: str


# The environment of every measured child. A wheel installed by pip comes with .pyc files; an editable
# checkout under PYTHONDONTWRITEBYTECODE=1 (as some sandboxes set) recompiles every module at each start.
# So children may cache bytecode, under the run's temporary directory (main() sets the prefix), and the
# cold start is also measured once more in the environment exactly as given.
CHILD_ENV: Optional[dict[str, str]] = None


def cached_bytecode_env(prefix: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    return env


def run_proc(cmd: list[str], cwd: Optional[Path] = None, env: Optional[dict[str, str]] = None) -> Proc:
    """Run `cmd` to completion: wall time, and from wait4 this child's CPU time and peak RSS (KiB on Linux;
    the largest single process of its tree, since Linux folds in the maxima of the children it waited for)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd,
                             env=env if env is not None else CHILD_ENV)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        maxrss = usage.ru_maxrss // (1024 if sys.platform == "darwin" else 1)
        return Proc(wall, usage.ru_utime + usage.ru_stime, p.returncode, maxrss, out.read().decode("utf-8", "replace"),
                    err.read().decode("utf-8", "replace"))


def expreview_cmd() -> list[str]:
    script = Path(sys.executable).with_name("expreview")
    return [str(script)] if script.exists() else [sys.executable, "-m", "expreview"]


def ok_exit(p: Proc, what: str) -> None:
    """expreview exits 0 (ready) or 1 (not ready); anything else is a failed measurement."""
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{what} exited {p.returncode}: {(p.stderr or p.stdout).strip()[-300:]}")


def med(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"min {min(values):.3g} max {max(values):.3g}, n={len(values)}"


# -- the table ----------------------------------------------------------------------------------------

@dataclass
class Row:
    metric: str
    value: str
    goal: str = "-"
    status: str = "info"


ROWS: list[Row] = []


def row(metric: str, value: str, goal: str = "-", met: Optional[bool] = None) -> None:
    ROWS.append(Row(metric, value, goal, "info" if met is None else ("met" if met else "MISSED")))


def section(title: str, fn: Callable[[], None], failed_rows: list[str]) -> None:
    print(f"\n== {title}", flush=True)
    start = time.perf_counter()
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - a report continues past a failed measurement
        print(f"  FAILED: {type(exc).__name__}: {exc}")
        traceback.print_exc(limit=3, file=sys.stdout)
        for metric in failed_rows:
            if not any(r.metric.startswith(metric) for r in ROWS):
                row(metric, f"failed ({type(exc).__name__})", "-", None)
    print(f"  ({time.perf_counter() - start:.1f} s)", flush=True)


# -- 1. rule overhead ---------------------------------------------------------------------------------

def bench_overhead(cases: list[Case], reps: int) -> None:
    def bare_parse(py: list[str], ym: list[str], loader=None) -> None:
        for text in py:
            libcst.parse_module(text)
        for text in ym:
            yaml.safe_load(text) if loader is None else yaml.load(text, Loader=loader)

    inputs = {c.name: parse_inputs(c.bundle) for c in cases}
    # Warm-up, untimed: imports, the profiles' lru_cache, LibCST's first-call setup.
    for c in cases:
        review_bundle(fresh(c.bundle))
        bare_parse(*inputs[c.name])
    # t[side][bundle] = [(wall, cpu) per repetition]; sides alternate which runs first.
    t: dict[str, dict[str, list[tuple[float, float]]]] = {s: {c.name: [] for c in cases}
                                                          for s in ("review", "floor", "cfloor")}
    for rep in range(reps):
        for c in cases:
            py, ym = inputs[c.name]
            sides = [("review", lambda c=c: review_bundle(fresh(c.bundle))),
                     ("floor", lambda py=py, ym=ym: bare_parse(py, ym))]
            if _CLoader is not None:
                sides.append(("cfloor", lambda py=py, ym=ym: bare_parse(py, ym, _CLoader)))
            if rep % 2:
                sides.reverse()
            for side, fn in sides:
                t[side][c.name].append(timed(fn))

    def ratios(name: Optional[str], floor: str, k: int) -> list[float]:
        names = [name] if name else [c.name for c in cases]  # None: all bundles summed per repetition
        return [sum(t["review"][n][r][k] for n in names) / sum(t[floor][n][r][k] for n in names)
                for r in range(len(t[floor][names[0]]))]

    print("  review = review_bundle(fresh Bundle); floor = libcst.parse_module(.py) + yaml.safe_load(.yaml)")
    print("  derived bundles: the base bundle's files are INCLUDED in both review and floor; pyproject.toml")
    print("  (tomllib) is in review only. Medians of per-repetition ratios; wall is the goal's measure.")
    print(f"  {'bundle':<14}{'stage':<9}{'py':>3}{'yaml':>5}{'review ms':>11}{'floor ms':>10}"
          f"{'ratio wall':>12}{'ratio cpu':>11}{'cpu, C-yaml floor':>19}")
    for c in cases + [None]:
        name = c.name if c else None
        wall, cpu = ratios(name, "floor", 0), ratios(name, "floor", 1)
        cfloor = ratios(name, "cfloor", 1) if _CLoader is not None else []
        if c:
            py, ym = inputs[c.name]
            label, stage = c.name, c.bundle.stage
            rev = 1e3 * med([w for w, _ in t["review"][c.name]])
            flo = 1e3 * med([w for w, _ in t["floor"][c.name]])
        else:
            label, stage = "overall", "(sum)"
            py = ym = []
            rev = 1e3 * med([sum(t["review"][n][r][0] for n in t["review"]) for r in range(reps)])
            flo = 1e3 * med([sum(t["floor"][n][r][0] for n in t["floor"]) for r in range(reps)])
        print(f"  {label:<14}{stage:<9}{len(py) if c else '':>3}{len(ym) if c else '':>5}{rev:>11.1f}{flo:>10.1f}"
              f"{med(wall):>11.2f}x{med(cpu):>10.2f}x{(f'{med(cfloor):.2f}x' if cfloor else 'n/a'):>19}")
        if c:
            row(f"rule overhead {c.name} ({c.bundle.stage})", f"{med(wall):.2f}x", f"<= {GOAL_OVERHEAD}x",
                med(wall) <= GOAL_OVERHEAD)
        else:
            print(f"  overall wall ratio: {spread(wall)}")
            row("rule overhead overall", f"{med(wall):.2f}x", f"<= {GOAL_OVERHEAD}x", med(wall) <= GOAL_OVERHEAD)
            row("  same, CPU time", f"{med(cpu):.2f}x", "-", None)
            if cfloor:
                row("  same, CPU, floor with libyaml loader", f"{med(cfloor):.2f}x", "-", None)


# -- 2. CLI cold start --------------------------------------------------------------------------------

def bench_cold(cases: list[Case], reps: int) -> None:
    case = next((c for c in cases if c.bundle.stage == "base"), cases[0])
    cmd = expreview_cmd() + ["check"] + case.cli_args + ["--format", "json"]
    floor = [sys.executable, "-c", "import libcst"]
    variants = [("expreview", cmd, CHILD_ENV), ("floor", floor, CHILD_ENV)]
    as_given = "PYTHONDONTWRITEBYTECODE" in os.environ
    if as_given:
        variants.append(("expreview, env as given", cmd, dict(os.environ)))
    for _, c, env in variants:  # warm the OS file cache and the bytecode cache, untimed
        run_proc(c, env=env)
    wall: dict[str, list[float]] = {v[0]: [] for v in variants}
    cpu: dict[str, list[float]] = {v[0]: [] for v in variants}
    rss: list[int] = []
    for rep in range(reps):
        for label, c, env in (variants if rep % 2 == 0 else list(reversed(variants))):
            p = run_proc(c, env=env)
            if label != "floor":
                ok_exit(p, "expreview check")
                if label == "expreview":
                    rss.append(p.maxrss_kb)
            wall[label].append(p.wall)
            cpu[label].append(p.cpu)
    print(f"  command: {' '.join(Path(a).name if a.startswith('/') else a for a in cmd)}; "
          "bytecode cached under the run's temporary directory")
    for label, _, _ in variants:
        what = {"floor": "python -c 'import libcst' (floor)",
                "expreview, env as given": "the same, env as given (PYTHONDONTWRITEBYTECODE set: no .pyc)"
                }.get(label, "expreview check")
        print(f"  {what}: wall median {med(wall[label]):.3f} s ({spread(wall[label])}); CPU {med(cpu[label]):.3f} s"
              + (f"; peak RSS {max(rss) / 1024:.0f} MiB" if label == "expreview" else ""))
    ours = med(wall["expreview"])
    row(f"cold start check {case.name} --format json", f"{ours:.3f} s", f"<= {GOAL_COLD} s", ours <= GOAL_COLD)
    row("  same, CPU time", f"{med(cpu['expreview']):.3f} s", "-", None)
    if as_given:
        row("  same, env as given (no .pyc)", f"{med(wall['expreview, env as given']):.3f} s", "-", None)
    row("  floor: python -c 'import libcst'", f"{med(wall['floor']):.3f} s", "-", None)
    ratio = ours / med(wall["floor"])
    row(f"cold start {case.name} ({case.bundle.stage}) / import libcst", f"{ratio:.2f}x",
        f"<= {GOAL_BASE_COLD_RATIO:g}x", ratio <= GOAL_BASE_COLD_RATIO if case.bundle.stage == "base" else None)


# -- 5. hydra: composition ---------------------------------------------------------------------------

def hydra_bundle(runs: int) -> Bundle:
    """fixtures/hydra/good with `runs` run configs under config/runs/ (copies of its first one)."""
    good = load_path(str(REPO / "fixtures" / "hydra" / "good"))
    configs = sorted(p for p in good.files if p.startswith("config/runs/"))
    template = good.files[configs[0]]
    first_id = configs[0].rsplit("/", 1)[1][:-len(".yaml")]
    files = {p: text for p, text in good.files.items() if p not in configs}
    for i in range(runs):
        run_id = f"bench-run-{i:02d}"
        files[f"config/runs/{run_id}.yaml"] = template.replace(first_id, run_id)
    made = Bundle(files=files)
    decide_stage(made, "hydra")
    return made


def bench_hydra(reps: int) -> None:
    good = REPO / "fixtures" / "hydra" / "good"
    cmd = expreview_cmd() + ["check", str(good), "--format", "json"]
    floor = [sys.executable, "-c", "import libcst"]
    for c in (cmd, floor):  # warm the file and bytecode caches, untimed
        run_proc(c, env=CHILD_ENV)
    wall: dict[str, list[float]] = {"expreview": [], "floor": []}
    for rep in range(reps):
        pair = [("expreview", cmd), ("floor", floor)]
        for label, c in (pair if rep % 2 == 0 else list(reversed(pair))):
            proc = run_proc(c, env=CHILD_ENV)
            if label == "expreview":
                ok_exit(proc, "expreview check")
            wall[label].append(proc.wall)
    ratio = med(wall["expreview"]) / med(wall["floor"])
    print(f"  expreview check fixtures/hydra/good: wall median {med(wall['expreview']):.3f} s; "
          f"floor {med(wall['floor']):.3f} s; ratio {ratio:.2f}x")
    row("hydra cold start / import libcst", f"{ratio:.2f}x", f"<= {GOAL_HYDRA_COLD:g}x", ratio <= GOAL_HYDRA_COLD)
    review_bundle(hydra_bundle(HYDRA_RUNS[0]))  # hydra imported once, untimed
    per: dict[int, float] = {}
    for runs in HYDRA_RUNS:
        times = [timed(lambda: review_bundle(hydra_bundle(runs)))[0] for _ in range(reps)]
        per[runs] = med(times)
        print(f"  {runs:2d} run configs: review median {per[runs]:.3f} s = {per[runs] / runs * 1000:.0f} ms per run config")
        row(f"hydra review, {runs} run configs", f"{per[runs]:.3f} s ({per[runs] / runs * 1000:.0f} ms/run)", "-", None)
    scaling = per[HYDRA_RUNS[-1]] / per[HYDRA_RUNS[0]]
    row(f"hydra {HYDRA_RUNS[-1]} runs / {HYDRA_RUNS[0]} runs", f"{scaling:.2f}x", f"<= {GOAL_HYDRA_SCALING:g}x",
        scaling <= GOAL_HYDRA_SCALING)


# -- 3. peer: fixit -----------------------------------------------------------------------------------

def slug(name: str) -> str:
    return re.sub(r"\W", "_", name)


def write_bundle(b: Bundle, root: Path) -> None:
    for path, text in b.files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")


def write_dirs(cases: list[Case], tmp: Path) -> tuple[list[list[str]], list[str]]:
    """Each bundle as a directory that describes itself: its stage (and, for a derived bundle, its base
    and run variations) goes into `[tool.expreview]` of its pyproject.toml, so that ONE `expreview check`
    call reviews them all. A derived bundle's base goes to a side directory fixit never sees. Returns the
    `expreview check` argument lists (one call) and the .py files."""
    paths: list[str] = []
    py_files: list[str] = []
    for c in cases:
        d = tmp / "bundles" / slug(c.name)
        write_bundle(c.bundle, d)
        py_files += [str(d / p) for p in sorted(c.bundle.files) if p.endswith(".py")]
        table = [f'stage = "{c.bundle.stage}"']
        if c.bundle.stage == "derived":
            base_dir = tmp / "bases" / slug(c.name)
            write_bundle(c.bundle.base, base_dir)
            table.append(f'base = "{os.path.relpath(base_dir, d)}"')
            if c.bundle.run_variations:
                table.append("run_variations = " + json.dumps(c.bundle.run_variations))
        pyproject = d / "pyproject.toml"
        existing = pyproject.read_text(encoding="utf-8") if pyproject.exists() else ""
        pyproject.write_text(existing.rstrip("\n") + "\n\n[tool.expreview]\n" + "\n".join(table) + "\n",
                             encoding="utf-8")
        paths.append(str(d))
    return [paths], py_files


def write_json_bundle(b: Bundle, path: Path) -> Path:
    """The loaded bundle as a JSON bundle that carries its own stage, options, run variations and base."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"files": b.files, "stage": b.stage, "options": b.options}
    if b.run_variations is not None:
        data["run_variations"] = b.run_variations
    if b.base is not None:
        data["base"] = {"files": b.base.files}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def find_fixit(explicit: Optional[str]) -> Optional[list[str]]:
    if explicit:
        return [explicit]
    script = Path(sys.executable).with_name("fixit")
    if script.exists():
        return [str(script)]
    if importlib.util.find_spec("fixit") is not None:
        return [sys.executable, "-m", "fixit"]
    found = shutil.which("fixit")
    return [found] if found else None


def bench_peer(cases: list[Case], reps: int, fixit_path: Optional[str], tmp: Path) -> None:
    fixit = find_fixit(fixit_path)
    if fixit is None:
        print("  skipped: fixit not installed (pip install fixit, or pass --fixit PATH)")
        row("peer: expreview / fixit lint", "skipped: fixit not installed", f"<= {GOAL_PEER}x", None)
        return
    calls, py_files = write_dirs(cases, tmp)
    ours_cmds = [expreview_cmd() + ["check"] + call + ["--format", "json"] for call in calls]
    theirs_cmd = fixit + ["lint"] + [os.path.relpath(f, tmp / "bundles") for f in py_files]
    # For reference: the same bundles in ONE expreview process, as JSON bundles that carry their stage.
    one_call = expreview_cmd() + ["check"] + [str(write_json_bundle(c.bundle, tmp / "peer-json" / f"{slug(c.name)}.json"))
                                              for c in cases] + ["--format", "json"]
    version = run_proc(fixit + ["--version"]).stdout.strip()

    def ours_once() -> tuple[float, float]:
        wall = cpu = 0.0
        for cmd in ours_cmds:
            p = run_proc(cmd)
            ok_exit(p, "expreview check")
            wall, cpu = wall + p.wall, cpu + p.cpu
        return wall, cpu

    notes = set()

    def theirs_once() -> tuple[float, float]:
        p = run_proc(theirs_cmd, cwd=tmp / "bundles")
        summary = [ln for ln in (p.stdout + p.stderr).splitlines() if "checked" in ln or "Traceback" in ln]
        notes.add(f"exit {p.returncode}; {summary[-1].strip() if summary else (p.stderr.strip()[-200:] or 'no summary')}")
        return p.wall, p.cpu

    def one_call_once() -> tuple[float, float]:
        p = run_proc(one_call)
        ok_exit(p, "expreview check (one call)")
        return p.wall, p.cpu

    ours_once()  # warm-up, untimed
    theirs_once()
    one_call_once()
    ours, theirs, single = [], [], []
    for rep in range(reps):
        pair = [(ours, ours_once), (theirs, theirs_once), (single, one_call_once)]
        if rep % 2:
            pair.reverse()
        for sink, fn in pair:
            sink.append(fn())
    ratios = [o[0] / t[0] for o, t in zip(ours, theirs)]
    cpu_ratios = [o[1] / t[1] for o, t in zip(ours, theirs)]
    ours_cpu, theirs_cpu = [o[1] for o in ours], [t[1] for t in theirs]
    single_ratios = [o[0] / t[0] for o, t in zip(single, theirs)]
    ours, theirs = [o[0] for o in ours], [t[0] for t in theirs]
    print(f"  {len(cases)} bundles as directories, {len(py_files)} Python files; {version} ({' '.join(fixit)})")
    print(f"  expreview: {len(ours_cmds)} process(es) (each directory names its stage, and a derived one its base, in [tool.expreview]): "
          f"wall median {med(ours):.3f} s ({spread(ours)}); CPU {med(ours_cpu):.3f} s")
    print(f"  fixit lint (default rules, one call): wall median {med(theirs):.3f} s ({spread(theirs)}); "
          f"CPU {med(theirs_cpu):.3f} s")
    print(f"  for reference, expreview in ONE process over the same bundles as JSON bundles (stage carried; "
          f"derived: its base bundle too): wall median {med([w for w, _ in single]):.3f} s, "
          f"{med(single_ratios):.3f}x fixit")
    for note in sorted(notes):
        print(f"  fixit: {note}")
    print(f"  ratio per repetition: wall median {med(ratios):.3f}x ({spread(ratios)}); CPU {med(cpu_ratios):.3f}x")
    row(f"peer: expreview / fixit lint ({len(py_files)} .py)", f"{med(ratios):.3f}x", f"<= {GOAL_PEER}x",
        med(ratios) <= GOAL_PEER)
    row("  same, CPU time", f"{med(cpu_ratios):.3f}x", "-", None)
    row("  expreview / fixit, wall", f"{med(ours):.2f} s / {med(theirs):.2f} s", "-", None)
    row("  one expreview process (JSON bundles) / fixit", f"{med(single_ratios):.3f}x", "-", None)


# -- 4. throughput ------------------------------------------------------------------------------------

def bench_throughput(cases: list[Case], reps: int, tmp: Path) -> None:
    """Many bundles in ONE call. Directories cannot carry their stage/options/base, so each bundle is
    written as a JSON bundle (files, stage, options, run_variations, base) - the loaded bundle, unchanged."""
    help_text = run_proc(expreview_cmd() + ["check", "--help"]).stdout
    has_jobs = "--jobs" in help_text
    folder = tmp / "throughput"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [str(write_json_bundle(c.bundle, folder / f"{copy:02d}_{slug(c.name)}.json"))
             for copy in range(THROUGHPUT_COPIES) for c in cases]
    n = len(paths)
    variants = [("--jobs 1", ["--jobs", "1"]), ("--jobs 2", ["--jobs", "2"])] if has_jobs else [("(no --jobs)", [])]
    if not has_jobs:
        print("  --jobs is MISSING from `expreview check --help`; measured one call without it")
    walls: dict[str, list[float]] = {v: [] for v, _ in variants}
    rss: dict[str, list[int]] = {v: [] for v, _ in variants}
    cpus: dict[str, list[float]] = {v: [] for v, _ in variants}
    cmd0 = expreview_cmd() + ["check"] + paths + ["--format", "json"]
    for rep in range(reps):
        order = variants if rep % 2 == 0 else list(reversed(variants))
        for label, extra in order:
            p = run_proc(cmd0 + extra)
            ok_exit(p, f"expreview check {label}")
            if rep == 0:
                reports = json.loads(p.stdout)
                count = len(reports) if isinstance(reports, list) else 1
                if count != n:
                    print(f"  note: {label} printed {count} report(s) for {n} bundles")
            walls[label].append(p.wall)
            cpus[label].append(p.cpu)
            rss[label].append(p.maxrss_kb)
    print(f"  {n} JSON bundles ({len(cases)} inputs x {THROUGHPUT_COPIES}) in one `expreview check ... --format json`")
    base_rate = None
    for label, _ in variants:
        w = med(walls[label])
        rate = n / w
        base_rate = base_rate or rate
        print(f"  {label:<12} wall median {w:.2f} s ({spread(walls[label])}) = {rate:.1f} bundles/s; "
              f"CPU {med(cpus[label]):.2f} s (CPU/wall {med(cpus[label]) / w:.2f}); peak RSS {max(rss[label]) / 1024:.0f} MiB (largest single process of its tree)")
        row(f"throughput {label}", f"{rate:.1f} bundles/s ({w:.2f} s / {n})", "-", None)
        row(f"  peak RSS {label}", f"{max(rss[label]) / 1024:.0f} MiB", "-", None)
    if has_jobs:
        speedup = med(walls["--jobs 1"]) / med(walls["--jobs 2"])
        print(f"  speed-up --jobs 2 over --jobs 1: {speedup:.2f}x")
        row("  speed-up --jobs 2 / --jobs 1", f"{speedup:.2f}x", "-", None)
    else:
        row("  --jobs", "missing from the CLI", "-", None)


# -- profile ------------------------------------------------------------------------------------------

def profile(cases: list[Case], index: int, top: int = 15) -> None:
    c = cases[index]
    review_bundle(fresh(c.bundle))  # warm-up, as in the overhead measurement
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(3):
        review_bundle(fresh(c.bundle))
    prof.disable()
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        print(f"== profile of 3 reviews of {c.name} ({c.bundle.stage}), sorted by {key}")
        print("\n".join(ln for ln in buf.getvalue().splitlines() if ln.strip())[:20000])


# -- main ---------------------------------------------------------------------------------------------

def _version(dist: str) -> str:
    try:
        from importlib.metadata import version
        return version(dist)
    except Exception:  # noqa: BLE001
        return "?"


def machine_info() -> list[str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        commit = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                capture_output=True, text=True, timeout=10).stdout.strip()
    except Exception:  # noqa: BLE001
        commit = "?"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    yaml_c = "with libyaml" if _CLoader is not None else "pure Python"
    return [
        f"date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"machine: {os.cpu_count()} CPUs ({usable} usable), {cpu}; {platform.platform()}",
        f"python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        f"expreview {_version('expreview')}, libcst {_version('libcst')}, PyYAML {yaml.__version__} ({yaml_c}); "
        f"repository {REPO} at {commit}",
        f"load average at start: {load}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, noisier)")
    parser.add_argument("--fixit", help="the fixit executable (default: next to python, `python -m fixit`, PATH)")
    parser.add_argument("--inputs", choices=("auto", "fixtures"), default="auto",
                        help="auto: the seeds when ../shared/seeds exists, else the fixtures")
    parser.add_argument("--profile", type=int, metavar="INDEX",
                        help="only print the cProfile top entries of the in-process review of input INDEX")
    args = parser.parse_args()
    started = time.perf_counter()
    where, cases = load_cases(args.inputs)
    if args.profile is not None:
        profile(cases, args.profile)
        return 0
    reps = dict(overhead=3, cold=3, peer=2, throughput=1, hydra=2) if args.quick else \
        dict(overhead=7, cold=7, peer=4, throughput=3, hydra=5)
    print("expreview benchmark" + (" (--quick)" if args.quick else ""))
    for line in machine_info():
        print("  " + line)
    print(f"  inputs: {where}: " + ", ".join(f"{c.name} ({c.bundle.stage})" for c in cases))
    print(f"  repetitions: {reps}")
    global CHILD_ENV
    with tempfile.TemporaryDirectory(prefix="expreview-bench-") as tmp_name:
        tmp = Path(tmp_name)
        CHILD_ENV = cached_bytecode_env(tmp / "pycache")
        section("1. rule overhead (in-process review / bare parse)",
                lambda: bench_overhead(cases, reps["overhead"]), ["rule overhead overall"])
        section("2. CLI cold start", lambda: bench_cold(cases, reps["cold"]), ["cold start"])
        section("3. peer: fixit lint", lambda: bench_peer(cases, reps["peer"], args.fixit, tmp),
                ["peer: expreview / fixit lint"])
        section("4. throughput (many bundles, one call)", lambda: bench_throughput(cases, reps["throughput"], tmp),
                ["throughput"])
        section("5. hydra: cold start and composition per run config", lambda: bench_hydra(reps["hydra"]),
                ["hydra cold start"])
    width = max(len(r.metric) for r in ROWS) + 2
    vwidth = max(len(r.value) for r in ROWS) + 2
    print("\n== summary")
    print(f"{'metric':<{width}}{'value':<{vwidth}}{'goal':<10}status")
    for r in ROWS:
        print(f"{r.metric:<{width}}{r.value:<{vwidth}}{r.goal:<10}{r.status}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    print(f"\nload average at end: {load}; total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
