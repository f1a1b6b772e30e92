"""Run tests on a board over a serial line, through its raw REPL.

Three layers, as in labgrid: the board's facts (BoardConfig, from the profile's
runner options), the driver that talks to it (rawrepl.RawRepl over a
transport.SerialTransport), and the strategy that keeps it in a known state
(BoardRunner: soft reset between tests, and a recovery ladder when a test or the
board misbehaves).

Recovery ladder, used whenever the board's state is unknown:
  reconnect (with back-off) -> Ctrl-C + Ctrl-A (raw REPL) -> the profile's hard
  reset (DTR/RTS pulse, a command, or restarting the emulated target) ->
  Ctrl-A again -> Ctrl-D (clean state).
A soft reset cannot rescue a board that has stopped reading its input (it would
never see the Ctrl-D), so the hard reset comes right after Ctrl-C fails. When the
board does not answer within `reconnect_s`, the run stops with RunnerError (the
session keeps every result already measured).
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .base import Execution, Runner, RunnerError
from .probe import IDENTITY, parse_identity
from .rawrepl import BoardReset, ExecTimeout, ProtocolError, RawRepl
from .transport import DEFAULT_BAUDRATE, ReadTimeout, SerialTransport, TransportLost

HARD_RESET_KINDS = ("target", "dtr_rts", "command")
TARGET_KINDS = ("unix-pty",)


def _number(options: dict, key: str, default: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise RunnerError(f"board runner option {key}: expected a positive number, got {value!r}")
    return float(value)


@dataclass
class BoardConfig:
    """The board's facts: where it is, how to reset it, how long it takes to answer."""

    device: str | None
    baudrate: int
    raw_paste: bool
    soft_reset: bool
    target: dict | None  # an emulated board this runner starts itself
    target_link: str | None
    hard_reset: dict | None
    answer_s: float  # how long a live board may take to show the raw REPL banner
    boot_s: float  # how long after a reset
    reconnect_s: float  # how long a lost board may stay away before the run stops
    micropython: str | None

    @classmethod
    def from_options(cls, options: dict) -> BoardConfig:
        target = options.get("target")
        if target is not None:
            if not isinstance(target, dict) or target.get("kind") not in TARGET_KINDS:
                raise RunnerError(f"board runner option target: expected {{kind: {' | '.join(TARGET_KINDS)}}}, got {target!r}")
        device = options.get("device")
        if device is not None and (not isinstance(device, str) or not device):
            raise RunnerError(f"board runner option device: expected a device path or pyserial URL, got {device!r}")
        if device is None and target is None:
            raise RunnerError("board runner needs a device: pass --device URL (e.g. /dev/ttyACM0, "
                              "socket://host:port, rfc2217://host:port) or set runner.options.device")
        hard_reset = options.get("hard_reset")
        if hard_reset is not None:
            if not isinstance(hard_reset, dict) or hard_reset.get("kind") not in HARD_RESET_KINDS:
                raise RunnerError(f"board runner option hard_reset: expected {{kind: {' | '.join(HARD_RESET_KINDS)}}}, "
                                  f"got {hard_reset!r}")
            if hard_reset["kind"] == "target" and target is None:
                raise RunnerError("board runner option hard_reset: kind 'target' needs a target to restart")
            if hard_reset["kind"] == "command" and not hard_reset.get("command"):
                raise RunnerError("board runner option hard_reset: kind 'command' needs a command")
        baudrate = options.get("baudrate", DEFAULT_BAUDRATE)
        if not isinstance(baudrate, int) or baudrate <= 0:
            raise RunnerError(f"board runner option baudrate: expected a positive integer, got {baudrate!r}")
        return cls(
            device=device,
            baudrate=baudrate,
            raw_paste=options.get("raw_paste", True) is not False,
            soft_reset=options.get("soft_reset", True) is not False,
            target=target,
            target_link=options.get("target_link"),
            hard_reset=hard_reset,
            answer_s=_number(options, "answer_s", 1.5),
            boot_s=_number(options, "boot_s", 5.0),
            reconnect_s=_number(options, "reconnect_s", 20.0),
            micropython=options.get("micropython"),
        )


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")


class BoardRunner(Runner):
    """Options: device (path or pyserial URL), baudrate, raw_paste (default true; false
    forces plain raw REPL), soft_reset (between tests, default true), hard_reset
    ({kind: dtr_rts} | {kind: command, command: [...]} | {kind: target}), target
    ({kind: unix-pty}: start the unix port under a pseudo-terminal and use it as the
    board), target_link (where its device path is published), answer_s, boot_s,
    reconnect_s (seconds)."""

    name = "board"
    max_parallel = 1
    can_interact = True

    def __init__(self, options: dict):
        super().__init__(options)
        if options.get("prelude"):  # nothing here could import it: ignoring it would report false passes
            raise RunnerError(f"the {self.name} runner does not support --prelude (the unix runner does)")
        self.config = BoardConfig.from_options(self.options)
        self._target_command: list[str] | None = None
        if self.config.target is not None:
            from .unix import find_micropython

            self._target_command = [find_micropython(self.config.micropython)]
        self.target = None
        self.transport: SerialTransport | None = None
        self.repl: RawRepl | None = None
        self.ready = False  # at the raw prompt with a freshly reset board
        self._tmp: tempfile.TemporaryDirectory | None = None

    @classmethod
    def unavailable_reason(cls, options: dict) -> str | None:
        why = super().unavailable_reason(options)
        device = options.get("device")
        local = isinstance(device, str) and "://" not in device
        if why is None and options.get("target") is None and local and not Path(device).exists():
            why = f"no serial device at {device} (pass --device)"
        return why

    @classmethod
    def can_multiply(cls, options: dict) -> bool:
        return options.get("target") is not None and not options.get("target_link")

    def describe_target(self) -> dict:
        kind = self.config.target["kind"] if self.config.target else "serial"
        return {"kind": kind, "address": self.url}

    @property
    def url(self) -> str:
        return self.transport.url if self.transport else (self.config.device or "?")

    # -- lifetime ------------------------------------------------------------------
    def open(self) -> None:
        if self.transport is not None:
            return
        url = self.config.device
        try:
            if self.config.target is not None:
                from .pty_target import PtyTarget

                link = self.config.target_link
                if not link:
                    self._tmp = tempfile.TemporaryDirectory(prefix="mpconform-board-")
                    link = str(Path(self._tmp.name) / "board")
                self.target = PtyTarget(self._target_command, Path(link))
                self.target.start()
                url = url or link
            self.transport = SerialTransport(url, self.config.baudrate)
            self.repl = RawRepl(self.transport, raw_paste=self.config.raw_paste)
            self._recover()
        except BaseException:
            self.close()  # `with` does not call close() when open() fails: stop the target here
            raise

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        if self.target is not None:
            self.target.stop()
            self.target = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self.ready = False

    # -- one test ------------------------------------------------------------------
    def execute(self, script: Path, timeout_s: float, interact: tuple = ()) -> Execution:
        if self.transport is None:
            self.open()
        code = script.read_bytes()
        if not self.ready:
            self._recover()
        self.ready = False
        start = time.monotonic()
        try:
            out, err = self.repl.run(code, timeout_s, interact)
        except ExecTimeout as exc:
            self._interrupt()
            return Execution(_decode(exc.output), None, time.monotonic() - start, timed_out=True)
        except BoardReset as exc:
            return Execution(_decode(exc.output), None, time.monotonic() - start,
                             crashed=f"the board reset during the test ({self.url})")
        except TransportLost as exc:
            return Execution(_decode(self.transport.take_buffer()), None, time.monotonic() - start,
                             error=f"lost the board: {exc}")
        except (ProtocolError, ReadTimeout) as exc:
            return Execution(_decode(self.transport.take_buffer()), None, time.monotonic() - start,
                             error=f"raw REPL protocol failed on {self.url}: {exc}")
        duration = time.monotonic() - start
        self._clean_state()
        # The unix runner's output is stdout then the traceback; so is this.
        return Execution(_decode(out) + _decode(err), 1 if err else 0, duration)

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
            self.ready = True
            return
        try:
            self.repl.soft_reset(self.config.boot_s)
            self.ready = True
        except (TransportLost, ReadTimeout, ProtocolError):
            self.ready = False

    # -- recovery ------------------------------------------------------------------
    def hard_reset(self) -> None:
        spec = self.config.hard_reset
        if spec is None:
            return
        kind = spec["kind"]
        if kind == "target":
            self.target.hard_reset()
        elif kind == "dtr_rts":
            self.transport.pulse_reset_lines(float(spec.get("pulse_s", 0.1)))
        elif kind == "command":
            command = spec["command"]
            argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
            try:
                subprocess.run(argv, check=True, timeout=float(spec.get("timeout_s", 30)),
                               stdin=subprocess.DEVNULL, capture_output=True)
            except (OSError, subprocess.SubprocessError) as exc:
                raise RunnerError(f"hard reset command {argv[0]!r} failed: {exc}") from None

    def _recover(self) -> None:
        """Bring the board to a clean raw REPL prompt, or raise RunnerError."""
        deadline = time.monotonic() + self.config.reconnect_s
        delay = 0.1
        last = ""
        while True:
            try:
                if not self.transport.is_open:
                    self.transport.open()
                try:
                    self.repl.enter(self.config.answer_s)
                except ReadTimeout:
                    if self.config.hard_reset is None:
                        raise
                    self.hard_reset()
                    self.repl.enter(self.config.boot_s)
                if self.config.soft_reset:
                    self.repl.soft_reset(self.config.boot_s)
                self.ready = True
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
        out, err = repl.run(IDENTITY.encode(), timeout_s)
        info = parse_identity(_decode(out))
        info["raw_paste"] = bool(repl.raw_paste)
        try:
            transport.write(b"\x02")  # back to the friendly REPL, as we found it
        except TransportLost:
            pass
        return info
    finally:
        transport.close()
