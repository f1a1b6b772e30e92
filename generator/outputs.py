"""Write rendered files, or compare them with what is committed (`compile --check`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .atomicfile import write_all_or_none


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
        """Write changed files (all of them or, on a failure, none) and then delete stale
        ones; return what changed."""
        stale = self.stale(root)
        write_all_or_none({root / rel: self.files[rel] for rel, why in stale if why != "not generated (stale)"})
        for rel, why in stale:
            if why == "not generated (stale)":
                (root / rel).unlink()
        return [rel for rel, _ in stale]
