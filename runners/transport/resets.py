"""How a board is hard-reset, as labgrid's strategies put it: one ResetStrategy,
chosen once from the runner option `hard_reset` when the runner is made, that the
recovery ladder asks whether it can reset and then to reset.

Kinds: `target` (the target's own: restart an emulator or a pty relay, a place's
power switch), `dtr_rts` (a pulse on the line's reset wiring), `command` (a program
that resets the board). Given no kind, the target's own reset is used when the target
says it is its power switch (an emulator, a place with power), and none otherwise."""

from __future__ import annotations

import abc
import shlex
import subprocess
from typing import ClassVar

from mpconform.core.errors import RunnerError


class ResetStrategy(abc.ABC):
    kind: ClassVar[str]

    def can_reset(self, target) -> bool:
        """Whether this strategy can reset `target` (the open Target) now."""
        return True

    @abc.abstractmethod
    def reset(self, target, transport) -> None:
        """Reset the board the hard way; `transport` is its open line."""


class TargetReset(ResetStrategy):
    """The target's own reset; `asked`: named by the profile, not only its default."""

    kind = "target"

    def __init__(self, asked: bool = True):
        self.asked = asked

    def can_reset(self, target) -> bool:
        return target is not None and target.can_hard_reset and (self.asked or target.reset_by_default)

    def reset(self, target, transport) -> None:
        target.hard_reset(transport)


class PulseReset(ResetStrategy):
    """The common auto-reset wiring (EN on RTS, boot pin on DTR), pulsed on the line."""

    kind = "dtr_rts"

    def __init__(self, pulse_s: float = 0.1):
        self.pulse_s = pulse_s

    def reset(self, target, transport) -> None:
        transport.pulse_reset_lines(self.pulse_s)


class CommandReset(ResetStrategy):
    """A program that resets the board (a relay, a debug probe's reset)."""

    kind = "command"

    def __init__(self, argv: list[str], timeout_s: float = 30.0):
        self.argv = argv
        self.timeout_s = timeout_s

    def reset(self, target, transport) -> None:
        try:
            subprocess.run(self.argv, check=True, timeout=self.timeout_s, stdin=subprocess.DEVNULL, capture_output=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RunnerError(f"hard reset command {self.argv[0]!r} failed: {exc}") from None


#: the kinds the option `hard_reset` may name
KINDS = (TargetReset.kind, PulseReset.kind, CommandReset.kind)


def reset_strategy(spec: dict | None) -> ResetStrategy:
    """The strategy the option `hard_reset` names (already checked against KINDS)."""
    if spec is None:
        return TargetReset(asked=False)
    kind = spec["kind"]
    if kind == PulseReset.kind:
        return PulseReset(float(spec.get("pulse_s", 0.1)))
    if kind == CommandReset.kind:
        command = spec["command"]
        argv = shlex.split(command) if isinstance(command, str) else [str(c) for c in command]
        return CommandReset(argv, float(spec.get("timeout_s", 30)))
    return TargetReset(asked=True)
