"""What the CLI rules share: src/main.py's path and the argparse interface a script defines
(its flags, which are required or positional, and whether unknown flags are tolerated)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from expreview.facts.literals import literal
from expreview.sources.index import string_value
from expreview.sources.pyfile import PythonSource

MAIN = "src/main.py"


# -- the argparse interface a script defines ----------------------------------

@dataclass
class Flag:
    names: tuple[str, ...]
    required: bool
    positional: bool
    node: cst.Call


@dataclass
class ParserSpec:
    flags: list[Flag] = field(default_factory=list)
    tolerant: bool = False  # parse_known_args: unknown flags do not fail

    def defines(self, option: str) -> bool:
        for flag in self.flags:
            if option in flag.names:
                return True
            # argparse accepts unambiguous prefixes of long options
            if option.startswith("--") and any(n.startswith(option) for n in flag.names):
                return True
        return False

    @property
    def options(self) -> list[str]:
        return [n for f in self.flags for n in f.names if n.startswith("-")]


def parser_spec(source: PythonSource) -> Optional[ParserSpec]:
    """The argparse interface a script defines, or None when it uses no argparse parser."""
    index = source.index
    if not any(c.qualname in ("argparse.ArgumentParser",) or c.name.endswith("ArgumentParser")
               for c in index.calls):
        return None
    spec = ParserSpec()
    for call in index.calls:
        if not call.name.endswith(".add_argument"):
            continue
        names = []
        for arg in call.node.args:
            if arg.keyword is not None:
                break
            value = string_value(arg.value)
            if value is not None:
                names.append(value)
        if not names:
            continue
        positional = not names[0].startswith("-")
        required = positional and literal(call.keyword("nargs")) not in ("?", "*")
        req = call.keyword("required")
        if isinstance(req, cst.Name):
            required = req.value == "True"
        if call.keyword("default") is not None and positional:
            required = literal(call.keyword("nargs")) not in ("?", "*") and required
        spec.flags.append(Flag(tuple(names), required, positional, call.node))
    spec.tolerant = any(c.name.endswith("parse_known_args") for c in index.calls)
    return spec
