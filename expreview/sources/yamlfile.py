"""A YAML file of the bundle: composed once (with positions), constructed once, shared."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator, Optional, Union

import yaml

from expreview.sources.file import SourceFile

_Loader: type[Union[yaml.CSafeLoader, yaml.SafeLoader]]
try:  # libyaml is ~8x faster; the pure-Python loader gives the same nodes and values
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader

# Beyond this many nodes after expanding aliases, a document is an alias bomb, not a config.
MAX_EXPANDED_NODES = 200_000

Key = Union[str, int]


@dataclass
class Problem:
    message: str
    line: int
    column: int


@dataclass(frozen=True)
class Entry:
    """A mapping entry or sequence item, with where it is."""
    path: tuple  # keys and indices from the root
    key_node: Optional[yaml.Node]
    node: yaml.Node


class YamlSource(SourceFile):
    @cached_property
    def _loaded(self) -> tuple[Optional[yaml.Node], Any, Optional[Problem]]:
        loader = _Loader(self.text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None, None
            size = _expanded_size(node)
            if size > MAX_EXPANDED_NODES:
                mark = node.start_mark
                return None, None, Problem(
                    f"anchors and aliases expand to over {MAX_EXPANDED_NODES:,} nodes "
                    "(an alias bomb); write the values out instead", mark.line + 1, mark.column + 1)
            return node, loader.construct_document(node), None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            reason = " ".join(p for p in (exc.context, exc.problem) if p)
            return None, None, Problem(reason or "invalid YAML", line, col)
        except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
            return None, None, Problem(f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", 1, 1)
        finally:
            loader.dispose()

    @property
    def node(self) -> Optional[yaml.Node]:
        return self._loaded[0]

    @property
    def data(self) -> Any:
        return self._loaded[1]

    @property
    def problem(self) -> Optional[Problem]:
        return self._loaded[2]

    def entries(self) -> Iterator[Entry]:
        """Every mapping value and sequence item, depth first, in document order."""
        return iter(self._entries)

    @cached_property
    def _entries(self) -> tuple[Entry, ...]:
        # Listed once per file: a dozen rules walk every entry of every YAML file.
        return tuple(self._walk())

    def _walk(self) -> Iterator[Entry]:
        if self.node is None:
            return
        stack: list[tuple[tuple, Optional[yaml.Node], yaml.Node]] = [((), None, self.node)]
        seen: set[int] = set()
        while stack:
            path, key_node, node = stack.pop()
            if path:
                yield Entry(path, key_node, node)
            if id(node) in seen:  # an alias: its content was already listed where it was anchored
                continue
            seen.add(id(node))
            children = []
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    children.append((path + (_key(k),), k, v))
            elif isinstance(node, yaml.SequenceNode):
                for i, v in enumerate(node.value):
                    children.append((path + (i,), None, v))
            children.reverse()
            stack.extend(children)

    def scalars(self) -> Iterator[Entry]:
        for entry in self.entries():
            if isinstance(entry.node, yaml.ScalarNode):
                yield entry

    @cached_property
    def _scalar_spans(self) -> dict[int, list[tuple[int, int, int, int]]]:
        """Per line, the (line, col, end_line, end_col) spans of scalars that touch it."""
        spans: dict[int, list] = {}
        for entry in self.entries():
            for node in (entry.key_node, entry.node):
                if isinstance(node, yaml.ScalarNode):
                    s, e = node.start_mark, node.end_mark
                    span = (s.line, s.column, e.line, e.column)
                    for line in range(s.line, e.line + 1):
                        spans.setdefault(line, []).append(span)
        return spans

    def comment(self, line: int) -> Optional[str]:
        """The comment on 1-based `line` (text after `#`), or None. `#` inside scalars is text."""
        if not 1 <= line <= len(self.lines):
            return None
        text = self.lines[line - 1]
        spans = self._scalar_spans.get(line - 1, [])
        for match in re.finditer(r"#", text):
            col = match.start()
            if col > 0 and not text[col - 1].isspace():
                continue
            inside = any(
                (line - 1, col) >= (s_line, s_col) and (line - 1, col) < (e_line, e_col)
                for s_line, s_col, e_line, e_col in spans
            )
            if not inside:
                return text[col + 1:].strip()
        return None

    def is_comment_line(self, line: int) -> bool:
        return 1 <= line <= len(self.lines) and self.lines[line - 1].lstrip().startswith("#") \
            and self.comment(line) is not None


def _key(node: yaml.Node) -> Key:
    return node.value if isinstance(node, yaml.ScalarNode) else str(node.value)


def _expanded_size(root: yaml.Node) -> int:
    """Node count with aliases expanded, computed over the shared node graph."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack = [root]
    while stack:  # iterative post-order over the DAG
        node = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        order.append(node)
        sizes[id(node)] = 0  # in progress
        for child in _children(node):
            if id(child) not in sizes:
                stack.append(child)
    for node in reversed(order):
        total = 1
        for child in _children(node):
            total += sizes.get(id(child), 1) or 1
            if total > MAX_EXPANDED_NODES:
                break
        sizes[id(node)] = total
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
