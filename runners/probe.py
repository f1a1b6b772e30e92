"""Ask a port what it is: sys.implementation and sys.platform, as JSON-safe data."""

from __future__ import annotations

import ast
from pathlib import Path

from .base import Runner

# Runs on the port; must work on old and tiny MicroPythons (no f-strings, getattr guarded).
PROBE = """\
import sys
_i = sys.implementation
for _k in ('name', 'version', '_machine', '_build', '_mpy', '_thread'):
    if hasattr(_i, _k):
        print('mpconform-probe', _k, repr(getattr(_i, _k)))
print('mpconform-probe', 'platform', repr(sys.platform))
print('mpconform-probe', 'sys_version', repr(sys.version))
"""


def parse_probe(output: str) -> dict:
    info = {}
    for line in output.splitlines():
        parts = line.strip().split(" ", 2)
        if len(parts) == 3 and parts[0] == "mpconform-probe":
            try:
                value = ast.literal_eval(parts[2])
            except (ValueError, SyntaxError):
                value = parts[2]
            info[parts[1]] = list(value) if isinstance(value, tuple) else value
    return info


def probe(runner: Runner, workdir: Path, timeout_s: float = 10.0) -> dict:
    script = workdir / "mpconform_probe.py"
    script.write_text(PROBE)
    ex = runner.execute(script, timeout_s)
    info = parse_probe(ex.output)
    if not info:
        why = ex.error or ex.crashed or ("timed out" if ex.timed_out else f"exit status {ex.exit_code}")
        info = {"probe_error": f"{why}: {ex.output[-500:]!r}"}
    return info
