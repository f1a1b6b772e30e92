"""Errors that point at a place in an input file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class SourceError(Exception):
    """A problem in an input file, reported as `file:line: field: message`."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '<top>'}: {self.message}"


class SourceErrors(Exception):
    """Several SourceErrors found in one pass; all are reported, nothing is written."""

    def __init__(self, errors: list[SourceError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class UnknownPort(Exception):
    """A port name with no profile or no generated suite."""
