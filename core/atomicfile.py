"""Every file mpconform writes goes through here: written whole or not at all (a temp
file beside it, then a rename), a target checked before long work starts, and a lock
so a second writer of the same file gets a clear error instead of a missing file."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from mpconform.core.errors import MpconformError
from mpconform.core.procid import cmdline, identity, is_running, start_time


class WriteError(MpconformError):
    """A file mpconform was asked to write cannot be written; the message names it."""


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def regular_or_absent(path: Path, label: str = "") -> None:
    """Raise WriteError unless `path` is a regular file or nothing: what mpconform writes
    replaces its target, and a device (/dev/null), pipe or folder must never be replaced."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise WriteError(f"{label or path}: cannot write: {_why(exc)}") from None
    if not stat.S_ISREG(mode):
        kind = _kind(mode)
        raise WriteError(f"{label or path}: is {kind}, not a file{'' if kind == 'a folder' else '; name a regular file'}")


def check_writable(path: Path, what: str = "") -> None:
    """Raise WriteError now when `path` could not be written later (no folder, no
    permission, a folder or device in the way), so a run does not find out at its end."""
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    folder = path.parent if str(path.parent) else Path(".")
    regular_or_absent(path, label)
    if not folder.is_dir():
        raise WriteError(f"{label}: no such folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteError(f"{label}: cannot write in folder {folder} (permission denied)")
    if path.exists() and not os.access(path, os.W_OK):
        raise WriteError(f"{label}: cannot write (permission denied)")


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Replace `path` by `data` in one step: readers see the old file or the new one."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    regular_or_absent(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent if str(path.parent) else ".", prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise WriteError(f"{path}: cannot write: {_why(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, mode)  # mkstemp makes 0600; what we write is ordinary output
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise WriteError(f"{path}: cannot write: {_why(exc)}") from None
        raise


def write_all_or_none(files: dict[Path, bytes]) -> None:
    """Write several files so that either all are replaced or none is: every temp file
    is written first, then all are renamed (a failure before the renames removes them)."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, raw in files.items():
            try:  # found now, not when half the files are renamed
                regular_or_absent(path)
            except WriteError as exc:
                raise WriteError(f"{exc}; no file was changed") from None
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(raw)
            os.chmod(tmp, 0o644)
    except BaseException as exc:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            where = exc.filename or (staged[-1][1] if staged else "")
            raise WriteError(f"{where}: cannot write: {_why(exc)}; no file was changed") from None
        raise
    for tmp, path in staged:  # renames in one folder tree do not fail for want of space
        os.replace(tmp, path)


class WriteLock:
    """`<path>.lock` held while a command means to write `path`: a second command that
    wants the same file is told who holds it and where the lock is. The lock records its
    holder's pid and start time, so a lock whose holder has gone, or whose pid now
    belongs to another process, is taken over."""

    def __init__(self, path: Path):
        self.target = Path(path)
        self.path = self.target.with_name(self.target.name + ".lock")
        self._held = False

    def acquire(self) -> None:
        for _ in range(3):
            try:
                regular_or_absent(self.path)
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None:
                    raise WriteError(f"{self.target}: another mpconform (pid {holder}) is writing it (lock {self.path}); "
                                     "wait for it, or choose another file") from None
                with contextlib.suppress(OSError):
                    self.path.unlink()  # left by a process that has gone, or that is no mpconform
                continue
            except OSError as exc:
                raise WriteError(f"{self.path}: cannot create the lock for {self.target}: {_why(exc)}") from None
            me = identity()
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{me['pid']} {me['start']}\n")
            self._held = True
            return
        raise WriteError(f"{self.target}: another mpconform is writing it (lock {self.path})")

    def _holder(self) -> int | None:
        """The pid of the running mpconform that holds the lock, or None when nothing does."""
        try:
            fields = self.path.read_text(encoding="ascii", errors="replace").split()
            pid = int(fields[0])
            start = int(fields[1]) if len(fields) > 1 and fields[1] != "None" else None
        except (OSError, ValueError, IndexError):
            return None
        if start is not None:
            return pid if is_running(pid, start) else None
        # an older lock holds the pid only: its holder must at least be an mpconform
        if start_time(pid) is not None and any("mpconform" in arg for arg in cmdline(pid)):
            return pid
        return None

    def release(self) -> None:
        if self._held:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._held = False

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
