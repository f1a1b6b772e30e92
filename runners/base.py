"""The runner interface: how the harness asks a port to run one test."""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple, Self

from mpconform.core.errors import RunnerError
from mpconform.core.options import Option, RunnerOptions

__all__ = ["Capabilities", "Execution", "Runner", "RunnerError", "Step"]


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


class Step(NamedTuple):
    """One step of input while a test runs: wait until the output holds `after`, then
    send `send` (characters 0-255, as bytes) the way the port's console would receive
    them. A tuple, so a plain (after, send) pair is one too."""

    after: str
    send: str


@dataclass(frozen=True)
class Capabilities:
    """What a runner can do beyond running a program, declared once on its class. The
    run reads them when it plans (a behaviour that needs what the runner lacks is
    skipped, with that reason, before anything runs); execute() never checks them."""

    #: execute() sends `interact` steps while the test runs.
    interact: bool = False
    #: execute() goes on to the friendly REPL once the program has ended and types `repl` lines.
    repl: bool = False
    #: the runner takes a prelude (a file imported before each test).
    prelude: bool = False
    #: execute_checked() has the port check the program arrived intact before running it.
    checks_programs: bool = False
    #: the hard reset kinds the runner's option `hard_reset` may name.
    reset_kinds: tuple[str, ...] = ()
    #: how many tests may run at once on one instance; None means no limit.
    max_parallel: int | None = None
    #: generated edge cases may share one program (runners/run/batch.py): where starting a
    #: program is the cost (a process per test) and a program of a few dozen cases fits the heap.
    batch: bool = False


CLOSED = "the runner was closed (the run is stopping)"


class Runner(abc.ABC):
    """Drives one port. Subclasses set `name` and implement `execute`."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: The options this runner reads (core/options.py): profiles are checked against
    #: them and command-line overrides reach only runners that declare them. None: not
    #: declared (a plug-in written before declarations), options are passed as given.
    OPTIONS: ClassVar[tuple[Option, ...] | None] = None

    def __init__(self, options: RunnerOptions):
        from mpconform.core.options import resolve

        # the only place defaults are filled in: runners read self.options, never what they were given
        self.options = resolve(self.name, self.OPTIONS, options)

    # read by the planning code (core/manifest.decide) and the harness
    @property
    def can_interact(self) -> bool:
        return self.capabilities.interact

    @property
    def can_repl(self) -> bool:
        return self.capabilities.repl

    @property
    def checks_programs(self) -> bool:
        return self.capabilities.checks_programs

    @property
    def max_parallel(self) -> int | None:
        return self.capabilities.max_parallel

    @classmethod
    def unavailable_reason(cls, options: RunnerOptions) -> str | None:
        """Why this runner cannot run here with these options (None: it can)."""
        try:
            cls(options)
        except RunnerError as exc:
            return str(exc)
        return None

    @classmethod
    def can_multiply(cls, options: RunnerOptions) -> bool:
        """Whether several instances can be started from these options (emulators can; a
        board on one serial line cannot), so -j N runs N of them side by side."""
        return False

    def targets(self) -> list[dict[str, Any]] | None:
        """Each instance this runner drove and the tests it ran (None: just this one)."""
        return None

    def describe_target(self) -> dict[str, Any]:
        """What this runner drives, for the results' provenance (kind and address)."""
        return {"kind": self.name}

    def open(self) -> None:
        """Acquire the port (start an emulator, open a serial line)."""

    def close(self) -> None:
        """Release the port and stop anything still running; must be safe to call twice.
        Until open() is called again, execute() then raises RunnerError: a test that was
        still on its way when a run stopped must not start the port again."""

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abc.abstractmethod
    def execute(self, program: Path, timeout_s: float, interact: Sequence[Step] = (),
                repl: Sequence[str] = ()) -> Execution:
        """Run one program file on the port and report what it printed and how it ended.

        `interact`: steps of input sent while it runs (given only to a runner whose
        capabilities say `interact`). `repl`: lines typed at the friendly REPL once the
        program has ended, whose output is appended to the program's (given only to a
        runner whose capabilities say `repl`)."""

    def execute_checked(self, program: Path, timeout_s: float, interact: Sequence[Step] = (),
                        repl: Sequence[str] = ()) -> Execution:
        """execute(), with the program checked on the port before it runs, for runners
        whose capabilities say `checks_programs` (a line that can damage it). Others have
        nothing more to check: their plain run is the checked one."""
        return self.execute(program, timeout_s, interact, repl)
