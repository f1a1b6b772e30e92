"""Programs known to compile, remembered from one compile to the next.

Checking every program's syntax is about a fifth of a compile of a big spec, and a
program's text alone decides the answer (with the Python that checks it: the file is
one per Python version). Only programs that compiled are remembered: one that did not
is checked again, so its error is worded as before. A compile adds the programs it met;
past KEEP programs (projects and spec versions add up) the file keeps only those. A
cache that cannot be read or written is no cache: the compile checks every program."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from mpconform.core.atomicfile import WriteError, write_atomic
from mpconform.core.cachedir import cache_dir

FORMAT = b"mpconform-programs-1\n"
DIGEST = 16  # bytes per program
KEEP = 50_000  # programs (0.8 MB)


def cache_file() -> Path:
    """The file for the Python that checks (its full version: a new one may parse otherwise)."""
    key = hashlib.blake2b(f"{sys.implementation.name} {sys.version}".encode(), digest_size=8).hexdigest()
    return cache_dir("compile", f"programs-{key}.bin")


class KnownPrograms:
    """The syntax check of one compile, skipping what the cache file says compiled."""

    def __init__(self, path: Path | None = None):
        self.path = path
        self._stored = self._read(path) if path else set()
        self._met: set[bytes] = set()  # the programs this compile met that compile

    @staticmethod
    def _read(path: Path) -> set[bytes]:
        try:
            data = path.read_bytes()
        except OSError:
            return set()
        body = data[len(FORMAT):]
        if not data.startswith(FORMAT) or len(body) % DIGEST:
            return set()  # another format, or cut short: start again
        return {body[i:i + DIGEST] for i in range(0, len(body), DIGEST)}

    def check(self, program: str) -> None:
        """SyntaxError when `program` does not compile; nothing when it does, or did before."""
        key = hashlib.blake2b(program.encode("utf-8", "surrogatepass"), digest_size=DIGEST).digest()
        if key not in self._stored and key not in self._met:
            # compile(), not ast.parse(): no Python AST objects are made, which makes it about
            # three times faster; it also refuses what only the compiler finds ('return'
            # outside a function), as MicroPython's compiler does
            compile(program, "<program>", "exec", dont_inherit=True)
        self._met.add(key)

    def save(self) -> None:
        """Add the programs this compile met that compiled (when there are new ones)."""
        if self.path is None or self._met <= self._stored:
            return
        kept = self._met | self._stored
        if len(kept) > KEEP:
            kept = self._met
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, FORMAT + b"".join(sorted(kept)))
        except (WriteError, OSError):
            pass  # (a read-only cache folder: the next compile checks every program again)
