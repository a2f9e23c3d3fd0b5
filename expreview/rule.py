"""Rules: a code, a name, its stages (those whose rules/<stage>.yaml lists it), a severity, the
reviewer criterion it enforces, a check, and its own failing and passing examples."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Union

import libcst as cst
import yaml

from expreview.bundle import Bundle
from expreview import profiles
from expreview.findings import CONSEQUENCES, CRITERION, FILE_SPAN, Finding, FixOffer, Span
from expreview.inputs.files import add_file


def example_text(text: str) -> str:
    """A file text as an example writes it: a text that starts with a newline is indented code
    (a triple-quoted string in the rule's module), dedented and without that first newline."""
    if text.startswith("\n") and text.strip():
        return textwrap.dedent(text)[1:]
    return text


@dataclass(frozen=True)
class Example:
    """A small bundle that a rule must flag (invalid) or leave alone (valid).

    An invalid example may pin where its finding is (`line`, 1-based, in `path`, by default the
    first file) and a fragment of its message (`message`); the rule-example test checks both."""
    files: dict[str, str]
    stage: Optional[str] = None
    options: dict[str, Any] = field(default_factory=dict)
    run_variations: Optional[list[str]] = None
    base: Optional[dict[str, str]] = None
    raw: dict[str, bytes] = field(default_factory=dict)  # files as bytes, read as a loader reads them
    line: Optional[int] = None
    message: Optional[str] = None
    path: Optional[str] = None

    def __post_init__(self) -> None:
        # frozen: the normalised texts replace the written ones once, here
        object.__setattr__(self, "files", {p: example_text(t) for p, t in self.files.items()})
        if self.base is not None:
            object.__setattr__(self, "base", {p: example_text(t) for p, t in self.base.items()})

    @property
    def pinned_path(self) -> str:
        return self.path or next(iter(self.files), "")

    def bundle(self, default_stage: str) -> Bundle:
        base = Bundle(files=dict(self.base), stage="base") if self.base is not None else None
        made = Bundle(
            files=dict(self.files), stage=self.stage or default_stage, options=dict(self.options),
            run_variations=self.run_variations, base=base,
        )
        for path, raw in self.raw.items():
            add_file(made, path, raw)
        return made


Where = Union[None, int, Span, cst.CSTNode, yaml.Node]


@dataclass
class Hit:
    """What a check yields: a path, a place in it, and a message naming what to do."""
    path: str
    message: str
    where: Where = None
    end_line: Optional[int] = None  # widen the range to this line
    stmt: Optional[int] = None  # statement ordinal of `where` when the index did not record it
    consequence: Optional[str] = None  # this finding's, when it differs from the rule's
    severity: Optional[str] = None  # this finding's, when it differs from the rule's (a configured one wins)
    fix: FixOffer = None  # edits that remove the defect, or what computes them (only `fixable` rules offer them)


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    # Stages the rule names itself (a plugin's); the profiles that list it add theirs.
    declared_stages: tuple[str, ...]
    severity: str
    criterion: str
    rationale: str
    check: Callable[[Bundle], Iterable[Hit]]
    invalid: tuple[Example, ...]
    valid: tuple[Example, ...]
    consequence: str = CRITERION  # crash | criterion | advice: what happens if a finding is true
    fixable: bool = False  # its findings may carry a fix (each failing example must get one)

    @property
    def stages(self) -> tuple[str, ...]:
        """The stages that run this rule: those whose profile lists it, then any it declares."""
        listed = profiles.stages_listing(self.code)
        extra = tuple(s for s in self.declared_stages if s not in listed)
        if not extra:
            return listed
        order = {stage: n for n, stage in enumerate(profiles.stages())}
        return tuple(sorted(set(listed) | set(extra), key=lambda s: (order.get(s, len(order)), s)))

    @property
    def family(self) -> str:
        return self.code.rstrip("0123456789")

    @property
    def summary(self) -> str:
        return self.criterion.split(". ")[0].rstrip(".")

    def run(self, bundle: Bundle, severity: Optional[str] = None) -> list[Finding]:
        out = []
        for hit in self.check(bundle):
            span = locate_hit(bundle, hit)
            out.append(Finding(
                code=self.code, severity=severity or hit.severity or self.severity, path=hit.path,
                line=span.line, column=span.column, end_line=span.end_line,
                end_column=span.end_column, message=hit.message,
                consequence=hit.consequence or self.consequence, offer=hit.fix,
            ))
        return out


def locate_hit(bundle: Bundle, hit: Hit) -> Span:
    where = hit.where
    if where is None:
        span = FILE_SPAN
    elif isinstance(where, Span):
        span = where
    elif isinstance(where, int):
        span = Span(where, 1, where, 1)
    elif isinstance(where, yaml.Node):
        s, e = where.start_mark, where.end_mark
        span = Span(s.line + 1, s.column + 1, e.line + 1, e.column + 1)
    else:
        source = bundle.python(hit.path)
        span = source.span(where, hit.stmt) if source is not None else FILE_SPAN
    if hit.end_line is not None and hit.end_line > span.end_line:
        span = Span(span.line, span.column, hit.end_line, 1)
    return span


REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    severity: str,
    criterion: str,
    rationale: str,
    invalid: Iterable[Example],
    valid: Iterable[Example],
    stages: Iterable[str] = (),
    consequence: str = CRITERION,
    fixable: bool = False,
) -> Callable[[Callable[[Bundle], Iterable[Hit]]], Rule]:
    """Register `check` as a rule. Used as a decorator in the family modules.

    A built-in rule runs in the stages whose rules/<stage>.yaml lists it; `stages` is for rules no
    profile lists (plugins). `consequence` is what happens if a finding is true: crash, criterion
    or advice (every built-in rule states it; a plugin that does not is a criterion)."""
    if consequence not in CONSEQUENCES:
        raise ValueError(f"rule {code}: consequence {consequence!r} is not one of {', '.join(CONSEQUENCES)}")

    def register(check: Callable[[Bundle], Iterable[Hit]]) -> Rule:
        if code in REGISTRY:
            raise ValueError(f"rule code {code} is registered twice")
        made = Rule(code, name, tuple(stages), severity, criterion.strip(), rationale.strip(),
                    check, tuple(invalid), tuple(valid), consequence, fixable)
        REGISTRY[code] = made
        return made

    return register
