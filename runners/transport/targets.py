"""What the board runner drives: a Target makes a board reachable as a byte stream
(a pyserial URL), can hard-reset it when it has a way to, and says what it is.

Targets: a local serial device or URL (SerialTarget, here), the unix port on a
pseudo-terminal (pty_target.PtyTarget), a QEMU instance (qemu.QemuTarget) and a
labgrid place (labgrid_place.PlaceTarget). The board runner knows none of them in
particular; it opens the URL, and calls hard_reset() on its recovery ladder."""

from __future__ import annotations

import abc
import shlex
import subprocess

from mpconform.runners.base import RunnerError


class Target(abc.ABC):
    kind: str = "target"
    #: Use its hard reset even when the profile names none (an emulator's restart, a
    #: place's power switch); a pty relay's restart is used only when asked for.
    reset_by_default: bool = False

    @abc.abstractmethod
    def open(self) -> str:
        """Make the board reachable (start it, acquire it); the pyserial URL of its line."""

    def close(self) -> None:
        """Stop or release it; safe to call twice."""

    @property
    def can_hard_reset(self) -> bool:
        return False

    def hard_reset(self, transport) -> None:
        """Reset the board the hard way (power, reset line, restart); `transport` is the
        open line, for targets that reset through it."""

    def revive(self, transport) -> None:
        """Called before each recovery: bring back a target that is gone on its own
        (an emulator that exited), when it knows how."""

    def died(self) -> str | None:
        """Why the board is gone on its own (its process or emulator exited), when the
        target can tell; None while it lives or when it cannot tell. The board runner asks
        when the line fails during a test: a port that died is the test's crash."""
        return None

    def describe(self) -> dict:
        return {"kind": self.kind}


class SerialTarget(Target):
    """A serial device or pyserial URL (socket://, rfc2217://), with the profile's hard
    reset: a DTR/RTS pulse on the line or a command."""

    kind = "serial"

    def __init__(self, url: str, hard_reset: dict | None = None):
        self.url = url
        self.reset = hard_reset

    def open(self) -> str:
        return self.url

    @property
    def can_hard_reset(self) -> bool:
        return self.reset is not None

    def hard_reset(self, transport) -> None:
        if self.reset is None:
            return
        if self.reset["kind"] == "dtr_rts":
            transport.pulse_reset_lines(float(self.reset.get("pulse_s", 0.1)))
            return
        command = self.reset["command"]
        argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
        try:
            subprocess.run(argv, check=True, timeout=float(self.reset.get("timeout_s", 30)),
                           stdin=subprocess.DEVNULL, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RunnerError(f"hard reset command {argv[0]!r} failed: {exc}") from None

    def describe(self) -> dict:
        return {"kind": self.kind, "address": self.url}
