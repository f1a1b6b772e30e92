"""Start-up near the floor: what `mpconform run` imports before its first test, and the
shortcuts taken on the way there (they must give what the slow way gives)."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from mpconform.runners.run.provenance import _tool_version

# Modules a run never needs before its first test; each costs milliseconds to import.
HEAVY = ("importlib.metadata", "email", "xml.etree", "ctypes", "difflib", "jsonschema", "jinja2", "yaml", "docutils",
         "serial", "labgrid", "zipfile")

RUN_PATH = """
import json, sys
import mpconform.cli
from mpconform.core.registry import load_runner
from mpconform.runners.run import session
load_runner("unix")
print(json.dumps(sorted(sys.modules)))
"""


def _imported(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_the_run_path_imports_nothing_heavy():
    loaded = _imported(RUN_PATH)
    assert "mpconform.runners.run.session" in loaded  # the check looks at the right process
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or any(m.startswith(h + ".") or m == h for h in HEAVY)]


def test_the_tool_version_is_the_installed_one():
    assert _tool_version() == metadata.version("mpconform")
