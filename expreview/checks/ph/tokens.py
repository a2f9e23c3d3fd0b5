"""The placeholder tokens of a bundle, which PH001 and PH002 judge: each `…PLACEHOLDER…` in a
Python string or name and in a YAML key or scalar, with its line and the path to it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional, Union

import libcst as cst
import yaml

from expreview.bundle import Bundle
from expreview.facts.docstrings import is_docstring
from expreview.facts.placeholders import PLACEHOLDER
from expreview.findings import Span
from expreview.sources.pyfile import PythonSource
from expreview.sources.yamlfile import YamlSource


@dataclass
class Token:
    path: str
    text: str  # the placeholder token
    line: int
    where: Union[cst.CSTNode, yaml.Node, Span]
    context: str  # the string or scalar holding it
    yaml_path: tuple = ()
    first_line: Optional[int] = None  # where the Python statement holding it starts

    @property
    def location(self):
        """The node when it starts on the token's line, else just the line."""
        if isinstance(self.where, yaml.Node) and self.where.start_mark.line + 1 != self.line:
            return self.line
        return self.where


def _python_tokens(source: PythonSource) -> Iterator[Token]:
    index = source.index
    for s in index.strings:
        if "PLACEHOLDER" not in s.value or id(s.node) in index.compared or is_docstring(index, s.node, s.stmt):
            continue
        match = PLACEHOLDER.search(s.value)
        if match:
            line = source.span(s.node).line + s.value[: match.start()].count("\n")
            first = source.span(index.statements[s.stmt]).line if 0 <= s.stmt < len(index.statements) else None
            yield Token(source.path, match.group(), line, s.node, s.value, first_line=first)
    # names such as `LR_PLACEHOLDER = 0.1`, at module level or in a function
    names = set(index.module_assigns).union(*(fn.assigns for fn in index.functions))
    for name in sorted(n for n in names if PLACEHOLDER.fullmatch(n)):
        found = re.search(rf"^[ \t]*{re.escape(name)}\s*(?::[^=\n]*)?=(?!=)", source.text, re.M)
        if found:
            line = source.text.count("\n", 0, found.start()) + 1
            yield Token(source.path, name, line, Span(line, 1, line, 1), name)


def _yaml_tokens(doc: YamlSource) -> Iterator[Token]:
    for entry in doc.entries():
        key = entry.key_node  # `training: {SPECIFIC_CONFIG_PLACEHOLDER}` puts the token in a key
        if isinstance(key, yaml.ScalarNode) and isinstance(key.value, str) and "PLACEHOLDER" in key.value:
            match = PLACEHOLDER.search(key.value)
            if match is not None:
                yield Token(doc.path, match.group(), key.start_mark.line + 1, key, key.value, entry.path[:-1])
        if not isinstance(entry.node, yaml.ScalarNode):
            continue
        value = entry.node.value
        if not isinstance(value, str) or "PLACEHOLDER" not in value:
            continue
        match = PLACEHOLDER.search(value)
        if match is None:
            continue
        line = entry.node.start_mark.line + 1
        if entry.node.style and entry.node.style in "|>":
            for number in range(line, entry.node.end_mark.line + 2):
                if match.group() in (doc.lines[number - 1] if number <= len(doc.lines) else ""):
                    line = number
                    break
        yield Token(doc.path, match.group(), line, entry.node, value, entry.path)


def placeholder_tokens(bundle: Bundle) -> Iterator[Token]:
    for source in bundle.python_files():
        if source.ok:
            yield from _python_tokens(source)
    for doc in bundle.yaml_files():
        yield from _yaml_tokens(doc)
