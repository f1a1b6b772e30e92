"""The one family of errors a user sees: each is one line and an exit status, caught
once by the command line. SourceError points at a place in an input file."""

from __future__ import annotations

from dataclasses import dataclass


class MpconformError(Exception):
    """Bad input or a port that cannot be used: `mpconform: <message>`, exit 2 (bad
    input is exit 2 everywhere: a bad spec or profile too; 1 is kept for what a
    command found, such as failures or stale generated files)."""

    exit_status = 2


class RunnerError(MpconformError):
    """A runner cannot work at all (missing binary, bad option, dead line)."""


class UsageError(MpconformError):
    """A command line that cannot work."""


@dataclass
class SourceError(MpconformError):
    """A problem in an input file, reported as `file:line: field: message`."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '<top>'}: {self.message}"


class SourceErrors(MpconformError):
    """Several SourceErrors found in one pass; all are reported, nothing is written."""

    def __init__(self, errors: list[SourceError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class UnknownPort(MpconformError):
    """A port name with no profile or no generated suite."""
