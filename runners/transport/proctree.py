"""Nothing a test starts outlives it: a test's process group is killed when the test
ends (normally too, not only on timeout), and so is every process its tree started,
those that left the group or the session (`setsid`) included.

Processes that left the tree are found in two ways. While tests run, this process is
a child subreaper (Linux), so an orphan of a test is re-parented to it rather than to
init, and can be reaped. And each test's processes carry a tag in their environment,
inherited by what they start, so with tests running side by side (-j N) an orphan is
killed with its own test only. (A process that clears its environment and leaves
the session escapes the tag; it is still re-parented here, not killed.)"""

from __future__ import annotations

import itertools
import os
import select
import signal
import subprocess
import sys
import threading
import time

from mpconform.core.procid import read_proc, stat_fields

TREE_ENV = "MPCONFORM_TEST_TREE"
PR_SET_CHILD_SUBREAPER = 36
REAP_S = 2.0  # how long killed processes get to become reapable

_counter = itertools.count(1)
_guard = threading.Lock()
_running_tests = 0  # tests of this process now running: it is their subreaper meanwhile


_libc = None  # loaded once: turned on and off around every test


def _subreaper(on: bool) -> bool:
    global _libc
    if not sys.platform.startswith("linux"):
        return False
    try:
        if _libc is None:
            import ctypes  # on the first test, not at import

            _libc = ctypes.CDLL(None, use_errno=True)
        return _libc.prctl(PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Make orphaned descendants children of this process for good (a relay, whose only job is its board)."""
    return _subreaper(True)


def new_tag() -> str:
    """A tag for one test's processes; this process is their subreaper until the test's
    end_tree() or forget(). (Only while tests run: a library user's other orphans are
    not taken from init for good.)"""
    global _running_tests
    with _guard:
        if _running_tests == 0:
            _subreaper(True)
        _running_tests += 1
    return f"{os.getpid()}-{next(_counter)}"


def forget(tag: str) -> None:
    """The test of `tag` has ended and nothing of it is left."""
    global _running_tests
    with _guard:
        _running_tests -= 1
        if _running_tests == 0:
            _subreaper(False)


def environment(tag: str, base: dict[bytes, bytes] | None = None) -> dict[bytes, bytes]:
    """`base` (this process's environment when None) with the test's tag. In bytes, as exec
    takes them: os.environ would decode every variable and Popen encode it again, per test."""
    return {**(os.environb if base is None else base), TREE_ENV.encode(): tag.encode()}


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, zombies included; None when there is none."""
    fields = stat_fields(pid)
    try:
        return (fields[0], int(fields[1]), int(fields[19])) if fields else None
    except (IndexError, ValueError):
        return None


def start_time(pid: int) -> int | None:
    st = _stat(pid)
    return st[2] if st else None


def children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            out += [int(c) for c in read_proc(f"/proc/{pid}/task/{task}/children").split()]
        except (OSError, ValueError):
            pass
    return out


def descendants(pid: int) -> dict[int, int | None]:
    """Every process below `pid` now, with its start time (to know it again when killing)."""
    found: dict[int, int | None] = {}
    todo = children(pid)
    while todo:
        p = todo.pop()
        if p in found:
            continue
        found[p] = start_time(p)
        todo += children(p)
    return found


def _tagged(pid: int, needle: bytes) -> bool:
    try:
        return needle in read_proc(f"/proc/{pid}/environ").split(b"\0")
    except OSError:
        return False


def _adopted(tag: str | None, exclude: set[int]) -> dict[int, int | None]:
    """Children of this process that it did not start itself (orphans it was given as
    subreaper), with their trees: those of the test tagged `tag`, or all when tag is None."""
    needle = f"{TREE_ENV}={tag}".encode() if tag is not None else None
    found: dict[int, int | None] = {}
    for child in children(os.getpid()):
        if child in exclude or child in found:
            continue
        if needle is not None and not _tagged(child, needle):
            continue
        found[child] = start_time(child)
        found.update(descendants(child))
    return found


def _dead(pid: int) -> bool:
    st = _stat(pid)
    return st is None or st[0] in "ZX"


def _kill(pids: dict[int, int | None]) -> None:
    for pid, start in pids.items():
        if start is not None and start_time(pid) == start and not _dead(pid):  # that process still, not a reused pid
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _reap(pids) -> None:
    """Collect those of `pids` that are now zombie children of this process."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass


def _gone(pid: int, start: int | None) -> bool:
    """Whether the process recorded as (pid, start) is gone: no such pid, another process
    under it now, or a zombie its own parent is to reap. A zombie child of ours is not
    gone until we reap it."""
    st = _stat(pid)
    if st is None or start is None or st[2] != start:
        return True
    return st[0] == "Z" and st[1] != os.getpid()


def sweep(tag: str | None, exclude: set[int] = frozenset(), first: dict[int, int | None] | None = None) -> None:
    """Kill and reap what is left of a test's tree: `first` (known beforehand) and every
    orphan re-parented here that carries `tag` (every one, when tag is None), until none
    is left or REAP_S has passed (a process may fork while it is being killed)."""
    killed: dict[int, int | None] = dict(first or {})
    _kill(killed)
    deadline = time.monotonic() + REAP_S
    while True:
        more = {p: s for p, s in _adopted(tag, exclude).items() if p not in killed or not _dead(p)}
        _kill(more)
        killed.update(more)
        _reap(killed)
        left = [p for p, s in killed.items() if not _gone(p, s)]
        if not left and not more or time.monotonic() > deadline:
            return
        time.sleep(0.005)


def end_tree(proc: subprocess.Popen, tag: str, ended: bool = False) -> None:
    """Kill a test's process, its group and everything its tree started. Call it before
    reaping `proc`, so its pid (the group's id) cannot yet belong to another process.
    `ended`: it has exited (unreaped), so its children, if any, are orphans already."""
    try:
        first = descendants(proc.pid) if proc.returncode is None and not ended else {}
        if proc.returncode is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        sweep(tag, exclude={proc.pid}, first=first)
    finally:
        forget(tag)


def wait_unreaped(proc: subprocess.Popen, timeout_s: float) -> bool:
    """Until `proc` has ended, leaving it unreaped (see end_tree); False if it has not
    ended within timeout_s. The wait wakes when it ends (a pidfd, on Linux): polling
    would add its interval to every test, and more on a loaded machine."""
    if proc.returncode is not None:
        return True
    try:
        fd = os.pidfd_open(proc.pid)
    except ProcessLookupError:  # (reaped by someone else)
        return True
    except (AttributeError, OSError):  # no pidfd here (not Linux, old kernel, a sandbox): poll
        return _poll_unreaped(proc, timeout_s)
    try:
        poller = select.poll()  # (not select(): a busy run may hold descriptors above its 1024 limit)
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(max(timeout_s, 0) * 1000))
    finally:
        os.close(fd)


def _poll_unreaped(proc: subprocess.Popen, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    delay = 0.0005
    while True:
        if proc.returncode is not None:
            return True
        try:
            if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(delay * 2, 0.02)
