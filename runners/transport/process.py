"""Run one test as one local process: the mechanics shared by runners that start a
process per test (unix binary, node for WebAssembly). When a test ends - normally, by
timeout, or on close - everything it started goes with it (runners/proctree.py);
death by signal is reported as a crash."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from mpconform.runners.base import CLOSED, Execution, Runner, RunnerError, Step
from mpconform.runners.run.matching import marker_line_end
from mpconform.runners.transport.bounded import BoundedOutput
from mpconform.runners.transport.proctree import end_tree, environment, forget, new_tag, wait_unreaped


class ProcessRunner(Runner):
    """Subclasses say which command runs a script; this class runs it."""

    def __init__(self, options: dict):
        super().__init__(options)
        self._running: set[subprocess.Popen] = set()
        self._closed = False
        self._environ: dict[bytes, bytes] | None = None

    def open(self) -> None:
        self._closed = False
        # The environment every test of this run gets, copied once: os.environ is a
        # Python mapping, whose copy costs Python calls for each variable.
        self._environ = dict(os.environb)

    def close(self) -> None:
        self._closed = True  # first: a test starting now sees it (run_process checks it twice)
        for proc in list(self._running):
            kill_group(proc)

    def check_open(self) -> None:
        if self._closed:
            raise RunnerError(CLOSED)

    def run_process(self, command: list[str], cwd: Path, timeout_s: float,
                    interact: Sequence[Step] = ()) -> tuple[Execution, int | None]:
        """Execution of `command` (output decoded), and its raw exit status. With
        `interact`, input goes in as a terminal would deliver it: each step waits until
        the output holds `after`, then its `send` characters go in order, Ctrl-C as SIGINT
        to the test's process group and the rest on its stdin."""
        self.check_open()
        start = time.monotonic()
        tag = new_tag()
        try:
            proc = subprocess.Popen(
                command,
                cwd=cwd,
                stdin=subprocess.PIPE if interact else _devnull(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                **NEW_GROUP,  # its process group: killed whole when the test ends
                env=environment(tag, self._environ),
            )
        except OSError as exc:
            forget(tag)
            raise RunnerError(f"cannot start {command[0]}: {exc.strerror}") from None
        self._running.add(proc)  # so close() kills it too
        if self._closed:  # close() came between the check and the start: it missed this one
            kill_group(proc)
        ended = False
        try:
            out, timed_out = _read_bounded(proc, start + timeout_s, interact)
            ended = not timed_out
        finally:  # normal end, timeout or an interrupt: nothing it started outlives it
            end_tree(proc, tag, ended=ended)
            proc.wait()
            self._running.discard(proc)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass
        crashed = ""
        if not timed_out and proc.returncode < 0:
            crashed = f"killed by {signal_name(-proc.returncode)}"
        execution = Execution(
            output=out.decode("utf-8", "backslashreplace"),
            exit_code=None if timed_out else proc.returncode,
            duration_s=time.monotonic() - start,
            timed_out=timed_out,
            crashed=crashed,
        )
        return execution, proc.returncode


# A process group of its own, in this session (Python 3.11+). A new session as well
# (setsid) would put every test in a scheduler autogroup of its own, which measured
# about 1.5x slower per test with -j 2 on a loaded two-CPU machine.
NEW_GROUP: dict = {"process_group": 0} if sys.version_info >= (3, 11) else {"start_new_session": True}

_null_fd: int | None = None
_null_lock = threading.Lock()


def _devnull() -> int:
    """/dev/null opened once for every test's stdin (subprocess.DEVNULL opens it per test)."""
    global _null_fd
    if _null_fd is None:
        with _null_lock:
            if _null_fd is None:
                _null_fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    return _null_fd


# A terminal's line discipline turns its interrupt character into SIGINT for the
# foreground process group instead of passing it on; what else is typed is input.
TERMINAL_INTERRUPT = "\x03"
READ_CHUNK = 65536


def _deliver(proc: subprocess.Popen, text: str) -> None:
    for ch in text:
        try:
            if ch == TERMINAL_INTERRUPT:
                os.killpg(proc.pid, signal.SIGINT)
            else:
                proc.stdin.write(ch.encode("latin-1"))
                proc.stdin.flush()
        except (ProcessLookupError, BrokenPipeError, OSError):
            return  # it has gone: its exit says the rest


def _read_bounded(proc: subprocess.Popen, deadline: float, interact: Sequence[Step] = ()) -> tuple[bytes, bool]:
    """Read the process's output as it comes, keeping a bounded head and tail, until it
    ends (and closes its output) or the deadline passes (then it timed out); each
    `interact` step is delivered once its marker's line is in the head."""
    out = BoundedOutput()
    todo = [(after.encode("utf-8"), send) for after, send in interact]
    searched = 0
    fd = proc.stdout.fileno()
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return out.getvalue(), True
            if not sel.select(min(left, 0.5)):
                continue
            chunk = os.read(fd, READ_CHUNK)
            if not chunk:
                break
            out.add(chunk)
            while todo:  # markers are looked for in the head only
                end = marker_line_end(out.head, todo[0][0], searched)
                if end < 0:
                    break
                searched = end
                _deliver(proc, todo.pop(0)[1])
    # it closed its output; has it ended too? (left unreaped: the caller ends its tree first)
    return out.getvalue(), not wait_unreaped(proc, max(0.1, deadline - time.monotonic()))


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to the process and everything in its group (it was started in a session of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_then_kill(proc: subprocess.Popen, ask, timeout_s: float) -> None:
    """Ask a child to stop (`ask()` sends its signal), give it `timeout_s` to clean up, then kill it."""
    ask()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
