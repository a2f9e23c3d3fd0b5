"""Which distribution provides an import name, what a declared distribution installs with it, and
which imports are the standard library.

Most of it is read from requires.json (package data, loaded on first use), which
`python -m expreview.checks.dep.make_requires` generates from the installed distributions' own
metadata (RECORD, Requires-Dist); the tables here hold what that map cannot know: preferences among
alternatives, and distributions that were not installed where it was made."""
from __future__ import annotations

import json
import re
import sys
from collections import deque
from functools import lru_cache
from typing import Any, Iterator, Mapping

from packaging.utils import canonicalize_name

from expreview import package_data

REQUIRES_FILE = "requires.json"

# import name -> distributions that provide it (the first is what to declare), for what requires.json
# does not cover or where the first choice is a preference (it has opencv-python-headless for cv2).
# A dotted name covers its submodules.
IMPORT_TO_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"),
    "pytorch_lightning": ("pytorch-lightning", "lightning"),
    "pynvml": ("nvidia-ml-py", "pynvml"),
    "pkg_resources": ("setuptools",),  # setuptools < 81; the one the map was made from has none
    "torchtext": ("torchtext",),
    "torchdata": ("torchdata",),
    "torch_geometric": ("torch-geometric",),
    "torch_scatter": ("torch-scatter",),
    "torch_sparse": ("torch-sparse",),
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "keras": ("keras",),
    "flax": ("flax",),
    "optax": ("optax",),
    "haiku": ("dm-haiku",),
    "mlflow": ("mlflow",),
    "ray": ("ray",),
    "deepspeed": ("deepspeed",),
    "xformers": ("xformers",),
    "flash_attn": ("flash-attn",),
    "vllm": ("vllm",),
    "lm_eval": ("lm-eval",),
    "optimum": ("optimum",),
    "onnx": ("onnx",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
    "kornia": ("kornia",),
    "albumentations": ("albumentations",),
    "pycocotools": ("pycocotools",),
    "imblearn": ("imbalanced-learn",),
    "catboost": ("catboost",),
    "hyperopt": ("hyperopt",),
    "spacy": ("spacy",),
    "gensim": ("gensim",),
    "tiktoken": ("tiktoken",),
    "comet_ml": ("comet-ml",),
    "clearml": ("clearml",),
    "neptune": ("neptune",),
    "pytorch_metric_learning": ("pytorch-metric-learning",),
    "tensorflow_datasets": ("tensorflow-datasets",),
    # Google Cloud client libraries share the google.cloud namespace; google.cloud.X_v1 is found
    # through google.cloud.X (see _prefixes)
    "google.cloud.aiplatform": ("google-cloud-aiplatform",),
    "vertexai": ("google-cloud-aiplatform",),
    "google.cloud.bigquery_storage": ("google-cloud-bigquery-storage",),
    "google.cloud.pubsub": ("google-cloud-pubsub",),
    "google.cloud.secretmanager": ("google-cloud-secret-manager",),
    "google.cloud.resourcemanager": ("google-cloud-resource-manager",),
    "google.cloud.firestore": ("google-cloud-firestore",),
    "google.cloud.logging": ("google-cloud-logging",),
    "google.cloud.translate": ("google-cloud-translate",),
    "google.cloud.vision": ("google-cloud-vision",),
    "google.cloud.speech": ("google-cloud-speech",),
    "google.cloud.language": ("google-cloud-language",),
    "google.cloud.texttospeech": ("google-cloud-texttospeech",),
    "google.cloud.monitoring": ("google-cloud-monitoring",),
    "google.cloud.kms": ("google-cloud-kms",),
    "google.cloud.datastore": ("google-cloud-datastore",),
    "google.cloud.spanner": ("google-cloud-spanner",),
    "google.cloud.bigtable": ("google-cloud-bigtable",),
    "google.cloud.tasks": ("google-cloud-tasks",),
    "google.cloud.dlp": ("google-cloud-dlp",),
    "google.cloud.documentai": ("google-cloud-documentai",),
    "google.cloud.videointelligence": ("google-cloud-videointelligence",),
    "google.cloud.compute": ("google-cloud-compute",),
    "google.cloud.functions": ("google-cloud-functions",),
    "google.cloud.run": ("google-cloud-run",),
    "google.cloud.dataproc": ("google-cloud-dataproc",),
    "google.generativeai": ("google-generativeai",),
    "google.genai": ("google-genai",),
    "googleapiclient": ("google-api-python-client",),
    "google_auth_oauthlib": ("google-auth-oauthlib",),
    "faiss": ("faiss-cpu", "faiss-gpu"),
    "jsonlines": ("jsonlines",),
    "Levenshtein": ("python-Levenshtein", "levenshtein"),
    "jwt": ("PyJWT",),
    "serial": ("pyserial",),
    "Crypto": ("pycryptodome",),
    "fitz": ("PyMuPDF",),
    "docx": ("python-docx",),
    "magic": ("python-magic",),
    "gym": ("gym", "gymnasium"),
    "OpenGL": ("PyOpenGL",),
    "jax": ("jax", "jaxlib"),
    "paddle": ("paddlepaddle", "paddlepaddle-gpu"),
    "mxnet": ("mxnet",),
    "tf_keras": ("tf-keras",),
    "umap": ("umap-learn",),
    "ruamel": ("ruamel.yaml",),
    "tree": ("dm-tree",),
}

# Other frameworks than PyTorch, by import name and by distribution name.
OTHER_FRAMEWORKS = {"tensorflow": "TensorFlow", "keras": "Keras", "jax": "JAX", "jaxlib": "JAX",
                    "flax": "Flax", "paddle": "PaddlePaddle", "paddlepaddle": "PaddlePaddle",
                    "mxnet": "MXNet", "tf_keras": "Keras", "tf-keras": "Keras", "haiku": "Haiku",
                    "dm-haiku": "Haiku", "tensorflow-gpu": "TensorFlow", "tensorflow-cpu": "TensorFlow"}

# Declared for tooling or as implicit back ends, never imported by design.
NOT_IMPORTED_BY_DESIGN = {canonicalize_name(n) for n in (
    "pytest", "pytest-cov", "ruff", "black", "mypy", "flake8", "isort", "pre-commit", "ipykernel",
    "jupyter", "notebook", "uv", "pip", "setuptools", "wheel", "hatchling", "build", "twine",
)}

STDLIB = set(sys.stdlib_module_names) | {"__future__"}

# Imports that are part of a declared distribution's own interface, so declaring it declares them:
# Hydra hands its task functions an omegaconf DictConfig.
PROVIDED_BY = {"omegaconf": ("hydra-core",)}

# import name -> distributions, as `[tool.expreview] distributions` (bundle option `distributions`) gives it
UserMap = Mapping[str, tuple[str, ...]]
_VERSIONED = re.compile(r"^(?P<name>\w+?)_v\d+(?:p\d+)?(?:alpha|beta)?\d*$")  # pubsub_v1, bigquery_storage_v1beta2


@lru_cache(maxsize=1)
def shipped() -> dict[str, Any]:
    """requires.json: `requires` (node -> direct requirements), `imports`, `versions`, ..."""
    text = package_data.read_bytes(__package__, REQUIRES_FILE).decode("utf-8")
    data = json.loads(text)
    return data if isinstance(data, dict) else {}


def user_map(value: Any) -> dict[str, tuple[str, ...]]:
    """The `distributions` option as import name -> distributions; anything malformed is ignored
    (expreview.settings validates what a configuration file says)."""
    if not isinstance(value, Mapping):
        return {}
    out = {}
    for name, dists in value.items():
        if isinstance(dists, str):
            dists = [dists]
        if isinstance(name, str) and isinstance(dists, (list, tuple)) and dists and all(isinstance(d, str) for d in dists):
            out[name] = tuple(dists)
    return out


def _prefixes(import_name: str) -> Iterator[str]:
    """`a.b.c`, then `a.b`, then `a`; a versioned API module (`google.cloud.pubsub_v1`) also as its
    unversioned name (`google.cloud.pubsub`)."""
    parts = import_name.split(".")
    for depth in range(len(parts), 0, -1):
        yield ".".join(parts[:depth])
        match = _VERSIONED.match(parts[depth - 1])
        if match and depth > 1:
            yield ".".join(parts[:depth - 1] + [match.group("name")])


def candidates(import_name: str, extra: UserMap = {}) -> tuple[str, ...]:
    """Distributions that install `import import_name`, the one to declare first; () when neither
    the user's map, this module's table nor requires.json knows it (never the import name itself)."""
    if not extra:
        return _shipped_candidates(import_name)
    return _candidates(import_name, extra)


@lru_cache(maxsize=1024)
def _shipped_candidates(import_name: str) -> tuple[str, ...]:
    """`candidates` without a user map, once per import name: DEP002 and DEP004 ask it for every
    pair of declared distribution and imported module."""
    return _candidates(import_name, {})


def _candidates(import_name: str, extra: UserMap) -> tuple[str, ...]:
    generated = shipped().get("imports", {})
    for prefix in _prefixes(import_name):
        found = tuple(extra.get(prefix, ())) + IMPORT_TO_DISTRIBUTIONS.get(prefix, ()) + tuple(generated.get(prefix, ()))
        if found:
            unique: dict[str, str] = {}
            for dist in found:
                unique.setdefault(_canonical(dist), dist)
            return tuple(unique.values())
    return ()


@lru_cache(maxsize=4096)
def _canonical(name: str) -> str:
    return canonicalize_name(name)


def is_namespace(top: str) -> bool:
    """Whether the maps know `top` only through its submodules (`google`, `opentelemetry`)."""
    return top in _namespaces()


@lru_cache(maxsize=1)
def _namespaces() -> frozenset[str]:
    known = set(IMPORT_TO_DISTRIBUTIONS) | set(shipped().get("imports", {}))
    return frozenset(name.split(".")[0] for name in known if "." in name) - known


def provides(distribution: str, import_name: str, extra: UserMap = {}) -> bool:
    """Whether declaring `distribution` declares `import import_name` (a distribution named as the
    import counts: that is how most are named)."""
    wanted = _canonical(distribution)
    top = import_name.split(".")[0]
    return any(_canonical(d) == wanted for d in candidates(import_name, extra) + PROVIDED_BY.get(top, ())) or \
        _canonical(top) == wanted


def requirements_known(distribution: str) -> bool:
    """Whether requires.json knows what `distribution` installs (it was installed where the map was made)."""
    return canonicalize_name(distribution) in shipped().get("versions", {})


def installs(distribution: str, extras: tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
    """What installing `distribution` (with `extras`) installs besides itself, by requires.json:
    canonical name -> the chain of distributions that requires it, shortest first (`yaml` through
    hydra-core: `("omegaconf", "pyyaml")`)."""
    return _installs(canonicalize_name(distribution), tuple(sorted(canonicalize_name(e) for e in extras)))


@lru_cache(maxsize=512)
def _installs(start: str, extras: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    graph = shipped().get("requires", {})
    nodes = [start] + [f"{start}[{e}]" for e in extras]
    chains: dict[str, tuple[str, ...]] = {start: ()}
    seen = set(nodes)
    queue: deque[tuple[str, tuple[str, ...]]] = deque((node, ()) for node in nodes)
    while queue:
        node, chain = queue.popleft()
        for child in graph.get(node, ()):
            name = child.partition("[")[0]
            reached = chain if name == node.partition("[")[0] else chain + (name,)
            chains.setdefault(name, reached)
            if child not in seen:
                seen.add(child)
                queue.append((child, reached))
    del chains[start]
    return chains
