"""Mistakes in a flow file, reported to the ops person who wrote it.

Every problem carries where it is (file, line, column, all 1-based), a message and an
optional hint ("did you mean 'order_lookup'?"). ``format_problem`` shows the offending
line with a caret under the column, so the author sees it without opening the file.
"""
from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Where:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    where: Where
    message: str
    hint: str = ""
    severity: str = "error"  # error | warning


class FlowError(Exception):
    """A flow (or several) cannot be loaded; ``problems`` lists every mistake found."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        first = self.problems[0] if self.problems else None
        super().__init__(f"{first.where}: {first.message}" if first else "invalid flow")


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known word, or '' when none is close."""
    close = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""


def format_problem(problem: Problem, source_lines: Sequence[str] | None = None) -> str:
    """``file:line:col: message``, then the line, a caret and the hint."""
    out = [f"{problem.where}: {problem.severity}: {problem.message}"]
    if source_lines is not None and 1 <= problem.where.line <= len(source_lines):
        text = source_lines[problem.where.line - 1].rstrip("\n")
        out.append(f"    {text}")
        out.append("    " + " " * max(problem.where.col - 1, 0) + "^")
    if problem.hint:
        out.append(f"    hint: {problem.hint}")
    return "\n".join(out)
