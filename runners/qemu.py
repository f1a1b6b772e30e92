"""MicroPython boards emulated by QEMU, driven by the board runner.

QemuTarget starts `qemu-system-arm` with the board's UART on a TCP socket
(127.0.0.1, a free port, nodelay=on: without it every raw-REPL round trip waits
~40 ms for Nagle), restarts it (the emulated board's hard reset) and stops it.
QemuRunner is the board runner (runners/board.py: raw REPL, raw-paste with its
fallback, soft reset between tests, the recovery ladder) pointed at that socket,
with a QEMU restart as its hard reset.

Machines (runner option `machine`):
* microbit: the BBC micro:bit (nRF51) with Debian's firmware-microbit-micropython
  (MicroPython 1.9.2), loaded as a .hex with QEMU's generic loader.
* mps2-an385: upstream's ports/qemu, board MPS2_AN385 (Cortex-M3), a firmware.elf
  the user built, run as a kernel with semihosting. It cannot interrupt a running
  loop with Ctrl-C, so a hung test costs a restart.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .base import Runner, RunnerError
from .board import BoardRunner
from .transport import free_port

QEMU = "qemu-system-arm"
MICROBIT_FIRMWARE = "/usr/share/firmware-microbit-micropython/firmware.hex"
LISTEN_WAIT_S = 10.0

# machine -> (QEMU arguments before the serial line, given the firmware path; default firmware; how to get it)
MACHINES = {
    "microbit": (
        lambda fw: ["-M", "microbit", "-display", "none", "-monitor", "none", "-device", f"loader,file={fw}"],
        MICROBIT_FIRMWARE,
        "install Debian's firmware-microbit-micropython (mpconform install qemu)",
    ),
    "mps2-an385": (
        # As upstream's ports/qemu Makefile runs it (QEMU_ARGS for BOARD=MPS2_AN385).
        lambda fw: ["-machine", "mps2-an385", "-nographic", "-monitor", "null", "-semihosting", "-kernel", fw],
        None,
        "build upstream's ports/qemu (make BOARD=MPS2_AN385) and pass --firmware build-MPS2_AN385/firmware.elf",
    ),
}


def _listening(port: int) -> bool:
    """True when something listens on 127.0.0.1:port, read from /proc (connecting would
    take QEMU's only client slot); None when /proc cannot tell."""
    try:
        text = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    wanted = f"0100007F:{port:04X}"
    return any(f" {wanted} " in line and line.split()[3] == "0A" for line in text.splitlines()[1:])


class QemuTarget:
    """One QEMU process with the board's UART on tcp://127.0.0.1:port."""

    def __init__(self, qemu: str, machine_args: list[str], port: int | None = None):
        self.qemu = qemu
        self.machine_args = machine_args
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        serial = f"tcp:127.0.0.1:{self.port},server,nowait,nodelay=on"
        return [self.qemu, *self.machine_args, "-serial", serial]

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.starts += 1
        deadline = time.monotonic() + LISTEN_WAIT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                why = self.proc.stderr.read().decode(errors="replace").strip()
                raise RunnerError(f"{self.qemu} exited at start (status {self.proc.returncode}): {why[-300:]}")
            listening = _listening(self.port)
            if listening is None:
                time.sleep(0.3)  # no /proc: give it a moment; the board runner retries the connection anyway
                return
            if listening:
                return
            time.sleep(0.02)
        raise RunnerError(f"{self.qemu} did not open 127.0.0.1:{self.port} within {LISTEN_WAIT_S:.0f}s")

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def hard_reset(self) -> None:
        """Power-cycle the emulated board: a new QEMU on the same port."""
        self.stop()
        self.start()


class QemuRunner(BoardRunner):
    """Options: machine (microbit | mps2-an385), firmware (path; default per machine),
    qemu (binary, default qemu-system-arm on PATH), and the board runner's own
    (raw_paste, soft_reset, answer_s, boot_s, reconnect_s)."""

    name = "qemu"

    def __init__(self, options: dict):
        if options.get("prelude"):
            raise RunnerError(f"the {self.name} runner does not support --prelude (the unix runner does)")
        machine = options.get("machine")
        if machine not in MACHINES:
            raise RunnerError(f"qemu runner option machine: expected one of {', '.join(MACHINES)}, got {machine!r}")
        args_for, default_firmware, how = MACHINES[machine]
        # --micropython is how `mpconform run` names a binary; for QEMU it is the firmware.
        firmware = options.get("firmware") or options.get("micropython") or default_firmware
        if not firmware:
            raise RunnerError(f"the {machine} machine needs a firmware: {how}")
        if not Path(firmware).is_file():
            raise RunnerError(f"firmware not found: {firmware}; {how}")
        qemu = shutil.which(options.get("qemu") or QEMU)
        if not qemu:
            raise RunnerError(f"{options.get('qemu') or QEMU} not found; install Debian's qemu-system-arm "
                              "(mpconform install qemu)")
        self.qemu_target = QemuTarget(qemu, args_for(str(Path(firmware).resolve())))
        self.machine, self.firmware = machine, str(Path(firmware).resolve())
        self.chunk = int(options.get("chunk", 256))
        self.chunk_delay_s = float(options.get("chunk_delay_s", 0.01))
        own = ("machine", "firmware", "qemu", "micropython", "chunk", "chunk_delay_s")
        board_options = {k: v for k, v in options.items() if k not in own}
        board_options["device"] = self.qemu_target.url
        super().__init__(board_options)
        # The board runner calls hard_reset() on its recovery ladder only when one is
        # configured; ours restarts QEMU (overridden below).
        self.config = dataclasses.replace(self.config, hard_reset={"kind": "qemu-restart"})

    # The board runner's own check looks for a serial device; ours is made at open(),
    # so the generic check (can the runner be built from these options?) applies.
    unavailable_reason = classmethod(Runner.unavailable_reason.__func__)

    @classmethod
    def can_multiply(cls, options: dict) -> bool:
        return True  # each instance starts its own QEMU on its own port

    def describe_target(self) -> dict:
        return {"kind": "qemu", "machine": self.machine, "firmware": self.firmware, "address": self.qemu_target.url}

    def open(self) -> None:
        if self.qemu_target.proc is None:
            self.qemu_target.start()
        super().open()
        # Plain raw REPL pacing: the emulated UART has no baud rate, so a fast sender
        # can overrun the firmware's small receive buffer while it is busy (a GC).
        self.repl.chunk = self.chunk
        self.repl.chunk_delay_s = self.chunk_delay_s

    def close(self) -> None:
        super().close()
        self.qemu_target.stop()

    def hard_reset(self) -> None:
        self.qemu_target.hard_reset()

    def _recover(self) -> None:
        # A firmware can take QEMU down with it (ports/qemu exits on a fatal error, e.g.
        # a soft reboot with the heap still locked): no board would answer, so power it again.
        if self.qemu_target.proc is None or self.qemu_target.proc.poll() is not None:
            self.transport.close()
            self.qemu_target.hard_reset()
        super()._recover()
