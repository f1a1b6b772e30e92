"""An upstream MicroPython tree for the tests that build from one.

$MICROPY_DIR when set; else the shared HEAD snapshot beside the checkout (as CI has
it: ../shared/upstream/micropython-<commit>.tar.gz), unpacked once into the user
cache, never into the checkout; else the test skips, saying so (a user's clone has
neither)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mpconform.runners.install.upstream import UpstreamError, resolve_tree

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "upstream"
NO_TREE = ("needs an upstream MicroPython tree: set MICROPY_DIR to a checkout "
           f"(no snapshot archive in {SHARED} either)")


def head_archive(folder: Path = SHARED) -> Path | None:
    """The snapshot of upstream's development head: the archive not named after a release."""
    found = sorted(p for p in folder.glob("micropython-*.tar.gz") if not re.match(r"micropython-v\d", p.name))
    return found[0] if found else None


def release_archive(tag: str, folder: Path = SHARED) -> Path | None:
    path = folder / f"micropython-{tag}.tar.gz"
    return path if path.is_file() else None


def upstream_tree() -> Path:
    """The tree, or pytest.skip with the reason."""
    try:
        if os.environ.get("MICROPY_DIR"):
            return resolve_tree()
        archive = head_archive()
        if archive is None:
            pytest.skip(NO_TREE)
        return resolve_tree(archive=archive)
    except UpstreamError as exc:
        pytest.fail(str(exc))  # a tree was given or found, and it is broken: not a reason to skip
