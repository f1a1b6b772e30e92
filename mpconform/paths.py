"""Where the project's data lives (spec/, ports/, suites/).

The root is, in order: --root, $MPCONFORM_ROOT, the nearest directory above the
current one holding spec/micropython.yaml (a checkout), the checkout this package
was installed from (an editable install), or the package itself (a wheel carries
spec/, ports/ and suites/ inside it).
"""

from __future__ import annotations

import os
from pathlib import Path

from mpconform.core.errors import MpconformError, UsageError

MARKER = Path("spec") / "micropython.yaml"


class RootNotFound(MpconformError):
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
    package = Path(__file__).resolve().parent
    for candidate in (package.parent, package):  # editable checkout, then installed wheel
        if (candidate / MARKER).is_file():
            return candidate
    raise RootNotFound(f"no {MARKER} in {here} or above; pass --root or set MPCONFORM_ROOT")



def installed_reason(root: Path) -> str:
    """Why `root` is an installed package rather than a checkout ("" for a checkout): a
    wheel puts spec/, ports/ and suites/ inside the package, beside its code."""
    root = Path(root).resolve()
    if (root / "__init__.py").is_file():
        return "it is the installed mpconform package"
    if any(part in ("site-packages", "dist-packages") for part in root.parts):
        return "it is inside an installed Python environment"
    return ""


def require_checkout(root: Path, what: str) -> None:
    """Refuse to write generated files into an installed package (pip owns those files)."""
    why = installed_reason(root)
    if why:
        raise UsageError(f"{what} would write into {root}, but {why}: run it in a checkout of mpconform "
                         "(git clone ...; pip install -e .) or pass --root CHECKOUT")
