"""The QEMU ports' runner options, read from their shipped profiles (the machine,
binary and arguments are profile data, so tests take them from there)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def profile_options(port: str) -> dict:
    data = yaml.safe_load((ROOT / "ports" / port / "port.yaml").read_text())
    return dict(data["runner"]["options"])


MICROBIT = profile_options("qemu-microbit")
