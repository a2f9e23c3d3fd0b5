"""What a rule reports: one located finding."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from expreview.edits import Fix

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
    fix: Optional[Fix] = None  # the edits that remove it, when the rule knows them for certain

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
