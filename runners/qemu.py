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

import shutil
import subprocess
import time
from pathlib import Path

from .base import RunnerError
from .board import OPTIONS as BOARD_OPTIONS
from .board import BoardRunner
from .options import TIMEOUT, Option
from .process import kill_group
from .targets import Target
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


def _known_machine(value) -> str:
    return "" if value in MACHINES else f"expected one of {', '.join(MACHINES)}, got {value!r}"


def _listening(port: int) -> bool:
    """True when something listens on 127.0.0.1:port, read from /proc (connecting would
    take QEMU's only client slot); None when /proc cannot tell."""
    try:
        text = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    wanted = f"0100007F:{port:04X}"
    return any(f" {wanted} " in line and line.split()[3] == "0A" for line in text.splitlines()[1:])


class QemuTarget(Target):
    """One QEMU process with the board's UART on tcp://127.0.0.1:port."""

    kind = "qemu"
    reset_by_default = True  # restarting QEMU is the emulated board's power switch

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
        kill_group(self.proc)
        self.proc.wait()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def hard_reset(self, transport=None) -> None:
        """Power-cycle the emulated board: a new QEMU on the same port."""
        self.stop()
        self.start()

    # -- as a Target -----------------------------------------------------------------
    def open(self) -> str:
        if self.proc is None:
            self.start()
        return self.url

    def close(self) -> None:
        self.stop()

    @property
    def can_hard_reset(self) -> bool:
        return True

    def revive(self, transport) -> None:
        # A firmware can take QEMU down with it (ports/qemu exits on a fatal error, e.g.
        # a soft reboot with the heap still locked): no board would answer, so power it again.
        if self.proc is None or self.proc.poll() is not None:
            transport.close()
            self.hard_reset()

    def died(self) -> str | None:
        if self.proc is None:
            return None
        try:  # its socket closes as it exits: give the exit a moment to be seen
            status = self.proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            return None
        why = self.proc.stderr.read().decode(errors="replace").strip() if self.proc.stderr else ""
        return f"{Path(self.qemu).name} exited (status {status}) during the test" + (f": {why[-300:]}" if why else "")

    def describe(self) -> dict:
        machine_index = self.machine_args.index("-M") + 1 if "-M" in self.machine_args else None
        return {"kind": self.kind, "address": self.url,
                **({"machine": self.machine_args[machine_index]} if machine_index else {})}


class QemuRunner(BoardRunner):
    """The board runner with a QEMU instance as its target."""

    name = "qemu"
    OPTIONS = (
        TIMEOUT,
        Option("machine", "str", None, "the emulated board: " + " | ".join(MACHINES), check=_known_machine),
        Option("firmware", "str", None, "firmware file (--firmware; default per machine)"),
        Option("qemu", "str", QEMU, "the qemu-system-arm binary"),
        *(o for o in BOARD_OPTIONS if o.name in (
            "raw_paste", "soft_reset", "answer_s", "boot_s", "reconnect_s", "chunk", "chunk_delay_s",
            "place", "coordinator", "place_wait_s")),
    )

    def plan_target(self):
        machine = self.options["machine"]
        self.machine, self.firmware, self.qemu_target = machine, None, None
        if self.options.get("place"):  # the emulated board runs in a lab, exported as a place
            return super().plan_target()
        if machine is None:
            raise RunnerError(f"qemu runner option machine: expected one of {', '.join(MACHINES)}")
        args_for, default_firmware, how = MACHINES[machine]
        firmware = self.options["firmware"] or default_firmware
        if not firmware:
            raise RunnerError(f"the {machine} machine needs a firmware: {how}")
        if not Path(firmware).is_file():
            raise RunnerError(f"firmware not found: {firmware}; {how}")
        qemu = shutil.which(self.options["qemu"])
        if not qemu:
            raise RunnerError(f"{self.options['qemu']} not found; install Debian's qemu-system-arm "
                              "(mpconform install qemu)")
        self.machine, self.firmware = machine, str(Path(firmware).resolve())
        # kept across open/close: tests and the pool look at its restarts
        self.qemu_target = QemuTarget(qemu, args_for(self.firmware))
        return None

    def make_target(self) -> Target:
        return self.qemu_target or super().make_target()

    @classmethod
    def can_multiply(cls, options: dict) -> bool:
        return not options.get("place")  # each instance starts its own QEMU on its own port

    def describe_target(self) -> dict:
        if self.qemu_target is None:
            return {**super().describe_target(), "machine": self.machine}
        return {"kind": "qemu", "machine": self.machine, "firmware": self.firmware, "address": self.qemu_target.url}
