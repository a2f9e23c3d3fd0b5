"""Which distribution provides an import name, and which imports are the standard library."""
from __future__ import annotations

import sys

from packaging.utils import canonicalize_name

# import name -> distributions that provide it (first one is what to declare)
IMPORT_TO_DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "yaml": ("PyYAML",),
    "sklearn": ("scikit-learn",),
    "skimage": ("scikit-image",),
    "PIL": ("Pillow",),
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python"),
    "hydra": ("hydra-core",),
    "bs4": ("beautifulsoup4",),
    "attr": ("attrs",),
    "dateutil": ("python-dateutil",),
    "dotenv": ("python-dotenv",),
    "google.protobuf": ("protobuf",),
    "pytorch_lightning": ("pytorch-lightning", "lightning"),
    "lightning": ("lightning",),
    "sentence_transformers": ("sentence-transformers",),
    "huggingface_hub": ("huggingface-hub",),
    "tensorflow_datasets": ("tensorflow-datasets",),
    "torch_geometric": ("torch-geometric",),
    "faiss": ("faiss-cpu", "faiss-gpu"),
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
    "absl": ("absl-py",),
    "tree": ("dm-tree",),
    "git": ("GitPython",),
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

# Imports that a declared distribution always brings with it (its own hard requirement).
PROVIDED_BY = {"omegaconf": ("hydra-core",)}


def candidates(import_name: str) -> tuple[str, ...]:
    """Distributions that satisfy `import import_name` (dotted names fall back to their top)."""
    if import_name in IMPORT_TO_DISTRIBUTIONS:
        return IMPORT_TO_DISTRIBUTIONS[import_name]
    top = import_name.split(".")[0]
    if top in IMPORT_TO_DISTRIBUTIONS:
        return IMPORT_TO_DISTRIBUTIONS[top]
    return (top,)


def provides(distribution: str, import_name: str) -> bool:
    wanted = canonicalize_name(distribution)
    top = import_name.split(".")[0]
    return any(canonicalize_name(d) == wanted for d in candidates(import_name) + PROVIDED_BY.get(top, ())) or \
        canonicalize_name(top) == wanted
