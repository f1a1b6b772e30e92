"""The command that runs one of mpconform's own modules in a new Python process.

`python -m` puts the current folder first on sys.path. Inside a checkout that folder
holds `mpconform/`, which is only part of the package (the rest lives in core/,
runners/, ... and is mapped in by pyproject.toml), so with a wheel installed the child
would import the checkout's part and fail (an editable install's import hook hid this).
The child is started without the current folder on its path."""

from __future__ import annotations

import sys


def module_command(module: str, *args: str) -> list[str]:
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", module, *args]  # -P: no current folder on sys.path
    start = f"import runpy, sys; del sys.path[0]; runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    return [sys.executable, "-c", start, *args]
