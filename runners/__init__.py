"""Runners execute generated tests on a MicroPython port. They are plug-ins:
a package adds one by declaring an entry point in the `mpconform.runners` group
that names a `runners.base.Runner` subclass."""

from __future__ import annotations

from importlib import import_module

from .base import Execution, Runner, RunnerError

ENTRY_POINT_GROUP = "mpconform.runners"

# The project's own runners, imported directly: reading package metadata for
# entry points costs more than a short test run's whole overhead budget.
BUILTIN = {
    "unix": "mpconform.runners.unix:UnixRunner",
    "webassembly": "mpconform.runners.webassembly:WebAssemblyRunner",
    "qemu": "mpconform.runners.qemu:QemuRunner",
    "board": "mpconform.runners.board:BoardRunner",
}

__all__ = ["Execution", "Runner", "RunnerError", "available_runners", "load_runner"]


def _entry_points() -> dict:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_runners() -> dict[str, str]:
    found = {name: ep.value for name, ep in _entry_points().items()}
    found.update(BUILTIN)
    return found


def load_runner(name: str) -> type[Runner]:
    if name in BUILTIN:
        module, _, attr = BUILTIN[name].partition(":")
        return getattr(import_module(module), attr)
    plugins = _entry_points()
    if name not in plugins:
        raise RunnerError(f"no runner named '{name}' (installed: {', '.join(sorted(available_runners()))})")
    return plugins[name].load()
