"""The commit a checkout is at, read from its repository's files: a run's provenance
names it, and starting git for it costs a run more than reading two small files.
Anything this does not know for sure (another ref storage, a damaged file) is None,
and the caller asks git."""

from __future__ import annotations

import re
from pathlib import Path

_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object names


def head_commit(root: Path) -> str | None:
    dotgit = Path(root) / ".git"
    try:
        if dotgit.is_file():  # a worktree or submodule: "gitdir: <path>", relative to the checkout
            pointer = dotgit.read_text(encoding="utf-8").strip()
            if not pointer.startswith("gitdir: "):
                return None
            gitdir = (Path(root) / pointer[len("gitdir: "):]).resolve()
        else:
            gitdir = dotgit
        head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref: "):
            return head if _COMMIT.fullmatch(head) else None  # detached
        ref = head[len("ref: "):]
        common = gitdir  # a worktree keeps its branches in the main repository's folder
        if (gitdir / "commondir").is_file():
            common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
        for folder in (gitdir, common):
            loose = folder / ref
            if loose.is_file():
                sha = loose.read_text(encoding="utf-8").strip()
                return sha if _COMMIT.fullmatch(sha) else None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _COMMIT.fullmatch(sha):
                    return sha
    except (OSError, UnicodeDecodeError):
        return None
    return None
