"""CLI003: src/main.py and src/evaluate.py read the pipeline's `key=value` call (`run=… results_dir=…
mode=…`, `results_dir=… run_ids='[…]'`), run_ids parsed by json.loads; what in an argparse
interface breaks that call."""
from __future__ import annotations

import math
from typing import Iterator, Optional

import libcst as cst

from expreview.bundle import Bundle
from expreview.checks.cli.common import MAIN, Flag, ParserSpec, parser_spec
from expreview.facts.hydra_config import hydra_main
from expreview.facts.literals import literal
from expreview.findings import CRASH, ERROR
from expreview.rule import Example, Hit, rule
from expreview.sources.index import Call, dotted_name, keyword_argument, string_value
from expreview.sources.pyfile import PythonSource


def _parses_key_values(source: PythonSource) -> bool:
    """Hydra, or its own `key=value` parsing of sys.argv."""
    if hydra_main(source) is not None:
        return True
    index = source.index
    uses_argv = any(a.name.startswith("sys.argv") for a in index.attributes)
    splits = any(c.name.endswith((".split", ".partition")) and (first := c.positional(0)) is not None
                 and string_value(first) == "=" for c in index.calls)
    return uses_argv and splits or any(c.name.endswith("OmegaConf.from_cli") or c.qualname.endswith("from_cli")
                                       for c in index.calls)


def _contract(bundle: Bundle, path: str) -> tuple[str, ...]:
    """The `key=value` arguments the pipeline passes to `path`, in the order it passes them."""
    if path == MAIN:
        return ("run", "results_dir", str(bundle.option("mode_flag", "mode")))
    return ("results_dir", "run_ids")


def _keys(flag: Flag) -> set[str]:
    """The key=value names an option stands for: `--results-dir` -> `results_dir`, and its dest."""
    names = {n.lstrip("-").replace("-", "_") for n in flag.names}
    dest = literal(keyword_argument(flag.node, "dest"))
    return names | {dest} if isinstance(dest, str) else names


def _word_range(flag: Flag) -> Optional[tuple[int, float]]:
    """The fewest and most command-line words a positional takes; None when nargs is computed."""
    node = keyword_argument(flag.node, "nargs")
    if node is None:
        return (1, 1)
    if dotted_name(node).endswith("REMAINDER"):
        return (0, math.inf)
    value = {"OPTIONAL": "?", "ZERO_OR_MORE": "*", "ONE_OR_MORE": "+"}.get(dotted_name(node).split(".")[-1]) \
        or literal(node)
    if value in ("?", "*", "+"):
        return (0 if value != "+" else 1, 1 if value == "?" else math.inf)
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, value)
    return None


def _argv_parses(source: PythonSource) -> list[Call]:
    """The parse_args/parse_known_args calls that read the command line: no list, None,
    `sys.argv[1:]`, or a parameter of the enclosing function (`def main(argv=None)`)."""
    out = []
    for call in source.index.calls:
        if call.method not in ("parse_args", "parse_known_args", "parse_intermixed_args"):
            continue
        given = call.positional(0) or call.keyword("args")
        if given is None or isinstance(given, cst.Name) and (
                given.value == "None" or call.scope is not None and given.value in call.scope.params) \
                or isinstance(given, cst.Subscript) and dotted_name(given.value) == "sys.argv":
            out.append(call)
    return out


def _splits_on_equals(source: PythonSource) -> bool:
    return any(c.method in ("split", "rsplit", "partition", "rpartition") and (first := c.positional(0)) is not None
               and string_value(first) == "=" for c in source.index.calls)


def _argparse_breaks(bundle: Bundle, path: str, source: PythonSource, spec: ParserSpec) -> Iterator[Hit]:
    """What in an argparse interface breaks the contract call `key=value …`: every word of it is
    a positional word to argparse. Optional flags the call never passes are harmless."""
    parses = _argv_parses(source)
    if not parses:
        return  # the parser reads a list the script builds, or is never parsed here
    contract = _contract(bundle, path)
    call = " ".join(f"{k}=…" for k in contract)
    fix = "parse key=value arguments (Hydra, or split sys.argv on '=')"
    positionals = [f for f in spec.flags if f.positional]
    ranges = [_word_range(f) for f in positionals]
    left = list(contract)  # the words no positional takes, in order
    received: list[tuple[Flag, list[str], float]] = []
    unfilled: list[Flag] = []
    known = [r for r in ranges if r is not None]
    if len(known) < len(ranges):
        left = []  # a positional with a computed nargs may take every word: judge only the options
    else:
        for i, (flag, (fewest, most)) in enumerate(zip(positionals, known)):
            later = sum(r[0] for r in known[i + 1:])
            take = int(min(most, max(fewest, len(left) - later), len(left)))
            if take < fewest:
                unfilled.append(flag)
            if take:
                received.append((flag, left[:take], most))
            left = left[take:]
    splits = _splits_on_equals(source)
    for flag, keys, most in received:
        if most == math.inf and splits:
            continue  # `overrides nargs='*'`, each split on '=': a key=value parser
        words = " ".join(f"`{k}=…`" for k in keys)
        yield Hit(path, f"{path}: the argparse positional `{flag.names[0]}` receives the literal {words} of "
                        f"`{call}` (its value is `{keys[0]}=<value>`, not `<value>`); {fix}", flag.node)
    if unfilled:
        names = ", ".join(f"`{f.names[0]}`" for f in unfilled)
        yield Hit(path, f"{path} requires the argparse positional(s) {names}, which `{call}` does not fill; "
                        f"argparse exits with status 2; {fix}", unfilled[0].node)
    options = [f for f in spec.flags if not f.positional]
    claimed: list[Flag] = []
    rejected = []
    for key in left:
        option = next((f for f in options if key in _keys(f)), None)
        if option is not None:
            claimed.append(option)
        if option is not None and option.required:
            yield Hit(path, f"{path} requires `{option.names[-1]}`, but the call passes `{key}=…`, which argparse "
                            f"does not read as that option: it exits with status 2; {fix}", option.node)
        elif spec.tolerant:
            continue  # parse_known_args drops the word; the option keeps its default
        elif option is not None:
            yield Hit(path, f"{path} reads {key} as the option `{option.names[-1]}`; the call passes `{key}=…`, "
                            f"which argparse rejects (unrecognized arguments, status 2); {fix}", option.node)
        else:
            rejected.append(key)
    if rejected:
        words = " ".join(f"`{k}=…`" for k in rejected)
        yield Hit(path, f"{path}'s argparse parser takes no argument for {words}: it rejects them (unrecognized "
                        f"arguments) and exits with status 2; {fix}", parses[0].node)
    required = [f for f in options if f.required and not any(f is c for c in claimed)]
    groups = [c for c in source.index.calls if c.method == "add_mutually_exclusive_group"
              and literal(c.keyword("required")) is True]
    if required or groups:
        names = ", ".join(f"`{f.names[-1]}`" for f in required) or "one option of a required group"
        yield Hit(path, f"{path} requires {names}, which `{call}` never passes: argparse exits with status 2; "
                        "give it a default (or read it from the config)", required[0].node if required else groups[0].node)


@rule(
    code="CLI003", name="key-value-cli", severity=ERROR,
    consequence=CRASH,
    criterion="CLI interface matches `python -m src.main run={run_id} results_dir={path} mode=…` and "
              "`python -m src.evaluate results_dir={path} run_ids='[\"run-1\", …]'`, with run_ids "
              "parsed by json.loads.",
    rationale="argparse positionals receive the literal `results_dir=/x` (seed 004), and "
              "`--results-dir` options reject `results_dir=/x`; run_ids is a JSON list. Only what "
              "breaks that call is reported: an optional flag the call never passes is harmless.",
    invalid=[Example(files={"src/evaluate.py": """
        import argparse, json
        p = argparse.ArgumentParser()
        p.add_argument('results_dir')
        p.add_argument('run_ids')
        args = p.parse_args()
        run_ids = json.loads(args.run_ids)
        """}, line=3, message="receives the literal `results_dir=…`"),
             Example(files={"src/evaluate.py": """
        import argparse, json
        p = argparse.ArgumentParser()
        p.add_argument('--results_dir', default='.research/results')
        p.add_argument('--run_ids', required=True)
        p.add_argument('--wandb_entity', default=None)
        p.add_argument('--wandb_project', default=None)
        args = p.parse_args()
        run_ids = json.loads(args.run_ids)
        """}, line=4, message="requires `--run_ids`"),
             Example(files={"src/evaluate.py": """
        import argparse, json
        p = argparse.ArgumentParser()
        p.add_argument('--results_dir', default='.research/results')
        p.add_argument('--run_ids', default='[]')
        args = p.parse_args()
        run_ids = json.loads(args.run_ids)
        """}, line=3, message="rejects (unrecognized arguments"),
             Example(files={"src/evaluate.py": """
        import argparse, json
        p = argparse.ArgumentParser()
        p.add_argument('--wandb_entity', default=None)
        args = p.parse_args()
        run_ids = json.loads('[]')
        """}, line=4, message="no argument for `results_dir=…` `run_ids=…`"),
             Example(files={"src/main.py": """
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument('overrides', nargs='*')
        p.add_argument('--config', required=True)
        args = p.parse_args()
        overrides = dict(o.split('=', 1) for o in args.overrides)
        """}, line=4, message="requires `--config`"),
             Example(files={"src/main.py": """
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument('overrides', nargs=argparse.ZERO_OR_MORE)
        g = p.add_mutually_exclusive_group(required=True)
        g.add_argument('--trial', action='store_true')
        g.add_argument('--full', action='store_true')
        args = p.parse_args()
        overrides = dict(o.split('=', 1) for o in args.overrides)
        """}, line=4, message="one option of a required group")],
    valid=[Example(files={"src/evaluate.py": """
        import json, sys
        args = dict(a.split('=', 1) for a in sys.argv[1:])
        run_ids = json.loads(args['run_ids'])
        """}),
           Example(files={"src/evaluate.py": """
        # optional flags with defaults beside key=value words split on '='
        import argparse, json
        p = argparse.ArgumentParser()
        p.add_argument('overrides', nargs='*')
        p.add_argument('--wandb_entity', default=None)
        p.add_argument('--wandb_project', default=None)
        args = p.parse_args()
        kv = dict(o.split('=', 1) for o in args.overrides)
        run_ids = json.loads(kv['run_ids'])
        """}),
           Example(files={"src/evaluate.py": """
        # `results_dir=/x` becomes `--results_dir=/x`, which argparse reads
        import argparse, json, sys
        p = argparse.ArgumentParser()
        p.add_argument('--results_dir', required=True)
        p.add_argument('--run_ids', required=True)
        p.add_argument('--wandb_entity', default=None)
        args = p.parse_args(['--' + a for a in sys.argv[1:]])
        run_ids = json.loads(args.run_ids)
        """}),
           Example(files={"src/evaluate.py": """
        # parse_known_args drops the words it cannot place; the optional flags keep their defaults
        import argparse, json
        p = argparse.ArgumentParser()
        p.add_argument('--results_dir', default='.research/results')
        p.add_argument('--run_ids', default='[]')
        args, _ = p.parse_known_args()
        run_ids = json.loads(args.run_ids)
        """}),
           Example(files={"src/evaluate.py": """
        # a computed nargs: how many words the positional takes is not known here
        import argparse, json
        from src.cli import WORDS
        p = argparse.ArgumentParser()
        p.add_argument('words', nargs=WORDS)
        p.add_argument('--wandb_entity', default=None)
        args = p.parse_args()
        kv = {w[:w.index('=')]: w[w.index('=') + 1:] for w in args.words}
        run_ids = json.loads(kv['run_ids'])
        """})],
)
def key_value_cli(bundle: Bundle) -> Iterator[Hit]:
    for path in ("src/main.py", "src/evaluate.py"):
        source = bundle.parsed(path)
        if source is None:
            continue
        spec = parser_spec(source)
        if not _parses_key_values(source) and spec is not None:
            yield from _argparse_breaks(bundle, path, source, spec)
        elif spec is None and not _parses_key_values(source) and path == "src/evaluate.py":
            yield Hit(path, "src/evaluate.py reads no `results_dir=… run_ids=…` arguments; parse them from sys.argv")
        if path == "src/evaluate.py" and any("run_ids" in s.value for s in source.index.strings) \
                and not source.index.calls_to("json.loads"):
            yield Hit(path, "run_ids is not parsed with json.loads; it arrives as a JSON list string")
