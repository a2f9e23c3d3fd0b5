"""A Dockerfile, read into its instructions (parsed once).

Docker's own grammar, as far as the rules need it: `#` comment lines and blank lines are skipped,
a line ending in the escape character (`\\`, or the one a `# escape=` directive names) continues
on the next, and each instruction is a keyword (case-insensitive) and its arguments. Heredocs
(`RUN <<EOF`) are kept as one instruction up to their terminator. Nothing is built or pulled."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from expreview.sources.file import SourceFile

_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*(\S)\s*$", re.I)
_HEREDOC = re.compile(r"<<-?\s*[\"']?(\w+)[\"']?")


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    arguments: str  # continuation lines joined with a space
    line: int  # where it starts (1-based)
    end_line: int

    @property
    def flags(self) -> dict[str, str]:
        """The leading `--name=value` flags (`COPY --from=… …`)."""
        out = {}
        for word in self.arguments.split():
            if not word.startswith("--"):
                break
            name, _, value = word[2:].partition("=")
            out[name] = value
        return out

    @property
    def words(self) -> list[str]:
        """The arguments after the flags (JSON-array forms unquoted)."""
        text = self.arguments.strip()
        if text.startswith("[") and text.endswith("]"):
            return [w.strip().strip('"') for w in text[1:-1].split(",") if w.strip()]
        return [w for w in text.split() if not w.startswith("--")] if text else []


class DockerfileSource(SourceFile):
    @cached_property
    def instructions(self) -> list[Instruction]:
        lines = self.lines
        escape = "\\"
        for text in lines:  # parser directives come before anything else
            match = _DIRECTIVE.match(text.strip())
            if match:
                escape = match.group(1)
            elif text.strip():
                break
        out: list[Instruction] = []
        number = 0
        while number < len(lines):
            text = lines[number].strip()
            number += 1
            if not text or text.startswith("#"):
                continue
            start, parts = number, []
            while text.endswith(escape):
                parts.append(text[:-1].rstrip())
                # comment and blank lines inside a continued instruction are dropped, as Docker does
                while number < len(lines) and (not lines[number].strip() or lines[number].strip().startswith("#")):
                    number += 1
                if number >= len(lines):
                    text = ""
                    break
                text = lines[number].strip()
                number += 1
            parts.append(text)
            joined = " ".join(p for p in parts if p)
            heredoc = _HEREDOC.search(joined)
            if heredoc:  # the body up to the terminator belongs to this instruction
                while number < len(lines) and lines[number].strip() != heredoc.group(1):
                    joined += "\n" + lines[number]
                    number += 1
                number += 1
            keyword, _, arguments = joined.partition(" ")
            out.append(Instruction(keyword.upper(), arguments.strip(), start, number))
        return out

    def final_stage(self) -> list[Instruction]:
        """The instructions of the last build stage (from its FROM on): what the image runs."""
        instructions = self.instructions
        starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
        return instructions[starts[-1]:] if starts else instructions
