"""`pytest --mp-port unix`: one item per behaviour, with -k and JUnit working."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET


def _pytest(root, *args):
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)


def test_collects_one_item_per_behaviour(root):
    proc = _pytest(root, "--mp-port", "unix", "--collect-only")
    manifest = json.loads((root / "suites" / "unix" / "manifest.json").read_text())
    ids = [line.rsplit("::", 1)[-1] for line in proc.stdout.splitlines() if "::" in line]
    assert sorted(ids) == sorted(t["id"] for t in manifest["tests"])


def test_runs_selected_behaviours_with_junit(root, tmp_path):
    junit = tmp_path / "j.xml"
    proc = _pytest(root, "--mp-port", "unix", "-k", "RingIO or heap_locked", f"--junitxml={junit}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cases = ET.parse(junit).getroot().iter("testcase")
    names = {c.get("name") for c in cases}
    assert names and all("RingIO" in n or "heap_locked" in n for n in names)
    assert "skipped" in proc.stdout  # heap_locked is absent on unix: skipped with the profile's reason


def test_a_broken_port_fails_the_items(root, tmp_path):
    prelude = tmp_path / "p.py"
    prelude.write_text("import sys\nclass _M:\n    pass\nsys.modules['micropython'] = _M()\n")
    proc = _pytest(root, "--mp-port", "unix", "--mp-prelude", str(prelude), "-k", "heap_unlock")
    assert proc.returncode == 1
    assert "fail: heap_unlock." in proc.stdout


def test_a_selection_of_nothing_is_not_a_pass(root):
    proc = _pytest(root, "--mp-port", "unix", "-k", "RingIO_typo")
    assert proc.returncode == 5, proc.stdout + proc.stderr  # pytest's "no tests ran": CI sees it
    assert "deselected" in proc.stdout
