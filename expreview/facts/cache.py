"""Facts computed once: per bundle or per parsed file, keyed by the function that computes them.

    @bundle_fact
    def declared(bundle: Bundle) -> ...: ...

The value lives in `bundle.facts` / `source.facts` under the undecorated function object, so no
two facts can share a key and there are no string keys to misspell.
"""
from __future__ import annotations

import functools
from typing import Callable, TypeVar, cast

from expreview.bundle import Bundle
from expreview.sources.file import SourceFile

T = TypeVar("T")
S = TypeVar("S", bound=SourceFile)


def bundle_fact(fn: Callable[[Bundle], T]) -> Callable[[Bundle], T]:
    """`fn(bundle)`, computed once per bundle."""
    @functools.wraps(fn)
    def cached(bundle: Bundle) -> T:
        facts = bundle.facts
        if fn not in facts:
            facts[fn] = fn(bundle)
        return cast(T, facts[fn])
    return cached


def source_fact(fn: Callable[[S], T]) -> Callable[[S], T]:
    """`fn(source)`, computed once per parsed file."""
    @functools.wraps(fn)
    def cached(source: S) -> T:
        facts = source.facts
        if fn not in facts:
            facts[fn] = fn(source)
        return cast(T, facts[fn])
    return cached
