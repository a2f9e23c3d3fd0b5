"""Where in a file a third-party name that the API snapshot lacks does not fail the run, for PY008:
the head name is bound otherwise in the file (a parameter, an assignment, a loop, comprehension or
`except` target); the read is inside `try:` whose handler catches what it raises, or inside `with
contextlib.suppress(...)` of one of those; it is under an `if` (or a conditional expression) whose
test is about versions, `hasattr`/`dir()` or TYPE_CHECKING; or it is an annotation that is never
evaluated (`from __future__ import annotations`, or a local variable's). `Guards` answers this for
one file, making the parent links on the first question."""
from __future__ import annotations

from typing import Iterator, Optional

import libcst as cst

from expreview.sources.index import dotted_name, iter_children
from expreview.sources.pyfile import PythonSource


_VERSION_WORDS = ("version", "TYPE_CHECKING")
_TEST_CALLS = ("hasattr", "dir")
_CATCH_ALL = ("Exception", "BaseException")


class Guards:
    """Where in a file a failing name does not fail the run: the parent links are made on the
    first question (most files have no missing name at all)."""

    def __init__(self, source: PythonSource):
        self.source = source
        self._parents: Optional[dict[int, cst.CSTNode]] = None
        self._rebound: Optional[set[str]] = None

    def parents(self) -> dict[int, cst.CSTNode]:
        if self._parents is None:
            parents: dict[int, cst.CSTNode] = {}
            module = self.source.module
            stack: list[cst.CSTNode] = [module] if module is not None else []
            while stack:
                node = stack.pop()
                for child in iter_children(node):
                    parents[id(child)] = node
                    stack.append(child)
            self._parents = parents
        return self._parents

    def rebound(self) -> set[str]:
        """Names the file binds other than by an import: assignments, definitions, parameters,
        loop, comprehension, `with` and `except` targets."""
        if self._rebound is None:
            index = self.source.index
            names = set(index.module_assigns)
            for fn in index.functions:
                names.update(fn.assigns)
                names.update(fn.params)
            for node in self._walk():
                if isinstance(node, cst.Param):
                    names.add(node.name.value)
                elif isinstance(node, cst.ExceptHandler) and node.name is not None:
                    names.update(n.value for n in self._names_in(node.name.name))
                elif isinstance(node, cst.CompFor):
                    names.update(n.value for n in self._names_in(node.target))
            self._rebound = names
        return self._rebound

    def _walk(self) -> Iterator[cst.CSTNode]:
        module = self.source.module
        stack: list[cst.CSTNode] = [module] if module is not None else []
        while stack:
            node = stack.pop()
            yield node
            stack.extend(iter_children(node))

    @staticmethod
    def _names_in(node: cst.CSTNode) -> Iterator[cst.Name]:
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, cst.Name):
                yield current
            stack.extend(iter_children(current))

    def _future_annotations(self) -> bool:
        return any(imp.module == "__future__" and imp.name == "annotations" for imp in self.source.index.imports)

    def guarded(self, node: cst.CSTNode, import_: bool) -> bool:
        if not import_:
            head = dotted_name(node).split(".")[0]
            if head in self.rebound():
                return True
        parents = self.parents()
        child, parent = node, parents.get(id(node))
        crossed_function = False
        while parent is not None:
            if isinstance(parent, cst.Annotation) and (self._future_annotations() or
                                                       isinstance(parents.get(id(parent)), cst.AnnAssign)
                                                       and self.source.index.scope_of(self._stmt(parent)) is not None):
                return True
            if isinstance(parent, cst.Try) and child is parent.body and not crossed_function \
                    and any(self._catches(h, import_) for h in parent.handlers):
                return True
            if isinstance(parent, (cst.If, cst.IfExp)) and child is not parent.test and self._tests_availability(parent.test):
                return True
            if isinstance(parent, cst.With) and child is parent.body and not crossed_function \
                    and any(self._suppresses(item.item, import_) for item in parent.items):
                return True
            if isinstance(parent, (cst.FunctionDef, cst.Lambda)):
                crossed_function = True
            child, parent = parent, parents.get(id(parent))
        return False

    def _stmt(self, node: cst.CSTNode) -> int:
        parents = self.parents()
        current: Optional[cst.CSTNode] = node
        while current is not None and id(current) not in self.source.index.stmt_of:
            current = parents.get(id(current))
        return self.source.index.stmt_of.get(id(current), -1) if current is not None else -1

    @staticmethod
    def _catches(handler: cst.ExceptHandler, import_: bool) -> bool:
        if handler.type is None:
            return True
        types = [handler.type]
        if isinstance(handler.type, cst.Tuple):
            types = [el.value for el in handler.type.elements]
        wanted = ("ImportError", "ModuleNotFoundError") if import_ else ("AttributeError",)
        return any(dotted_name(t).split(".")[-1] in wanted + _CATCH_ALL for t in types)

    @classmethod
    def _suppresses(cls, item: cst.BaseExpression, import_: bool) -> bool:
        """`contextlib.suppress(AttributeError)` (ImportError for an import)."""
        if not isinstance(item, cst.Call) or dotted_name(item.func).split(".")[-1] != "suppress":
            return False
        wanted = ("ImportError", "ModuleNotFoundError") if import_ else ("AttributeError",)
        return any(dotted_name(arg.value).split(".")[-1] in wanted + _CATCH_ALL for arg in item.args)

    def _tests_availability(self, test: cst.CSTNode) -> bool:
        """A test about versions, TYPE_CHECKING, or whether a name exists (`hasattr`, `dir()`)."""
        stack = [test]
        while stack:
            node = stack.pop()
            if isinstance(node, cst.Name) and (any(w.lower() in node.value.lower() for w in _VERSION_WORDS)):
                return True
            if isinstance(node, cst.Call) and dotted_name(node.func).split(".")[-1] in _TEST_CALLS:
                return True
            stack.extend(iter_children(node))
        return False
