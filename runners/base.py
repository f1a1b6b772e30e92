"""The runner interface: how the harness asks a port to run one test."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from mpconform.core.errors import RunnerError

__all__ = ["Execution", "Runner", "RunnerError"]


@dataclass
class Execution:
    """What happened when a port ran one script."""

    output: str  # stdout and stderr as the port interleaved them
    exit_code: int | None
    duration_s: float
    timed_out: bool = False
    crashed: str = ""  # why the port died (signal, reset), empty if it did not
    error: str = ""  # the runner lost the port (connection, protocol); the test result is unknown
    note: str = ""  # how it ran, when that was out of the ordinary (run again on another instance)


class Runner(abc.ABC):
    """Drives one port. Subclasses set `name` and implement `execute`."""

    name: ClassVar[str]
    #: How many tests may run at once on one instance; None means no limit.
    max_parallel: ClassVar[int | None] = None
    #: Whether execute() can send input while a test runs (its `interact` steps).
    #: Behaviours that need it are skipped, with that reason, on runners that cannot.
    can_interact: ClassVar[bool] = False
    #: Whether execute() can go on to the port's friendly REPL once the program has ended
    #: and type lines there (a behaviour's `repl`): runners that drive a REPL can.
    can_repl: ClassVar[bool] = False
    #: The options this runner reads (runners/options.py): profiles are checked against
    #: them and command-line overrides reach only runners that declare them. None: not
    #: declared (a plug-in written before declarations), options are passed as given.
    OPTIONS: ClassVar[tuple | None] = None

    def __init__(self, options: dict):
        from mpconform.core.options import resolve

        self.options = resolve(self.name, self.OPTIONS, options)

    @classmethod
    def unavailable_reason(cls, options: dict) -> str | None:
        """Why this runner cannot run here with these options (None: it can)."""
        try:
            cls(options)
        except RunnerError as exc:
            return str(exc)
        return None

    @classmethod
    def can_multiply(cls, options: dict) -> bool:
        """Whether several instances can be started from these options (emulators can; a
        board on one serial line cannot), so -j N runs N of them side by side."""
        return False

    def targets(self) -> list[dict] | None:
        """Each instance this runner drove and the tests it ran (None: just this one)."""
        return None

    def describe_target(self) -> dict:
        """What this runner drives, for the results' provenance (kind and address)."""
        return {"kind": self.name}

    def open(self) -> None:
        """Acquire the port (start an emulator, open a serial line)."""

    def close(self) -> None:
        """Release the port and stop anything still running; must be safe to call twice."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()

    @abc.abstractmethod
    def execute(self, script: Path, timeout_s: float) -> Execution:
        """Run one script file on the port and report what it printed and how it ended.

        A runner with `can_interact` also takes `interact`: ((after, send), ...) steps,
        each waiting until the output holds `after`, then sending `send` (characters
        0-255, as bytes) the way the port's console would receive them. A runner with
        `can_repl` also takes `repl`: lines typed at the friendly REPL once the program has
        ended, whose output is appended to the program's."""
