"""Run tests on a board over a serial line, through its raw REPL.

Layers, as in labgrid: the board itself (a Target, runners/targets.py: a serial
device, a pty relay, a QEMU instance or a labgrid place, chosen by make_target()),
its facts (BoardConfig, from the declared runner options), the driver that talks
to it (rawrepl.RawRepl over a transport.SerialTransport), and the strategy that
keeps it in a known state (BoardRunner: soft reset between tests, and a recovery
ladder when a test or the board misbehaves).

Recovery ladder, used whenever the board's state is unknown:
  revive the target if it went away on its own -> reconnect (with back-off) ->
  Ctrl-C + Ctrl-A (raw REPL) -> the hard reset (DTR/RTS pulse, a command, or the
  target's own: restart the emulator, a place's power cycle) ->
  Ctrl-A again -> Ctrl-D (clean state).
A soft reset cannot rescue a board that has stopped reading its input (it would
never see the Ctrl-D), so the hard reset comes right after Ctrl-C fails. When the
board does not answer within `reconnect_s`, the run stops with RunnerError (the
session keeps every result already measured).
"""

from __future__ import annotations

import enum
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mpconform.core.options import COORDINATOR, DEVICE, MICROPYTHON, PLACE, PLACE_WAIT, TIMEOUT, Option, kinds
from mpconform.runners.base import CLOSED, Capabilities, Execution, Runner, RunnerError, Step
from mpconform.runners.run.probe import identity_program, parse_identity
from mpconform.runners.transport.friendly_repl import type_lines
from mpconform.runners.transport.line import DEFAULT_BAUDRATE, ReadTimeout, SerialTransport, TransportLost
from mpconform.runners.transport.rawrepl import (
    PLAIN_CHUNK,
    PLAIN_CHUNK_DELAY_S,
    BoardReset,
    ExecTimeout,
    ProtocolError,
    RawRepl,
    Undelivered,
)
from mpconform.runners.transport.resets import KINDS as HARD_RESET_KINDS
from mpconform.runners.transport.resets import ResetStrategy, reset_strategy
from mpconform.runners.transport.targets import SerialTarget, Target

TARGET_KINDS = ("unix-pty",)

OPTIONS = (
    TIMEOUT,
    DEVICE,
    PLACE,
    COORDINATOR,
    PLACE_WAIT,
    Option("baudrate", "int", DEFAULT_BAUDRATE, "line speed of a local serial device"),
    Option("raw_paste", "bool", True, "use raw-paste when the firmware offers it (false: plain raw REPL)"),
    Option("soft_reset", "bool", True, "Ctrl-D between tests so no state leaks"),
    Option("hard_reset", "mapping", None, "{kind: dtr_rts} | {kind: command, command: [...]} | {kind: target} "
           "(the target's own: restart an emulated board, a place's power driver)",
           check=kinds(*HARD_RESET_KINDS, needs={"command": "command"})),
    Option("target", "mapping", None, "{kind: unix-pty}: start the unix port on a pseudo-terminal as the board",
           check=kinds(*TARGET_KINDS)),
    Option("target_link", "str", None, "where the pty target publishes its device path"),
    MICROPYTHON.documented("the unix binary a unix-pty target runs (--micropython)"),
    Option("answer_s", "seconds", 1.5, "how long a live board may take to show the raw REPL"),
    Option("boot_s", "seconds", 5.0, "how long a reset board may take"),
    Option("reconnect_s", "seconds", 20.0, "how long a lost board may stay away before the run stops"),
    Option("chunk", "int", PLAIN_CHUNK, "bytes per write in plain raw REPL (a small receive buffer needs fewer)"),
    Option("chunk_delay_s", "float", PLAIN_CHUNK_DELAY_S, "pause between plain raw REPL chunks"),
)


@dataclass(frozen=True)
class BoardConfig:
    """The board's facts: how to reset it, how long it takes to answer. Made from the
    resolved options; the two with a default here are those a runner built on this one
    may not declare (a QEMU board has no line speed and is reset by restarting QEMU)."""

    raw_paste: bool
    soft_reset: bool
    answer_s: float  # how long a live board may take to show the raw REPL banner
    boot_s: float  # how long after a reset
    reconnect_s: float  # how long a lost board may stay away before the run stops
    chunk: int
    chunk_delay_s: float
    hard_reset: dict | None = None
    baudrate: int = DEFAULT_BAUDRATE

    @classmethod
    def from_options(cls, options: dict) -> BoardConfig:
        return cls(**{f: options[f] for f in cls.__dataclass_fields__ if f in options})


class BoardState(enum.Enum):
    """Where the board is, as the runner moves it: UNKNOWN until recovery brings it to
    READY (a clean raw REPL prompt); RUNNING while a test has it, then READY again after
    its soft reset, or UNKNOWN when that failed; CLOSED once released."""

    CLOSED = "closed"
    UNKNOWN = "unknown"
    READY = "ready"
    RUNNING = "running"


def without_trailing_comments(code: bytes) -> bytes:
    """The program without the comment lines that end it (a generated test's metadata:
    behaviour, claim, citation): nothing that runs, and a small board's line and heap are
    spared bytes a checked delivery would have to hold. Line numbers do not move."""
    lines = code.splitlines(keepends=True)
    end = len(lines)
    while end and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith(b"#")):
        end -= 1
    return b"".join(lines[:end])


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")


class BoardRunner(Runner):
    """A board through its raw REPL; what the board is comes from make_target()."""

    name = "board"
    # the raw REPL is left for the friendly one and entered again (repl); a line can damage
    # a program, so a non-pass is judged on a run the board checked (checks_programs)
    capabilities = Capabilities(interact=True, repl=True, checks_programs=True, reset_kinds=HARD_RESET_KINDS,
                                max_parallel=1)
    OPTIONS = OPTIONS

    def __init__(self, options: dict):
        super().__init__(options)
        self.config = BoardConfig.from_options(self.options)
        self.resetter: ResetStrategy = reset_strategy(self.config.hard_reset)
        self.target: Target | None = None  # set while open
        self.transport: SerialTransport | None = None
        self.repl: RawRepl | None = None
        self.state = BoardState.CLOSED
        self._ended = False  # close() was called: execute() opens nothing again
        self._tmp: tempfile.TemporaryDirectory | None = None
        self._planned = self.plan_target()  # fails here, before anything starts, on bad options

    # -- the target ------------------------------------------------------------------
    def plan_target(self):
        """Check the options name a board; returns what make_target() needs."""
        o = self.options  # resolved; a runner built on this one may not declare target or device
        if o["place"]:
            from mpconform.runners.lab.place import PlaceTarget

            return PlaceTarget.plan(o["place"], o["coordinator"], o["place_wait_s"])
        if o.get("target"):
            from mpconform.runners.plugins.unix import find_micropython

            return [find_micropython(o["micropython"])]
        if not o.get("device"):
            raise RunnerError("board runner needs a device: pass --device URL (e.g. /dev/ttyACM0, "
                              "socket://host:port, rfc2217://host:port), --place NAME or set runner.options.device")
        return None

    def make_target(self) -> Target:
        o = self.options
        if o["place"]:
            return self._planned.target()
        if o.get("target"):
            from mpconform.runners.transport.pty_target import PtyTarget

            link = o["target_link"]
            if not link:
                self._tmp = tempfile.TemporaryDirectory(prefix="mpconform-board-")
                link = str(Path(self._tmp.name) / "board")
            return PtyTarget(self._planned, Path(link), url=o["device"])
        return SerialTarget(o["device"])

    @classmethod
    def unavailable_reason(cls, options: dict) -> str | None:
        try:
            o = cls(options).options
        except RunnerError as exc:
            return str(exc)
        device = o.get("device")  # (a runner built on this one may have no device)
        if o.get("target") or o["place"] or not device or "://" in device or Path(device).exists():
            return None
        return f"no serial device at {device} (pass --device)"

    @classmethod
    def can_multiply(cls, options: dict) -> bool:
        return bool(options.get("target")) and not options.get("target_link") and not options.get("place")

    def describe_target(self) -> dict:
        if self.target is not None:
            return self.target.describe()
        if getattr(self, "_described", None):
            return self._described
        if self.options.get("place"):
            return {"kind": "labgrid-place", "place": self.options.get("place")}
        return {"kind": self.options.get("target")["kind"] if self.options.get("target") else "serial", "address": self.url}

    @property
    def url(self) -> str:
        return self.transport.url if self.transport else (self.options.get("device") or "?")

    # -- lifetime ------------------------------------------------------------------
    def open(self) -> None:
        self._ended = False
        if self.transport is not None:
            return
        try:
            self.target = self.make_target()
            url = self.target.open()
            self.transport = SerialTransport(url, self.config.baudrate)
            self.repl = RawRepl(self.transport, raw_paste=self.config.raw_paste,
                                chunk=self.config.chunk, chunk_delay_s=self.config.chunk_delay_s)
            self.state = BoardState.UNKNOWN
            self._recover()
        except BaseException:
            self.close()  # `with` does not call close() when open() fails: stop the target here
            raise

    def close(self) -> None:
        self._ended = True
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        if self.target is not None:
            self._described = self.target.describe()  # provenance is collected after the run
            self.target.close()
            self.target = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self.state = BoardState.CLOSED

    # -- one test ------------------------------------------------------------------
    def execute(self, program: Path, timeout_s: float, interact: Sequence[Step] = (),
                repl: Sequence[str] = ()) -> Execution:
        return self._run(program, timeout_s, interact, repl, checked=False)

    def execute_checked(self, program: Path, timeout_s: float, interact: Sequence[Step] = (),
                        repl: Sequence[str] = ()) -> Execution:
        """Run `program` through the loader that checks on the board, before it runs, that
        it arrived intact (runners/delivery.py), sending it once more if not. Costlier
        than execute() and one exec() deeper, so the harness keeps it for judging
        non-passes: a line fault is the runner's, never the port's."""
        return self._run(program, timeout_s, interact, repl, checked=True)

    def _run(self, script: Path, timeout_s: float, interact: Sequence[Step], repl: Sequence[str],
             checked: bool) -> Execution:
        if self._ended:  # a test still on its way when the run stopped: never take the board again
            raise RunnerError(CLOSED)
        if self.transport is None:
            self.open()
        code = without_trailing_comments(script.read_bytes())
        if self.state is not BoardState.READY:
            self._recover()
        self.state = BoardState.RUNNING
        start = time.monotonic()
        try:
            out, err = self.repl.run(code, timeout_s, interact, verify=checked)
            if repl:
                try:
                    out += type_lines(self.transport, repl, start + timeout_s)
                except ReadTimeout as exc:
                    raise ExecTimeout(out + exc.data) from None
        except ExecTimeout as exc:
            self._interrupt()
            return Execution(_decode(exc.output), None, time.monotonic() - start, timed_out=True)
        except BoardReset as exc:
            return Execution(_decode(exc.output), None, time.monotonic() - start,
                             crashed=f"the board reset during the test ({self.url})")
        except (TransportLost, ProtocolError, ReadTimeout, Undelivered) as exc:
            # A port that died takes its line with it: that is the port's crash, not the line's fault.
            output = _decode(self.transport.take_buffer() if self.transport else b"")
            died = self.target.died() if self.target else None
            if died:
                return Execution(output, None, time.monotonic() - start, crashed=died)
            if isinstance(exc, TransportLost):
                why = f"lost the board: {exc}"
            elif isinstance(exc, Undelivered):
                why = f"the line to {self.url} damaged the program, so it was not run: {exc}"
            else:
                why = f"raw REPL protocol failed on {self.url}: {exc}"
            return Execution(output, None, time.monotonic() - start, error=why)
        duration = time.monotonic() - start
        self._clean_state()
        # The unix runner's output is stdout then the traceback; so is this.
        unchecked = checked and not self.repl.checkable
        return Execution(_decode(out) + _decode(err), 1 if err else 0, duration,
                         note="could not be checked: the firmware's console has no byte reader" if unchecked else "")

    def _interrupt(self) -> None:
        """Ask a test that ran out of time to stop; the next test's recovery checks it did."""
        try:
            self.transport.write(b"\x03")
        except TransportLost:
            pass

    def _clean_state(self) -> None:
        """Soft reset so no state (a locked heap, a scheduled callback, kbd_intr(-1))
        leaks into the next test."""
        if not self.config.soft_reset:
            self.state = BoardState.READY
            return
        try:
            self.repl.soft_reset(self.config.boot_s)
            self.state = BoardState.READY
        except (TransportLost, ReadTimeout, ProtocolError):
            self.state = BoardState.UNKNOWN

    # -- recovery ------------------------------------------------------------------
    @property
    def has_hard_reset(self) -> bool:
        return self.resetter.can_reset(self.target)

    def hard_reset(self) -> None:
        self.resetter.reset(self.target, self.transport)
        self.state = BoardState.UNKNOWN

    def _recover(self) -> None:
        """Bring the board to a clean raw REPL prompt, or raise RunnerError."""
        deadline = time.monotonic() + self.config.reconnect_s
        delay = 0.1
        last = ""
        while True:
            try:
                self.target.revive(self.transport)
                if not self.transport.is_open:
                    self.transport.open()
                try:
                    self.repl.enter(self.config.answer_s)
                except ReadTimeout:
                    if not self.has_hard_reset:
                        raise
                    self.hard_reset()
                    self.repl.enter(self.config.boot_s)
                if self.config.soft_reset:
                    self.repl.soft_reset(self.config.boot_s)
                self.state = BoardState.READY
                return
            except (TransportLost, ReadTimeout, ProtocolError) as exc:
                last = str(exc)
                self.transport.close()
            if time.monotonic() + delay > deadline:
                raise RunnerError(f"board at {self.url} did not answer within {self.config.reconnect_s:.0f}s "
                                  f"(gave up; results so far are kept): {last}")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def identify(url: str, baudrate: int = DEFAULT_BAUDRATE, timeout_s: float = 2.0) -> dict:
    """sys.implementation of the MicroPython answering at `url`; raises TransportLost,
    ReadTimeout or ProtocolError when nothing there speaks the raw REPL."""
    transport = SerialTransport(url, baudrate)
    transport.open()
    try:
        repl = RawRepl(transport)
        repl.enter(timeout_s)
        out, err = repl.run(identity_program().encode(), timeout_s)
        info = parse_identity(_decode(out))
        info["raw_paste"] = bool(repl.raw_paste)
        try:
            transport.write(b"\x02")  # back to the friendly REPL, as we found it
        except TransportLost:
            pass
        return info
    finally:
        transport.close()
