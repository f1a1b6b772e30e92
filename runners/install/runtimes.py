"""What the non-default ports need on this machine, found or installed in one place.

`mpconform install webassembly qemu ser2net chromium` checks each component and
installs it only when absent: the WebAssembly npm package with `npm ci` from the
lock file shipped in this package, into the user's cache folder (never inside the
installed package); Debian packages with apt-get (as root). One line per component
says what was found or done; a component that cannot be installed is reported and
skipped (its port then says why it cannot run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from mpconform.core.cachedir import cache_dir

NPM_PACKAGE = "@micropython/micropython-webassembly-pyscript"
NPM_LOCK_DIR = Path(__file__).resolve().parent.parent / "plugins" / "webassembly"  # package.json and its lock file
MICROBIT_FIRMWARE = Path("/usr/share/firmware-microbit-micropython/firmware.hex")


def webassembly_dir() -> Path:
    return cache_dir("webassembly")


def webassembly_module() -> Path:
    return webassembly_dir() / "node_modules" / NPM_PACKAGE / "micropython.mjs"


def ser2net_binary() -> str | None:
    return shutil.which("ser2net") or shutil.which("ser2net", path="/usr/sbin:/sbin")


# component -> Debian packages, and how to tell each is already there
DEBIAN = {
    "webassembly": {"nodejs": lambda: shutil.which("node"), "npm": lambda: shutil.which("npm")},
    "qemu": {
        "qemu-system-arm": lambda: shutil.which("qemu-system-arm"),
        "firmware-microbit-micropython": MICROBIT_FIRMWARE.is_file,
    },
    # What building from an upstream tree takes: make for every build, the cross compilers
    # and C libraries of ports/qemu's ARM and RISC-V boards, and the RISC-V emulator.
    "toolchains": {
        "make": lambda: shutil.which("make"),
        "gcc-arm-none-eabi": lambda: shutil.which("arm-none-eabi-gcc"),
        "libnewlib-arm-none-eabi": lambda: Path("/usr/lib/arm-none-eabi/newlib").is_dir(),
        "gcc-riscv64-unknown-elf": lambda: shutil.which("riscv64-unknown-elf-gcc"),
        "picolibc-riscv64-unknown-elf": lambda: Path("/usr/lib/picolibc/riscv64-unknown-elf").is_dir(),
        "qemu-system-misc": lambda: shutil.which("qemu-system-riscv32"),
    },
    "ser2net": {"ser2net": ser2net_binary},
    "chromium": {"chromium": lambda: shutil.which("chromium")},
}

_apt_updated = False


def say(component: str, message: str) -> None:
    print(f"install {component}: {message}", flush=True)


def apt_install(component: str, packages: list[str]) -> bool:
    """Install Debian packages; False (having said why) when this machine cannot."""
    global _apt_updated
    if not shutil.which("apt-get"):
        say(component, f"cannot install {' '.join(packages)}: no apt-get here; install them yourself")
        return False
    if os.geteuid() != 0:
        say(component, f"cannot install {' '.join(packages)}: not root; run `sudo apt-get install {' '.join(packages)}`")
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    steps = ([] if _apt_updated else [["apt-get", "update", "-q"]]) + [["apt-get", "install", "-y", "-q", *packages]]
    for step in steps:
        say(component, "running " + " ".join(step))
        done = subprocess.run(step, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            tail = done.stdout.strip().splitlines()[-3:]
            say(component, f"`{' '.join(step)}` failed (exit {done.returncode}): {' | '.join(tail)}")
            return False
        _apt_updated = _apt_updated or step[1] == "update"
    return True


def ensure_debian(component: str) -> bool:
    missing = [pkg for pkg, present in DEBIAN[component].items() if not present()]
    if not missing:
        say(component, f"present ({', '.join(DEBIAN[component])})")
        return True
    return apt_install(component, missing)


def ensure_webassembly() -> bool:
    if not ensure_debian("webassembly"):
        return False
    target = webassembly_dir()
    if webassembly_module().is_file():
        say("webassembly", f"npm package present ({target})")
        return True
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(NPM_LOCK_DIR / name, target / name)
    step = ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(target)]
    say("webassembly", "running " + " ".join(step))
    done = subprocess.run(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0 or not webassembly_module().is_file():
        say("webassembly", f"npm ci failed (exit {done.returncode}): {done.stdout.strip()[-300:]}")
        return False
    return True


COMPONENTS = {
    "webassembly": ensure_webassembly,
    "qemu": lambda: ensure_debian("qemu"),
    "toolchains": lambda: ensure_debian("toolchains"),
    "ser2net": lambda: ensure_debian("ser2net"),
    "chromium": lambda: ensure_debian("chromium"),
}
