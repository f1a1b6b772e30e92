"""What a results file says was tested: the firmware, the runner and where it ran,
the host, this tool and the spec, and when. Kept with the results (JSON and JUnit)
so a run can be compared with another, and a profile can pin the firmware it means."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from mpconform.core.model import Manifest

IDENTITY_KEYS = ("name", "version", "_build", "_machine", "_mpy", "_thread", "platform", "sys_version")


def version_text(implementation: dict) -> str:
    """sys.implementation.version as people write it: 1.29.0-preview."""
    parts = [str(v) for v in implementation.get("version", []) if v != ""]
    if not parts:
        return "?"
    return ".".join(parts[:3]) + "".join(f"-{p}" for p in parts[3:])


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())  # as datetime's isoformat, without importing it


def _git_revision(root: Path) -> str | None:
    if not (Path(root) / ".git").exists():
        return None
    from mpconform.runners.run.gitrev import head_commit

    found = head_commit(Path(root))
    if found:
        return found
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


DIST = "mpconform"


def _tool_version() -> str:
    # The installed distribution's folder names its version: found so in a few directory
    # listings, where importlib.metadata costs a run tens of milliseconds to import.
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.startswith(f"{DIST}-") and name.endswith(".dist-info"):
                return name[len(DIST) + 1:-len(".dist-info")]
    from importlib import metadata  # another kind of install

    try:
        return metadata.version(DIST)
    except metadata.PackageNotFoundError:
        return "unknown"


def _host() -> dict:
    # What platform.platform() says on Linux, from os.uname(): the platform module asks
    # `uname -p` in a subprocess and costs a run more than a native port's tests take.
    u = os.uname()
    system = f"{u.sysname}-{u.release}-{u.machine}"
    try:
        libc = os.confstr("CS_GNU_LIBC_VERSION") or ""  # "glibc 2.36"
    except (ValueError, OSError):
        libc = ""
    if libc:
        system += "-with-" + libc.replace(" ", "")
    return {"name": u.nodename, "system": system, "python": sys.version.split()[0]}


def firmware(implementation: dict) -> dict:
    out = {k: implementation[k] for k in IDENTITY_KEYS if k in implementation}
    out["version_text"] = version_text(implementation)
    return out


def collect(root: Path, manifest: Manifest, runner, implementation: dict, targets: list[dict],
            started: str, ended: str) -> dict:
    return {
        "firmware": firmware(implementation),
        "runner": {"name": runner.name, "options": _json_safe(runner.options)},
        "targets": targets,
        "host": _host(),
        "mpconform": {"version": _tool_version(), "git_revision": _git_revision(root)},
        "spec_digest": manifest.spec_digest or None,
        "profile": manifest.profile or None,
        "started": started,
        "ended": ended,
    }


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def firmware_mismatch(expected: dict | None, implementation: dict) -> str:
    """Why the port is not the firmware a profile pins (`expect_firmware`), or ''."""
    if not expected:
        return ""
    wrong = []
    if "version" in expected and version_text(implementation) != str(expected["version"]):
        wrong.append(f"version {version_text(implementation)} (expected {expected['version']})")
    if "build" in expected and implementation.get("_build") != expected["build"]:
        wrong.append(f"build {implementation.get('_build')!r} (expected {expected['build']!r})")
    if "machine" in expected and expected["machine"] not in str(implementation.get("_machine", "")):
        wrong.append(f"machine {implementation.get('_machine')!r} (expected {expected['machine']!r})")
    return ", ".join(wrong)


