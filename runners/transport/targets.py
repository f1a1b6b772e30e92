"""What the board runner drives: a Target makes a board reachable as a byte stream
(a pyserial URL), can hard-reset it when it has a way to, and says what it is.

Targets: a local serial device or URL (SerialTarget, here), the unix port on a
pseudo-terminal (pty_target.PtyTarget), a QEMU instance (qemu.QemuTarget) and a
labgrid place (labgrid_place.PlaceTarget). The board runner knows none of them in
particular; it opens the URL, and its reset strategy (resets.py) may call the
target's hard_reset() on the recovery ladder."""

from __future__ import annotations

import abc


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
    """A serial device or pyserial URL (socket://, rfc2217://); how it is reset is the
    runner's reset strategy (runners/transport/resets.py), not the line's."""

    kind = "serial"

    def __init__(self, url: str):
        self.url = url

    def open(self) -> str:
        return self.url

    def describe(self) -> dict:
        return {"kind": self.kind, "address": self.url}
