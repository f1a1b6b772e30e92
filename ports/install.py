"""Install what the non-default ports (and the matrix test) need, when it is missing.

    python ports/install.py webassembly qemu chromium

Each component is checked first and installed only when absent: npm packages with
`npm ci` from the project's lock file, Debian packages with apt-get (as root).
Prints one line per component saying what it found or did; a component that
cannot be installed is reported and skipped (its port then says why it cannot
run), so the exit status is 0 unless the arguments are wrong."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEBASSEMBLY_DIR = ROOT / "runners" / "webassembly"
WEBASSEMBLY_MODULE = WEBASSEMBLY_DIR / "node_modules" / "@micropython" / "micropython-webassembly-pyscript" / "micropython.mjs"
MICROBIT_FIRMWARE = Path("/usr/share/firmware-microbit-micropython/firmware.hex")

# component -> Debian packages, and how to tell each is already there
DEBIAN = {
    "webassembly": {"nodejs": lambda: shutil.which("node"), "npm": lambda: shutil.which("npm")},
    "qemu": {
        "qemu-system-arm": lambda: shutil.which("qemu-system-arm"),
        "firmware-microbit-micropython": MICROBIT_FIRMWARE.is_file,
    },
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
    if WEBASSEMBLY_MODULE.is_file():
        say("webassembly", f"npm package present ({WEBASSEMBLY_MODULE.relative_to(ROOT)})")
        return True
    step = ["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(WEBASSEMBLY_DIR)]
    say("webassembly", "running " + " ".join(step))
    done = subprocess.run(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0 or not WEBASSEMBLY_MODULE.is_file():
        say("webassembly", f"npm ci failed (exit {done.returncode}): {done.stdout.strip()[-300:]}")
        return False
    return True


COMPONENTS = {
    "webassembly": ensure_webassembly,
    "qemu": lambda: ensure_debian("qemu"),
    "chromium": lambda: ensure_debian("chromium"),
}


def main(argv: list[str]) -> int:
    names = argv or list(COMPONENTS)
    unknown = [n for n in names if n not in COMPONENTS]
    if unknown:
        print(f"install: unknown component(s) {', '.join(unknown)} (known: {', '.join(COMPONENTS)})", file=sys.stderr)
        return 2
    for name in names:
        COMPONENTS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
