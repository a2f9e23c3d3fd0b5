"""What a rule reports: one located finding."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Union

from expreview.edits import Fix

# A fix, or what computes it on first use: most reviews never print a fix, and some cost a TOML
# round trip or code generation.
FixOffer = Union[Fix, Callable[[], Optional[Fix]], None]

ERROR = "error"
WARNING = "warning"
SEVERITIES = (ERROR, WARNING)

# What happens if a finding is true (../shared/RULES.md): the project does not install, import,
# start or finish; it runs but breaks a criterion of the prompt that was asked; or worth fixing,
# never blocking.
CRASH = "crash"
CRITERION = "criterion"
ADVICE = "advice"
CONSEQUENCES = (CRASH, CRITERION, ADVICE)


@dataclass(frozen=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int


FILE_SPAN = Span(1, 1, 1, 1)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    consequence: str = CRITERION
    offer: FixOffer = field(default=None, compare=False, repr=False)  # see `fix`

    @property
    def fix(self) -> Optional[Fix]:
        """The edits that remove this finding, when the rule knows them for certain."""
        offer = self.offer
        if offer is None or isinstance(offer, Fix):
            return offer
        fixed = offer()
        object.__setattr__(self, "offer", fixed)  # computed once
        return fixed

    def __getstate__(self) -> dict:
        # a finding crosses to the CLI's process from a worker: the fix goes along, computed
        return {**self.__dict__, "offer": self.fix}

    def sort_key(self):
        return (self.path, self.line, self.code, self.column, self.message)

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "consequence": self.consequence,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "fix": self.fix.as_dict() if self.fix is not None else None,
        }
