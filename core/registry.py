"""Which runners exist: the project's own, and plug-ins that a package declares as an
entry point in the `mpconform.runners` group naming a `runners.base.Runner` subclass.
Runners are found by name and imported only when asked for, so the compiler can check a
profile's runner options without importing the runners package."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from mpconform.core.errors import RunnerError

if TYPE_CHECKING:  # importlib.metadata costs a run's start tens of milliseconds: only for the type
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "mpconform.runners"

# The project's own runners, imported directly: reading package metadata for
# entry points costs more than a short test run's whole overhead budget.
BUILTIN = {
    "unix": "mpconform.runners.plugins.unix:UnixRunner",
    "webassembly": "mpconform.runners.plugins.webassembly:WebAssemblyRunner",
    "qemu": "mpconform.runners.plugins.qemu:QemuRunner",
    "board": "mpconform.runners.plugins.board:BoardRunner",
}


def _entry_points() -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_runners() -> dict[str, str]:
    found = {name: ep.value for name, ep in _entry_points().items()}
    found.update(BUILTIN)
    return found


def load_runner(name: str) -> type:
    """The runner class (a mpconform.runners.base.Runner subclass) named `name`; typed
    loosely because core imports nothing above it."""
    if name in BUILTIN:
        module, _, attr = BUILTIN[name].partition(":")
        cls: type = getattr(import_module(module), attr)
        return cls
    plugins = _entry_points()
    if name not in plugins:
        raise RunnerError(f"no runner named '{name}' (installed: {', '.join(sorted(available_runners()))})")
    loaded: type = plugins[name].load()
    return loaded
