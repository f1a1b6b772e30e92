"""MicroPython boards emulated by QEMU, driven by the board runner.

QemuTarget starts QEMU with the board's UART on a TCP socket (127.0.0.1, a free
port, nodelay=on: without it every raw-REPL round trip waits ~40 ms for Nagle),
restarts it (the emulated board's hard reset) and stops it. QemuRunner is the board
runner (runners/board.py: raw REPL, raw-paste with its fallback, soft reset between
tests, the recovery ladder) pointed at that socket, with a QEMU restart as its hard
reset.

What to emulate is profile data: the QEMU binary (`qemu`), the machine (`machine`,
given as -machine and recorded in the results) and the rest of its command line
(`args`, where {firmware} stands for the firmware's path). The firmware is
--firmware, else the option `firmware`, else the one `mpconform install firmware
BOARD` last built for the option `board` (mpconform/firmware.py).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from mpconform.core.options import FIRMWARE, TIMEOUT, Option, resolve
from mpconform.runners.base import RunnerError
from mpconform.runners.plugins.board import OPTIONS as BOARD_OPTIONS
from mpconform.runners.plugins.board import BoardRunner
from mpconform.runners.transport.line import free_port, listening
from mpconform.runners.transport.process import kill_group
from mpconform.runners.transport.targets import Target

QEMU = "qemu-system-arm"
LISTEN_WAIT_S = 10.0
PLACEHOLDER = "{firmware}"
# The runner gives these itself: the machine from its option, the UART on its socket.
OWN_ARGS = ("-machine", "-M", "-serial")


def _args_check(value) -> str:
    if not all(isinstance(a, str) and a for a in value):
        return f"expected a list of non-empty strings, got {value!r}"
    own = [a for a in value if a in OWN_ARGS]
    if own:
        return f"{own[0]} is the runner's (the machine comes from the option machine, the UART goes to its socket)"
    if not any(PLACEHOLDER in a for a in value):
        return f"no {PLACEHOLDER}: the arguments must say where the firmware goes (e.g. -kernel {PLACEHOLDER})"
    return ""


def _macros_check(value) -> str:
    bad = [k for k, v in value.items() if not (isinstance(k, str) and k.startswith("MICROPY_"))
           or isinstance(v, bool) or not isinstance(v, (int, str))]
    return f"expected MICROPY_* names with integer or string values, got {bad[0]!r}" if bad else ""


def _make_args_check(value) -> str:
    bad = [a for a in value if not (isinstance(a, str) and "=" in a and a.split("=", 1)[0].isidentifier())]
    return f"expected VAR=value strings, got {bad[0]!r}" if bad else ""


def _board_check(value) -> str:
    return "" if value.replace("_", "").isalnum() else f"expected a ports/qemu board name like MPS2_AN385, got {value!r}"


def qemu_command(qemu: str, machine: str, args: list[str], port: int) -> list[str]:
    """QEMU's command line with the board's UART on tcp://127.0.0.1:port."""
    serial = f"tcp:127.0.0.1:{port},server,nowait,nodelay=on"
    return [qemu, "-machine", machine, *args, "-serial", serial]


@dataclass(frozen=True)
class QemuPlan:
    """What to start for one emulated board, checked: the QEMU binary found, the
    firmware there, its path filled into the arguments."""

    qemu: str
    machine: str
    args: list[str]
    firmware: str
    board: str | None = None

    def command(self, port: int) -> list[str]:
        return qemu_command(self.qemu, self.machine, self.args, port)


def plan_qemu(options: dict) -> QemuPlan:
    """The emulated board a qemu profile's (resolved) options describe; RunnerError
    saying what is missing (the machine, the firmware, QEMU itself)."""
    o = options
    if not o["machine"] or not o["args"]:
        raise RunnerError("qemu runner: the profile must give the options machine and args")
    firmware = o["firmware"] or _installed_firmware(o)
    if not Path(firmware).is_file():
        raise RunnerError(f"firmware not found: {firmware}" + (f"; {o['firmware_hint']}" if o["firmware_hint"] else ""))
    qemu = shutil.which(o["qemu"])
    if not qemu:
        raise RunnerError(f"{o['qemu']} not found; install Debian's qemu-system-arm or qemu-system-misc "
                          "(mpconform install qemu)")
    firmware = str(Path(firmware).resolve())
    return QemuPlan(qemu, o["machine"], [a.replace(PLACEHOLDER, firmware) for a in o["args"]], firmware, o["board"])


def _installed_firmware(o: dict) -> str:
    from mpconform.runners.install.firmware import FirmwareBuild, installed

    if not o["board"]:
        raise RunnerError(f"the {o['machine']} machine needs a firmware: --firmware PATH"
                          + (f"; {o['firmware_hint']}" if o["firmware_hint"] else ""))
    build = FirmwareBuild(o["board"], dict(o["macros"] or {}), tuple(o["make_args"] or ()))
    found = installed(build)
    if found is None:
        raise RunnerError(f"no firmware installed for board {o['board']}: run `{build.install_command()}` "
                          "(from MICROPY_DIR, --micropython-dir DIR or --archive TAR), or give --firmware PATH")
    return str(found)


class QemuTarget(Target):
    """One QEMU process with the board's UART on tcp://127.0.0.1:port."""

    kind = "qemu"
    reset_by_default = True  # restarting QEMU is the emulated board's power switch

    def __init__(self, qemu: str, machine: str, args: list[str], port: int | None = None):
        self.qemu = qemu
        self.machine = machine
        self.args = args  # the rest of the command line, the firmware's path filled in
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return qemu_command(self.qemu, self.machine, self.args, self.port)

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
            up = listening(self.port)
            if up is None:
                time.sleep(0.3)  # no /proc: give it a moment; the board runner retries the connection anyway
                return
            if up:
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
        return {"kind": self.kind, "address": self.url, "machine": self.machine}


class QemuRunner(BoardRunner):
    """The board runner with a QEMU instance as its target."""

    name = "qemu"
    OPTIONS = (
        TIMEOUT,
        Option("machine", "str", None, "QEMU's -machine (e.g. mps2-an385, sabrelite, virt); recorded in the results"),
        Option("qemu", "str", QEMU, "the QEMU binary (qemu-system-arm, qemu-system-riscv32, ...)"),
        Option("args", "list", None, f"QEMU arguments after -machine, {PLACEHOLDER} standing for the firmware's path "
               f"(e.g. [-nographic, -monitor, none, -kernel, {PLACEHOLDER}])", check=_args_check),
        FIRMWARE,
        Option("board", "str", None, "upstream ports/qemu board whose firmware `mpconform install firmware BOARD` "
               "built (used when no firmware is given)", check=_board_check),
        Option("macros", "mapping", None, "macros `install firmware` builds the board with on top of its config",
               check=_macros_check),
        Option("make_args", "list", None, "make variables (VAR=value) `install firmware` builds the board with",
               check=_make_args_check),
        Option("firmware_hint", "str", None, "how to get the firmware, said when it is missing"),
        *(o for o in BOARD_OPTIONS if o.name in (
            "raw_paste", "soft_reset", "answer_s", "boot_s", "reconnect_s", "chunk", "chunk_delay_s",
            "place", "coordinator", "place_wait_s")),
    )

    # the target's own reset (a new QEMU) is the only one: there is no option hard_reset
    capabilities = dataclasses.replace(BoardRunner.capabilities, reset_kinds=())

    def __init__(self, options: dict):
        super().__init__(options)
        plan = self._planned
        # made (not started) once and kept across open/close: tests and the pool look at its restarts
        self.qemu_target = QemuTarget(plan.qemu, plan.machine, plan.args) if isinstance(plan, QemuPlan) else None

    @classmethod
    def plan(cls, options: dict) -> QemuPlan:
        """The emulated board a profile's options describe (the lab starts it itself)."""
        return plan_qemu(resolve(cls.name, cls.OPTIONS, options))

    def plan_target(self):
        if self.options["place"]:  # the emulated board runs in a lab, exported as a place
            return super().plan_target()
        return plan_qemu(self.options)

    @property
    def machine(self) -> str:
        return self.options["machine"]

    @property
    def firmware(self) -> str | None:
        return self._planned.firmware if isinstance(self._planned, QemuPlan) else None

    def make_target(self) -> Target:
        return self.qemu_target or super().make_target()

    @classmethod
    def can_multiply(cls, options: dict) -> bool:
        return not options.get("place")  # each instance starts its own QEMU on its own port

    def describe_target(self) -> dict:
        if self.qemu_target is None:
            return {**super().describe_target(), "machine": self.machine}
        return {"kind": "qemu", "machine": self.machine, "qemu": Path(self.qemu_target.qemu).name,
                **({"board": self.options["board"]} if self.options["board"] else {}),
                "firmware": self.firmware, "address": self.qemu_target.url}
