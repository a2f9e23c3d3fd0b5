"""Generate requires.json, the package data DEP002 reads: what the common ML distributions install
(transitively) and which import names each distribution provides, taken from the installed
distributions' own metadata, never written by hand.

    python -m venv /tmp/gen && /tmp/gen/bin/pip install <every name in DISTRIBUTIONS>
    python -m expreview.checks.dep.make_requires --path /tmp/gen/lib/python3.11/site-packages
    python -m expreview.checks.dep.make_requires --path ... --check   # exit 1 when the file differs

- `requires`: for every distribution reached from DISTRIBUTIONS, its direct requirements (canonical
  names) from `Requires-Dist`, with the markers evaluated for ENVIRONMENT (Linux x86_64, CPython
  3.11) and no extra; a requirement that asks for extras (`fsspec[http]`) points at a node
  `fsspec[http]` whose requirements are what that extra adds. The extras of DISTRIBUTIONS themselves
  are nodes too (`transformers[torch]`), for a project that declares one, except those for their own
  development (`dev`, `test`, `docs`, ...).
- `imports`: import name -> the distributions that install it, from each distribution's RECORD: the
  shortest dotted prefix of an installed module that is a module or a regular package of that
  distribution alone (`torch`, `yaml` -> PyYAML, `google.protobuf` -> protobuf under the shared
  `google` namespace).
- `versions`: the version of every distribution read; `missing`: those required but not installed
  where the map was made (their own requirements are unknown, so the map stops there).

Run it in an environment made for it, with the packages installed by pip for Linux and CPython 3.11:
the versions installed there are the ones recorded. The reviewed projects may pin other versions;
DEP002 uses the map only to tell "installed anyway, through a declared dependency" (a warning unless
the prompt asks for declared dependencies) from "not installed at all" (an error)."""
from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Iterable, Optional

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

OUTPUT = Path(__file__).with_name("requires.json")

# The distributions the map starts from: what the generated experiment projects declare (see
# ../shared/corpus), the common ML stack around them, a few whose import name differs from their
# distribution name, and the development tools a project declares without importing them (so that
# what they install is known too).
DISTRIBUTIONS = (
    "torch", "torchvision", "torchaudio", "transformers", "datasets", "accelerate", "peft", "timm", "tokenizers", "huggingface-hub",
    "safetensors", "evaluate", "sentence-transformers", "trl", "diffusers", "bitsandbytes", "sentencepiece",
    "hydra-core", "omegaconf", "wandb", "optuna", "tensorboard", "tensorboardx", "lightning",
    "pytorch-lightning", "torchmetrics", "einops", "torch-optimizer", "botorch", "gpytorch",
    "numpy", "scipy", "pandas", "scikit-learn", "scikit-image", "scikit-optimize", "statsmodels",
    "xgboost", "lightgbm", "matplotlib", "seaborn", "plotly", "pillow", "opencv-python-headless", "h5py",
    "tqdm", "pyyaml", "rich", "nltk", "sacrebleu", "rouge-score", "seqeval", "gymnasium", "openai",
    "nvidia-ml-py", "pynvml", "psutil", "faiss-cpu", "biopython", "pyzmq", "pyopenssl", "python-multipart",
    "python-dotenv", "gitpython", "beautifulsoup4", "boto3", "google-cloud-storage", "google-cloud-bigquery",
    "pytest", "pytest-cov", "black", "ruff", "mypy", "flake8", "isort", "pre-commit", "ipykernel", "ipython",
    "jupyter", "notebook", "wheel", "build", "twine", "pip", "uv", "hatchling", "setuptools",
)

# Where the markers are evaluated: the machine a generated project runs on.
ENVIRONMENT = {
    "os_name": "posix", "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
    "platform_release": "", "platform_version": "", "platform_python_implementation": "CPython",
    "implementation_name": "cpython", "implementation_version": "3.11.7", "python_version": "3.11",
    "python_full_version": "3.11.7",
}

# Top-level directories some wheels ship by mistake (botorch installs `build/`, `scripts/`, `docs/`):
# no project imports them as a third-party package. Private modules (`_yaml`) and mypyc's runtime
# helpers (`<hash>__mypyc`) are left out too.
NOT_IMPORT_NAMES = frozenset({"build", "dist", "doc", "docs", "example", "examples", "benchmarks", "scripts",
                              "test", "tests", "tutorials", "website", "site-packages"})

# Extras for a distribution's own development (its tests, docs, linters): an experiment project never
# declares them, and they would triple the map.
DEVELOPMENT_EXTRA = re.compile(r"^(dev|develop|development|test|tests|testing|doc|docs|document|documentation|"
                               r"quality|style|lint|typing|benchmark|benchmarks)([-_].*)?$|^(.*[-_])(dev|test|tests|testing)$")


def _marker_holds(marker: Optional[Marker], extra: str) -> bool:
    return marker is None or marker.evaluate({**ENVIRONMENT, "extra": extra})


def _requirements(dist: metadata.Distribution) -> list[Requirement]:
    out = []
    for line in dist.requires or []:
        try:
            out.append(Requirement(line))
        except InvalidRequirement:
            print(f"make_requires: {dist.metadata['Name']}: skipping unparsable requirement {line!r}", file=sys.stderr)
    return out


def _node(req: Requirement) -> list[str]:
    """The nodes a requirement reaches: the distribution, and one node per extra it asks for."""
    name = canonicalize_name(req.name)
    return [name] + [f"{name}[{canonicalize_name(e)}]" for e in sorted(req.extras)]


def _edges(dist: metadata.Distribution, extra: str) -> list[str]:
    """What `dist` (extra == "") or `dist[extra]` requires directly, as nodes."""
    out: set[str] = set()
    for req in _requirements(dist):
        if not _marker_holds(req.marker, extra):
            continue
        if extra and _marker_holds(req.marker, ""):
            continue  # a base requirement, reached through the plain node
        out.update(_node(req))
    if extra:
        out.add(canonicalize_name(dist.metadata["Name"]))
    return sorted(out)


def _extras(dist: metadata.Distribution) -> list[str]:
    """The extras a project may declare (`transformers[torch]`), without development ones."""
    names = {canonicalize_name(e) for e in dist.metadata.get_all("Provides-Extra") or []}
    return sorted(e for e in names if not DEVELOPMENT_EXTRA.match(e))


def installed(paths: Optional[list[str]]) -> dict[str, metadata.Distribution]:
    """Canonical name -> distribution, the first found on `paths` (default sys.path) winning."""
    found: dict[str, metadata.Distribution] = {}
    for dist in (metadata.distributions(path=paths) if paths else metadata.distributions()):
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), dist)
    return found


def requirement_graph(dists: dict[str, metadata.Distribution], roots: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """(node -> direct requirement nodes, required distributions that are not installed)."""
    graph: dict[str, list[str]] = {}
    missing: set[str] = set()
    todo: list[str] = []
    for root in roots:
        key = canonicalize_name(root)
        todo.append(key)
        if key in dists:
            todo.extend(f"{key}[{e}]" for e in _extras(dists[key]))
    while todo:
        node = todo.pop()
        if node in graph:
            continue
        name, _, extra = node.partition("[")
        dist = dists.get(name)
        if dist is None:
            missing.add(name)
            graph[node] = []
            continue
        graph[node] = _edges(dist, extra.rstrip("]"))
        todo.extend(graph[node])
    return {k: v for k, v in graph.items() if v or k.partition("[")[0] in dists}, sorted(missing)


def _is_module_file(name: str) -> bool:
    """A Python source or an extension module (`x.cpython-311-x86_64-linux-gnu.so`, `x.abi3.so`), not
    a shared library that a wheel bundles (`libcudart.so`)."""
    return name.endswith((".py", ".pyd")) or name.endswith(".so") and (".cpython-" in name or ".abi3." in name)


def _modules(dist: metadata.Distribution) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    """(module paths, regular package paths) that `dist` installs into site-packages."""
    modules: set[tuple[str, ...]] = set()
    packages: set[tuple[str, ...]] = set()
    for file in dist.files or []:
        path = PurePosixPath(str(file))
        parts = path.parts
        if not parts or parts[0] == ".." or parts[0].endswith((".dist-info", ".data", ".egg-info")):
            continue
        if not _is_module_file(path.name) or "__pycache__" in parts:
            continue
        stem = path.name.split(".")[0]
        dirs = parts[:-1]
        if not all(p.isidentifier() for p in dirs) or not stem.isidentifier():
            continue
        if stem == "__init__":
            if dirs:
                packages.add(dirs)
        else:
            modules.add(dirs + (stem,))
    return modules, packages


def import_names(dists: dict[str, metadata.Distribution], names: Iterable[str]) -> dict[str, list[str]]:
    """Import name -> distributions (as their metadata spells them), for the distributions `names`.

    A module path is owned at its shortest prefix that is a module or regular package whose file
    (`p.py`, `p/__init__.py`) only this distribution installs, or, below the top level, a namespace
    directory that only this distribution puts files under (`google.api`); a top-level namespace
    (`google`, `nvidia`) is shared by definition."""
    chosen = {n: dists[n] for n in sorted(set(names)) if n in dists}
    owned = {n: _modules(d) for n, d in chosen.items()}
    defines: dict[tuple[str, ...], set[str]] = {}  # a module or regular package -> who installs its file
    under: dict[tuple[str, ...], set[str]] = {}  # a directory or module -> who installs anything in it
    for name, (modules, packages) in owned.items():
        for path in modules | packages:
            defines.setdefault(path, set()).add(name)
            for depth in range(1, len(path) + 1):
                under.setdefault(path[:depth], set()).add(name)
    out: dict[str, set[str]] = {}
    for name, (modules, packages) in owned.items():
        spelled = chosen[name].metadata["Name"]
        for path in modules | packages:
            if path[0].startswith("_") or path[0].endswith("__mypyc") or path[0] in NOT_IMPORT_NAMES:
                continue
            for depth in range(1, len(path) + 1):
                prefix = path[:depth]
                if prefix in modules or prefix in packages:
                    alone = defines[prefix] == {name}
                else:
                    alone = depth > 1 and prefix not in defines and under[prefix] == {name}
                if alone or depth == len(path):
                    out.setdefault(".".join(prefix), set()).add(spelled)
                    break
    return {k: sorted(v, key=str.lower) for k, v in sorted(out.items())}


def build(paths: Optional[list[str]]) -> dict:
    dists = installed(paths)
    absent = [n for n in DISTRIBUTIONS if canonicalize_name(n) not in dists]
    if absent:
        raise SystemExit(f"make_requires: not installed: {', '.join(absent)}; pip install them first")
    graph, missing = requirement_graph(dists, DISTRIBUTIONS)
    reached = {node.partition("[")[0] for node in graph}
    return {
        "about": "Generated by `python -m expreview.checks.dep.make_requires` from the installed distributions' "
                 "Requires-Dist and RECORD; do not edit. requires: node -> its direct requirements, markers "
                 "evaluated for `environment` (an `x[e]` node: what extra e of x adds); imports: import name -> "
                 "distributions; versions: what the map was taken from; missing: required but not installed "
                 "there (their requirements are unknown).",
        "environment": ENVIRONMENT,
        "roots": sorted(canonicalize_name(n) for n in DISTRIBUTIONS),
        "versions": {n: dists[n].version for n in sorted(reached) if n in dists},
        "missing": missing,
        "requires": dict(sorted(graph.items())),
        "imports": import_names(dists, reached),
    }


def render(data: dict) -> str:
    """Compact JSON with one line per map entry, so that a regeneration diffs readably."""
    lines = ["{"]
    keys = list(data)
    for n, key in enumerate(keys):
        value = data[key]
        end = "," if n < len(keys) - 1 else ""
        if key in ("requires", "imports"):
            lines.append(f"{json.dumps(key)}: {{")
            items = list(value.items())
            for i, (k, v) in enumerate(items):
                lines.append(f"{json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}" + ("," if i < len(items) - 1 else ""))
            lines.append("}" + end)
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, separators=(',', ':'))}{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Write requires.json from the installed distributions' own metadata.")
    parser.add_argument("--path", action="append", help="a site-packages directory to read (default: sys.path); repeatable")
    parser.add_argument("--output", default=str(OUTPUT), help=f"where to write (default: {OUTPUT.name} beside this script)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when the output file would change")
    args = parser.parse_args(argv)
    text = render(build(args.path))
    target = Path(args.output)
    if args.check:
        same = target.is_file() and target.read_text(encoding="utf-8") == text
        print(f"{target}: {'up to date' if same else 'would change'}")
        return 0 if same else 1
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
