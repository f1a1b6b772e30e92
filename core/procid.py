"""Which process a recorded pid is: a pid alone may since have been given to another
process, so a record keeps the pid with its start time (clock ticks after boot, from
/proc/PID/stat), and only a process with both is taken for the one recorded."""

from __future__ import annotations

import os
from pathlib import Path


def read_proc(path: str) -> bytes:
    """A /proc file's content, read with bare system calls: every test's end reads a few
    of them, and pathlib's path objects cost more than the reads. OSError when absent."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (which may hold spaces or ')')."""
    try:
        return read_proc(f"/proc/{pid}/stat").decode(errors="replace").rsplit(")", 1)[1].split()
    except (OSError, IndexError, ValueError):
        return None


def start_time(pid: int) -> int | None:
    """When `pid` started (clock ticks after boot), or None when no such process runs."""
    fields = stat_fields(pid)
    if fields is None or len(fields) < 20 or fields[0] == "Z":
        return None
    try:
        return int(fields[19])  # field 22 of stat; fields[0] is field 3 (the state)
    except ValueError:
        return None


def identity(pid: int | None = None) -> dict[str, int | None]:
    """What a record keeps of a process (this one by default) to know it again."""
    pid = os.getpid() if pid is None else pid
    return {"pid": pid, "start": start_time(pid)}


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def is_running(pid: int, start: int | None, argv: list[str] | None = None) -> bool:
    """Whether the process recorded as (pid, start) still runs: the pid runs and started
    then. A record without a start time is matched by its command line (`argv`), and
    without either it is never taken for a running process of ours."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    now = start_time(pid)
    if now is None:
        return False
    if start is not None:
        return now == start
    return bool(argv) and cmdline(pid) == list(argv or ())
