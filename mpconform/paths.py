"""Where the project's data lives (spec/, ports/, suites/).

The tool works on a project checkout. The root is, in order: --root,
$MPCONFORM_ROOT, the nearest directory above the current one holding
spec/micropython.yaml, or the checkout this package was installed from.
"""

from __future__ import annotations

import os
from pathlib import Path

MARKER = Path("spec") / "micropython.yaml"


class RootNotFound(Exception):
    pass


def find_root(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        root = Path(explicit).resolve()
        if not (root / MARKER).is_file():
            raise RootNotFound(f"{root}: not an mpconform checkout (no {MARKER})")
        return root
    env = os.environ.get("MPCONFORM_ROOT")
    if env:
        return find_root(env)
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / MARKER).is_file():
            return candidate
    source_checkout = Path(__file__).resolve().parent.parent
    if (source_checkout / MARKER).is_file():
        return source_checkout
    raise RootNotFound(f"no {MARKER} in {here} or above; pass --root or set MPCONFORM_ROOT")
