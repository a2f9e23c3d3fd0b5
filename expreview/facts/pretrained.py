"""Whether a `from_pretrained(x)` call loads a local directory (a saved checkpoint) rather than a
hub id (asked by CKPT, which wants saved models loaded, and HYD, whose cache rule skips them)."""
from __future__ import annotations

import re

import libcst as cst

from expreview.facts.values import resolve
from expreview.sources.index import Call, dotted_name, string_value
from expreview.sources.pyfile import PythonSource

_PATHISH = re.compile(r"(path|dir|ckpt|checkpoint|output|save|local|results?|folder)", re.I)


def loads_local_directory(source: PythonSource, call: Call) -> bool:
    """Whether `from_pretrained(x)` loads from a local directory rather than a hub id."""
    arg = call.positional(0) or call.keyword("pretrained_model_name_or_path")
    if arg is None:
        return False
    value = resolve(source.index, arg, call.scope)
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Divide):
        return True
    if isinstance(value, cst.Call):
        name = dotted_name(value.func)
        return name.endswith(("path.join", "Path", "joinpath")) or name in ("str",)
    text = string_value(value) if value is not None else None
    if text is not None:
        return text.startswith(("/", "./", "../", "~")) or text.endswith(("/", ".pt", ".bin"))
    return bool(_PATHISH.search(dotted_name(value) or dotted_name(arg)))
