"""Write rendered files, or compare them with what is committed (`compile --check`)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


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
        for rel, content in sorted(self.files.items()):
            path = root / rel
            if not path.is_file():
                out.append((rel, "missing"))
            elif path.read_bytes() != content:
                out.append((rel, "differs"))
        for rel in sorted(self._extra(root)):
            out.append((rel, "not generated (stale)"))
        return out

    def _extra(self, root: Path) -> set[str]:
        extra = set()
        for d in self.owned_dirs:
            base = root / d
            if base.is_dir():
                for p in base.rglob("*"):
                    rel = p.relative_to(root).as_posix()
                    if p.is_file() and rel not in self.files:
                        extra.add(rel)
        return extra

    def write(self, root: Path) -> list[str]:
        """Write changed files atomically and delete stale ones; return what changed."""
        changed = []
        for rel, why in self.stale(root):
            path = root / rel
            if why == "not generated (stale)":
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mpconform-")
                with os.fdopen(fd, "wb") as fh:
                    fh.write(self.files[rel])
                os.chmod(tmp, 0o644)  # mkstemp makes 0600; generated files are ordinary sources
                os.replace(tmp, path)
            changed.append(rel)
        return changed
