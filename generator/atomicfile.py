"""Every file mpconform writes goes through here: written whole or not at all (a temp
file beside it, then a rename), a target checked before long work starts, and a lock
so a second writer of the same file gets a clear error instead of a missing file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import MpconformError


class WriteError(MpconformError):
    """A file mpconform was asked to write cannot be written; the message names it."""


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_writable(path: Path, what: str = "") -> None:
    """Raise WriteError now when `path` could not be written later (no folder, no
    permission, a folder in the way), so a run does not find out at its end."""
    path = Path(path)
    label = f"{what} {path}" if what else str(path)
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise WriteError(f"{label}: is a folder, not a file")
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
            if path.is_dir():  # found now, not when half the files are renamed
                raise IsADirectoryError(21, "is a folder, not a file", str(path))
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
    wants the same file is told who holds it. A lock whose process has gone is taken over."""

    def __init__(self, path: Path):
        self.target = Path(path)
        self.path = self.target.with_name(self.target.name + ".lock")
        self._held = False

    def acquire(self) -> None:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder and pid_alive(holder):
                    raise WriteError(f"{self.target}: another mpconform (pid {holder}) is writing it; "
                                     f"wait for it, or choose another file") from None
                with contextlib.suppress(OSError):
                    self.path.unlink()  # left by a process that has gone
                continue
            except OSError as exc:
                raise WriteError(f"{self.target}: cannot write: {_why(exc)}") from None
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n")
            self._held = True
            return
        raise WriteError(f"{self.target}: another mpconform is writing it (lock {self.path})")

    def _holder(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def release(self) -> None:
        if self._held:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self._held = False

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def pid_alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
