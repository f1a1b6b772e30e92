"""Write rendered files, or compare them with what is committed (`compile --check`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.atomicfile import write_all_or_none

# Byte-code caches Python (or pip, installing the wheel) writes beside the generated
# test programs: not generated, and not stale either.
BYTECODE_DIR = "__pycache__"
BYTECODE_SUFFIXES = (".pyc", ".pyo")


@dataclass
class Outputs:
    """Rendered files (path relative to the root -> bytes) and the directories they own.

    An owned directory holds only generated files: anything else found there is stale.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    owned_dirs: set[str] = field(default_factory=set)

    def add(self, files: dict[str, bytes], owned_dir: str | None = None) -> None:
        self.files.update(files)
        if owned_dir:
            self.owned_dirs.add(owned_dir)

    def stale(self, root: Path) -> list[tuple[str, str]]:
        """(path, why) for every file that differs from, is missing from, or is extra to the render."""
        out = []
        base = str(root)
        for rel, content in sorted(self.files.items()):
            try:  # (plain strings and an unbuffered read: this runs for every generated file)
                with open(os.path.join(base, rel), "rb", buffering=0) as fh:
                    same = fh.read(len(content) + 1) == content  # one read: a longer file differs too
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                out.append((rel, "missing"))
                continue
            if not same:
                out.append((rel, "differs"))
        for rel in sorted(self._extra(root)):
            out.append((rel, "not generated (stale)"))
        return out

    def _extra(self, root: Path) -> set[str]:
        extra = set()
        for d in self.owned_dirs:
            for dirpath, dirnames, names in os.walk(root / d):
                dirnames[:] = [n for n in dirnames if n != BYTECODE_DIR]
                prefix = Path(dirpath).relative_to(root).as_posix()
                extra.update(rel for rel in (f"{prefix}/{n}" for n in names if not n.endswith(BYTECODE_SUFFIXES))
                             if rel not in self.files)
        return extra

    def write(self, root: Path) -> list[str]:
        """Write changed files (all of them or, on a failure, none) and then delete stale
        ones; return what changed."""
        stale = self.stale(root)
        write_all_or_none({root / rel: self.files[rel] for rel, why in stale if why != "not generated (stale)"})
        for rel, why in stale:
            if why == "not generated (stale)":
                (root / rel).unlink()
        return [rel for rel, _ in stale]
