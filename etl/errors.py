"""Errors that name the file, the line and the problem, so a user can fix the input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class InputRefused(Exception):
    """A whole input file refused. Nothing of it reaches the warehouse."""

    file: str
    problem: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.problem}"


class UsageError(Exception):
    """The command was asked for something it cannot do (exit status 2)."""
