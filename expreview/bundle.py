"""The Bundle: the files under review and their context, with lazily parsed documents."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, TypeVar

from expreview.findings import Finding
from expreview.profiles import stages
from expreview.sources.dockerfile import DockerfileSource
from expreview.sources.pyfile import PythonSource
from expreview.sources.tomlfile import TomlSource
from expreview.sources.yamlfile import YamlSource

# One stage per rules/<stage>.yaml, read at import (the CLI's --stage choices); code that runs
# later asks expreview.profiles.stages(), which follows EXPREVIEW_RULES_DIR.
STAGES = stages()
Doc = TypeVar("Doc", PythonSource, YamlSource, TomlSource, DockerfileSource)

# Pipeline keys of a JSON bundle and the paths they stand for.
PIPELINE_KEYS = {
    "train_py": "src/train.py",
    "evaluate_py": "src/evaluate.py",
    "preprocess_py": "src/preprocess.py",
    "model_py": "src/model.py",
    "main_py": "src/main.py",
    "pyproject_toml": "pyproject.toml",
    "smoke_test_yaml": "config/smoke_test.yaml",
    "full_experiment_yaml": "config/full_experiment.yaml",
    "config_yaml": "config/config.yaml",
}


@dataclass
class Bundle:
    files: dict[str, str]
    stage: Optional[str] = None  # one of STAGES; None until decided
    prompt_version: Optional[str] = None  # the prompt version group to judge by; None: the stage's newest
    options: dict[str, Any] = field(default_factory=dict)
    run_variations: Optional[list[str]] = None
    base: Optional["Bundle"] = None
    # Where the bundle came from, and how its stage and options were decided.
    source: str = ""
    root: str = ""  # the directory it was read from, relative to the working directory ("" if none)
    notes: list[str] = field(default_factory=list)
    # Problems the loader met, reported as findings.
    load_findings: list[Finding] = field(default_factory=list)
    # Files that cannot be reviewed as text (binary, not UTF-8, too large): path -> why.
    # They stay in `files` (as "") for the layout rules; no parser ever sees them.
    unreadable: dict[str, str] = field(default_factory=dict)
    _docs: dict[tuple[str, type], object] = field(default_factory=dict, repr=False)  # (path, kind) -> parse
    # fact function -> its value for this bundle; filled by expreview.facts.cache.bundle_fact
    facts: dict[object, object] = field(default_factory=dict, repr=False)

    def option(self, name: str, default: Any = None) -> Any:
        return self.options.get(name, default)

    def has(self, path: str) -> bool:
        return path in self.files

    def paths(self, suffix: str = "") -> list[str]:
        return sorted(p for p in self.files if p.endswith(suffix)) if suffix else sorted(self.files)

    def python(self, path: str) -> Optional[PythonSource]:
        return self._doc(path, PythonSource)

    def parsed(self, path: str) -> Optional[PythonSource]:
        """The Python file at `path` when the bundle has it and it parses (a syntax error is PY001's)."""
        source = self.python(path)
        return source if source is not None and source.ok else None

    def yaml(self, path: str) -> Optional[YamlSource]:
        return self._doc(path, YamlSource)

    def toml(self, path: str) -> Optional[TomlSource]:
        return self._doc(path, TomlSource)

    def dockerfile(self, path: str = "Dockerfile") -> Optional[DockerfileSource]:
        return self._doc(path, DockerfileSource)

    def python_files(self) -> list[PythonSource]:
        return [doc for p in self.paths(".py") if (doc := self.python(p)) is not None]

    def yaml_files(self) -> list[YamlSource]:
        return [doc for p in self.paths() if p.endswith((".yaml", ".yml")) and (doc := self.yaml(p)) is not None]

    def _doc(self, path: str, kind: type[Doc]) -> Optional[Doc]:
        doc = self._docs.get((path, kind))
        if not isinstance(doc, kind):
            text = self.files.get(path)
            if text is None or path in self.unreadable:
                return None
            base = self.base
            if base is not None and base.files.get(path) == text and path not in base.unreadable:
                doc = base._doc(path, kind)  # a file the derivation left unchanged is parsed once
            else:
                doc = kind(path, text)
            self._docs[(path, kind)] = doc
        return doc
