"""Where mpconform keeps what it makes or downloads for the user (installed runtimes,
built firmware, probe answers, what the compiler may skip next time)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """$MPCONFORM_CACHE, else $XDG_CACHE_HOME/mpconform, else ~/.cache/mpconform; then `parts`."""
    base = os.environ.get("MPCONFORM_CACHE")
    if not base:
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "mpconform")
    return Path(base).joinpath(*parts)
