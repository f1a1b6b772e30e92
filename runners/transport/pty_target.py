"""The unix port made to look like a board on a serial line.

A small relay process owns two pseudo-terminals: the *board* side, where
`micropython` runs with its REPL on the terminal, and the *host* side, whose
device path (published as a symlink) is what a host opens like /dev/ttyACM0 -
pyserial directly, or ser2net to export it. The relay copies bytes both ways and
behaves like a USB-serial bridge in front of a microcontroller:

* the unix port has no soft reset: Ctrl-D in its raw REPL ends the process. The
  relay starts it again at once, so the host sees a reboot (a fresh banner);
* SIGHUP to the relay is the hard reset: the board process is killed and restarted
  (power on, when it was off); SIGUSR2 switches the power off until the next SIGHUP;
* SIGUSR1 is a USB unplug: the host side disappears (its symlink too) for
  `--unplug-s` seconds, then comes back under a new device path;
* killing the relay is a board that never comes back, and its device path goes with
  it (see `Relay.plug`).

Run as `python -m mpconform.runners.transport.pty_target --link PATH -- micropython`;
`PtyTarget` starts and controls one from Python.
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import os
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

from mpconform.core.selfcommand import module_command
from mpconform.runners.base import RunnerError
from mpconform.runners.transport.process import kill_group, stop_then_kill
from mpconform.runners.transport.proctree import become_subreaper, sweep
from mpconform.runners.transport.targets import Target

READY_TIMEOUT_S = 10.0
HELD_FD_FLOOR = 700  # where the published descriptor is kept (see Relay.plug)


def _host_side_termios(fd: int) -> None:
    """A serial line: bytes pass unchanged (pyserial sets this too, ser2net may not)."""
    attrs = termios.tcgetattr(fd)
    attrs[0] = 0  # iflag
    attrs[1] = 0  # oflag
    attrs[3] = 0  # lflag
    attrs[2] = (attrs[2] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8 | termios.CREAD | termios.CLOCAL
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _board_side_termios(fd: int) -> None:
    """What the port restores while it runs code: no echo, no line editing, no CRLF
    rewriting (a board's UART adds none), but Ctrl-C still raises SIGINT - the unix
    port's way of seeing a keyboard interrupt, and SIG_DFL (death) after kbd_intr(-1)."""
    attrs = termios.tcgetattr(fd)
    attrs[0] = 0
    attrs[1] = 0
    attrs[3] = termios.ISIG
    attrs[6][termios.VMIN] = 1
    attrs[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)


def _held_high(fd: int) -> int:
    """The descriptor moved to a number few processes use (a reused pid is unlikely to
    have it open too); where the limit does not allow it, the descriptor as it is."""
    try:
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, HELD_FD_FLOOR)
    except OSError:
        return fd
    os.close(fd)
    return high


def _device_path(slave: int) -> str:
    """What the link names: this relay's own descriptor of the host side, opened through
    /proc, rather than /dev/pts/N. A SIGKILLed relay cannot remove its link, and the
    kernel gives N to the next pseudo-terminal opened at once: a host reopening
    /dev/pts/N (ser2net does, by path) would then write into a stranger's terminal. The
    descriptor path vanishes with the process, as a USB device's node does when it is
    unplugged, so a reopen fails instead. (/dev/pts/N where there is no /proc.)"""
    mine = Path(f"/proc/{os.getpid()}/fd/{slave}")
    return str(mine) if mine.exists() else os.ttyname(slave)


def _take_terminal() -> None:  # runs in the child: make the pty its controlling terminal
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Relay:
    def __init__(self, command: list[str], link: Path, unplug_s: float):
        self.command = command
        self.link = link
        self.unplug_s = unplug_s
        self.host_fds: tuple[int, int] | None = None
        self.board: subprocess.Popen | None = None
        self.board_fd: int | None = None
        self.replug_at: float | None = None
        self.pending: list[int] = []
        self.to_board = bytearray()  # sent by the host, not yet taken by the board
        self.to_host = bytearray()  # printed by the board, not yet taken by the host
        self.stop = False
        self.powered = True

    # -- host side -----------------------------------------------------------------
    def plug(self) -> None:
        master, slave = os.openpty()
        _host_side_termios(slave)
        os.set_blocking(master, False)
        slave = _held_high(slave)
        self.host_fds = (master, slave)  # keep the slave open: a host closing it is no event
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(_device_path(slave))
        os.replace(tmp, self.link)

    def unplug(self) -> None:
        self.to_host.clear()
        self.link.unlink(missing_ok=True)
        if self.host_fds:
            for fd in self.host_fds:
                os.close(fd)
            self.host_fds = None

    # -- board side ----------------------------------------------------------------
    def power_on(self) -> None:
        master, slave = os.openpty()
        _board_side_termios(slave)
        self.board = subprocess.Popen(
            self.command, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True, preexec_fn=_take_terminal, close_fds=True,
        )
        os.close(slave)
        os.set_blocking(master, False)
        self.board_fd = master

    def power_off(self) -> None:
        if self.board is not None:
            kill_group(self.board)
            self.board.wait()
            self.board = None
            sweep(None)  # what the board's process started outside its group goes with it
        if self.board_fd is not None:
            os.close(self.board_fd)
            self.board_fd = None
        self.to_board.clear()  # what was on its way to the board went with its power

    # -- signals, handled in the loop ----------------------------------------------
    def on_signal(self, signum, _frame) -> None:
        self.pending.append(signum)

    def handle_pending(self) -> None:
        while self.pending:
            signum = self.pending.pop(0)
            if signum == signal.SIGHUP:
                self.power_off()
                self.power_on()
                self.powered = True
            elif signum == signal.SIGUSR2:
                self.power_off()
                self.powered = False
            elif signum == signal.SIGUSR1 and self.host_fds:
                self.unplug()
                self.power_off()  # a USB-powered board loses power with its cable
                self.replug_at = time.monotonic() + self.unplug_s
            elif signum in (signal.SIGTERM, signal.SIGINT):
                self.stop = True

    def run(self) -> None:
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self.on_signal)
        become_subreaper()  # orphans of the board's processes come here, to be stopped with it
        try:
            self.power_on()
            self.plug()
            while not self.stop:
                self.handle_pending()
                if self.replug_at is not None and time.monotonic() >= self.replug_at:
                    self.replug_at = None
                    self.power_on()
                    self.plug()
                if self.board is not None and self.board.poll() is not None:
                    self._drain_board()
                    self.power_off()  # Ctrl-D (soft reset) or a crash ended the port: reboot it
                    self.power_on()
                self._relay_once()
        finally:
            self.unplug()
            self.power_off()

    # -- the bytes between them ---------------------------------------------------------
    # A USB-serial bridge loses nothing while both ends are there: what the host sends
    # waits until the board takes it (the host's writes block meanwhile, flow control),
    # and what the board prints waits for the host up to TO_HOST_MAX bytes (a host that
    # never reads does not stop the board; beyond that the bridge drops, as a full FIFO).
    TO_HOST_MAX = 1 << 20

    def _relay_once(self) -> None:
        host = self.host_fds[0] if self.host_fds else None
        board = self.board_fd
        if host is None:
            self.to_host.clear()
        if board is None:
            self.to_board.clear()  # bytes sent to a board without power are gone
        readers = [fd for fd, room in ((board, True), (host, not self.to_board)) if fd is not None and room]
        writers = [fd for fd, data in ((host, self.to_host), (board, self.to_board)) if fd is not None and data]
        try:
            readable, writable, _ = select.select(readers, writers, [], 0.05)
        except InterruptedError:
            return
        if board in writable:
            self._write(board, self.to_board)
        if host in writable:
            self._write(host, self.to_host)
        if board in readable:
            self._take(board, self.to_host, host is not None)
        if host in readable:
            self._take(host, self.to_board, board is not None)

    def _take(self, src: int, into: bytearray, keep: bool) -> bool:
        try:
            data = os.read(src, 4096)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno == errno.EIO:  # the other end is gone (board exited)
                return False
            raise
        if keep and (into is not self.to_host or len(into) < self.TO_HOST_MAX):
            into += data
        return bool(data)

    @staticmethod
    def _write(dst: int, pending: bytearray) -> None:
        try:
            n = os.write(dst, pending)
        except BlockingIOError:
            return
        except OSError:  # the other side went away: what was on the way is lost with it
            pending.clear()
            return
        del pending[:n]

    def _drain_board(self) -> None:
        """What the board printed before it ended goes to the host (the loop writes it)."""
        while self.board_fd is not None and self._take(self.board_fd, self.to_host, bool(self.host_fds)):
            pass


class PtyTarget(Target):
    """Starts, resets, unplugs and stops one relay process (see the module doc). As the
    board runner's Target its line is the published device path, or `url` when the
    relay is reached another way (exported by ser2net)."""

    kind = "unix-pty"

    def __init__(self, command: list[str], link: Path, unplug_s: float = 1.0, url: str | None = None):
        self.command = [str(c) for c in command]
        self.link = Path(link)
        self.unplug_s = unplug_s
        self.url = url
        self.proc: subprocess.Popen | None = None

    # -- as a Target -----------------------------------------------------------------
    def open(self) -> str:
        if self.proc is None:
            self.start()
        return self.url or str(self.link)

    def close(self) -> None:
        self.stop()

    @property
    def can_hard_reset(self) -> bool:
        return True

    def describe(self) -> dict:
        return {"kind": self.kind, "address": self.url or str(self.link)}

    def start(self) -> None:
        self.link.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            module_command("mpconform.runners.transport.pty_target", "--link", str(self.link),
                           "--unplug-s", str(self.unplug_s), "--", *self.command),
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.link.exists():
            if self.proc.poll() is not None:
                raise RunnerError(f"pty target exited (status {self.proc.returncode}) before it was ready: {self.command}")
            if time.monotonic() > deadline:
                self.stop()
                raise RunnerError(f"pty target not ready after {READY_TIMEOUT_S:.0f}s: {self.command}")
            time.sleep(0.01)

    def _signal(self, signum: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signum)

    def hard_reset(self, transport=None) -> None:
        """Restart the board process (or the whole relay if it has gone)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        else:
            self._signal(signal.SIGHUP)

    def unplug(self) -> None:
        self._signal(signal.SIGUSR1)

    def board_pid(self) -> int | None:
        """The micropython process now running (tests kill it to crash the board)."""
        if self.proc is None:
            return None
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        except OSError:
            return None
        return int(children[0]) if children else None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stop_then_kill(self.proc, lambda: self._signal(signal.SIGTERM), timeout_s=3)
        self.proc = None
        self.link.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pty_target", description="Run a unix MicroPython as a board on a pseudo-terminal.")
    ap.add_argument("--link", required=True, help="symlink to publish the host-side device path at")
    ap.add_argument("--unplug-s", type=float, default=1.0, help="seconds the host side stays away after SIGUSR1")
    ap.add_argument("command", nargs="+", help="the port's command line, after --")
    args = ap.parse_args(argv)
    try:
        Relay(args.command, Path(args.link), args.unplug_s).run()
    except OSError as exc:  # e.g. the folder of the link was removed by a host that is stopping
        print(f"pty_target: {exc.filename or args.link}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
