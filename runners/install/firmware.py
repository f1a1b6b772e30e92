"""Upstream's ports/qemu firmware for one board, built into the user cache.

`mpconform install firmware BOARD` builds `make -C ports/qemu BOARD=...` from an
upstream tree with BUILD= in the cache (build_home("firmware", name, tree)), so the
tree gets nothing but what upstream's own Makefiles write there. FROZEN_MANIFEST is
empty: a snapshot has no micropython-lib, and nothing the suite checks is frozen.

A board's build can carry macros on top of its config and make variables (a
profile's runner options `macros` and `make_args`: a feature the emulator here cannot
run, what the toolchain here needs); macros go in through upstream's MP_CONFIGFILE
hook, and such a build has a name of its own.

Which build a port runs: the one installed last for that name. Every install records
its folder in builds/firmware/<name>.installed, so with several trees' builds cached
the runner takes the firmware of the most recent `install firmware`."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.cachedir import cache_dir
from mpconform.runners.install.upstream import UpstreamError, build_home, log_tail, run_make, tree_digest

FIRMWARE = "firmware.elf"  # what QEMU runs (-kernel); the folder holds it only once it is whole


@dataclass(frozen=True)
class FirmwareBuild:
    """One build of a ports/qemu board: the board, and macros overriding its config."""

    board: str
    macros: dict = field(default_factory=dict)
    make_args: tuple[str, ...] = ()  # VAR=value given to make, e.g. what the toolchain here needs

    @property
    def name(self) -> str:
        if not self.macros and not self.make_args:
            return self.board
        text = "\n".join([*(f"{k}={v}" for k, v in sorted(self.macros.items())), *self.make_args])
        return f"{self.board}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"

    def install_command(self) -> str:
        return f"mpconform install firmware {self.board}"


def record_file(build: FirmwareBuild) -> Path:
    return cache_dir("builds", "firmware", f"{build.name}.installed")


def installed(build: FirmwareBuild) -> Path | None:
    """The firmware the last `install firmware` of this build left, if it is still there."""
    try:
        home = Path(record_file(build).read_text().strip())
    except OSError:
        return None
    firmware = home / FIRMWARE
    return firmware if firmware.is_file() else None


def _config_header(tree: Path, build: FirmwareBuild, home: Path) -> Path:
    """The port's config, then the build's macros (the port defines some unconditionally)."""
    lines = [f'#include "{tree / "ports" / "qemu" / "mpconfigport.h"}"']
    for name, value in sorted(build.macros.items()):
        lines += [f"#undef {name}", f"#define {name} ({value})"]
    header = home / "mpconfig-overrides.h"
    header.write_text("\n".join(lines) + "\n")
    return header


def build_firmware(tree: Path, build: FirmwareBuild, jobs: int | None = None) -> tuple[Path, bool]:
    """(the cached firmware, whether it was built now). Two processes installing the
    same build take turns; a build that stops half way leaves no firmware.elf."""
    if not (tree / "ports" / "qemu" / "boards" / build.board).is_dir():
        boards = sorted(p.name for p in (tree / "ports" / "qemu" / "boards").glob("*") if p.is_dir())
        raise UpstreamError(f"{tree}: no ports/qemu board {build.board} (boards: {', '.join(boards) or 'none'})")
    home = build_home("firmware", build.name, tree)
    firmware = home / FIRMWARE
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if firmware.is_file():
            return firmware, False
        log = home / "build.log"
        log.write_text("")
        args = ["make", "-C", str(tree / "ports" / "qemu"), f"-j{jobs or os.cpu_count() or 1}", f"BOARD={build.board}",
                f"BUILD={home / 'build'}", "FROZEN_MANIFEST=", *build.make_args]
        if build.macros:
            args.append(f"CFLAGS_EXTRA=-DMP_CONFIGFILE='\"{_config_header(tree, build, home)}\"'")
        if not run_make(args, log):
            raise UpstreamError(f"ports/qemu board {build.board} did not build (log: {log}):\n{log_tail(log)}")
        made = home / "build" / FIRMWARE
        if not made.is_file():
            raise UpstreamError(f"no {FIRMWARE} after the build of {build.board} (log: {log})")
        tmp = home / f".{FIRMWARE}.tmp"
        shutil.copy2(made, tmp)
        tmp.replace(firmware)  # appears whole or not at all: a cached one is a finished one
        return firmware, True


def install_firmware(tree: Path, build: FirmwareBuild, jobs: int | None = None) -> str:
    """Build (or find cached) and record it as the build's installed firmware; one line saying what was done."""
    started = time.monotonic()
    firmware, built = build_firmware(tree, build, jobs)
    record = record_file(build)
    tmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{firmware.parent}\n")
    tmp.replace(record)
    what = f"built in {time.monotonic() - started:.0f}s" if built else "already built"
    extra = "".join(f", {k}={v}" for k, v in sorted(build.macros.items()))
    extra += "".join(f", {a}" for a in build.make_args)
    return (f"install firmware {build.board}: {what} from {tree} (digest {tree_digest(tree)}{extra}): {firmware}")


def builds_for(root: Path, board: str) -> list[FirmwareBuild]:
    """The builds this project's profiles ask of a board (runner qemu, option board);
    the board as upstream configures it when no profile names it."""
    import yaml

    found = []
    for path in sorted((root / "ports").glob("*/port.yaml")):
        runner = (yaml.safe_load(path.read_text()) or {}).get("runner") or {}
        options = runner.get("options") or {}
        if runner.get("name") == "qemu" and options.get("board") == board:
            build = FirmwareBuild(board, dict(options.get("macros") or {}), tuple(options.get("make_args") or ()))
            if build not in found:
                found.append(build)
    return found or [FirmwareBuild(board)]


def install_boards(root: Path, boards: list[str], micropython_dir=None, archive=None, jobs: int | None = None) -> int:
    """`mpconform install firmware BOARD...`: one line per build; UpstreamError when one fails."""
    from mpconform.runners.install.upstream import resolve_tree

    if not boards:
        raise UpstreamError("install firmware needs a ports/qemu board name, e.g. `mpconform install firmware MPS2_AN385`")
    tree = resolve_tree(micropython_dir, archive)
    for board in boards:
        for build in builds_for(root, board):
            print(install_firmware(tree, build, jobs), flush=True)
    return 0
