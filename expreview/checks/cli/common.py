"""What the CLI rules share: src/main.py's path and the argparse interface a script defines
(its flags, which are required or positional, and whether unknown flags are tolerated)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from expreview.facts.literals import literal
from expreview.sources.index import dotted_name, string_value
from expreview.sources.pyfile import PythonSource

MAIN = "src/main.py"


# -- the argparse interface a script defines ----------------------------------

@dataclass
class Flag:
    names: tuple[str, ...]
    required: bool
    positional: bool
    node: cst.Call
    subcommand: bool = False  # added to a subparser (`sub.add_parser("train").add_argument(...)`)


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

    @property
    def top_level_options(self) -> list[str]:
        """The options of the main parser: a subparser's options are not accepted before its command."""
        return [n for f in self.flags if not f.subcommand for n in f.names if n.startswith("-")]


def _bound_to(index, test) -> set[str]:
    """Names assigned the result of a call that `test` accepts (`sub = parser.add_subparsers()`)."""
    out = set()
    for call in index.calls:
        statement = index.statements[call.stmt] if call.stmt >= 0 else None
        if test(call) and isinstance(statement, cst.Assign) and statement.value is call.node:
            for target in statement.targets:
                if isinstance(target.target, cst.Name):
                    out.add(target.target.value)
    return out


def parser_spec(source: PythonSource) -> Optional[ParserSpec]:
    """The argparse interface a script defines, or None when it uses no argparse parser."""
    index = source.index
    if not any(c.qualname in ("argparse.ArgumentParser",) or c.name.endswith("ArgumentParser")
               for c in index.calls):
        return None
    spec = ParserSpec()
    subparsers = _bound_to(index, lambda c: c.method == "add_subparsers")
    commands = _bound_to(index, lambda c: c.method == "add_parser" and c.name.split(".")[0] in subparsers)
    commands |= _bound_to(index, lambda c: c.method in ("add_mutually_exclusive_group", "add_argument_group")
                          and c.name.split(".")[0] in commands)  # a group of a subcommand's parser
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
        owner = call.name.rsplit(".", 1)[0]
        in_command = owner in commands or (isinstance(call.node.func, cst.Attribute) and isinstance(
            call.node.func.value, cst.Call) and dotted_name(call.node.func.value.func).endswith(".add_parser"))
        spec.flags.append(Flag(tuple(names), required, positional, call.node, in_command))
    spec.tolerant = any(c.name.endswith("parse_known_args") for c in index.calls)
    return spec
