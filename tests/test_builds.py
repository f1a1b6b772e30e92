"""tools/builds.py (`nox -s builds`) on upstream trees as CI has them: a snapshot
without git history still builds its configurations and says why it skips the
releases; a build that fails is a failure (exit 1), never "successful"."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mpconform.runners.install.upstream import build_home
from tests.upstreamkit import head_archive

ROOT = Path(__file__).resolve().parent.parent
HEADER = "| build | pass | observed | fail | skip | xfail | failing |\n|---|---|---|---|---|---|---|\n"


def _builds(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "tools" / "builds.py"), "--jobs", "2", *args],
                          capture_output=True, text=True, timeout=1800)


def test_a_snapshot_builds_its_configurations_and_skips_releases_saying_why():
    archive = head_archive()
    if archive is None:
        pytest.skip("needs the shared snapshot of upstream (../shared/upstream/micropython-<commit>.tar.gz)")
    done = _builds("--tree-archive", str(archive), "--only", "standard", "v1.28.0")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(HEADER)
    standard, release = done.stdout[len(HEADER):].splitlines()
    assert standard.startswith("| standard | 1")  # a hundred-odd passes, measured by a real run
    assert release.startswith("| v1.28.0 | | | | | | skipped: needs git history to take v1.28.0 from (the tree ")
    assert release.endswith("has none); or give its snapshot: --archive v1.28.0=PATH |")
    assert "b'" not in done.stdout + done.stderr


def test_a_build_that_fails_is_reported_failed(upstream, tmp_path):
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text("make_args: [MICROPY_PY_BTREE=0, MICROPY_PY_SSL=0, MICROPY_SSL_MBEDTLS=0, MICROPY_PY_FFI=0, "
                      "FROZEN_MANIFEST=]\nconfigurations:\n"
                      "  - {name: does-not-compile, variant: standard, macros: {MICROPY_PY_MICROPYTHON: '1 +'}}\n")
    try:
        done = _builds("--micropython-dir", str(upstream), "--matrix", str(matrix))
    finally:
        shutil.rmtree(build_home("unix", "does-not-compile", upstream), ignore_errors=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == HEADER + "| does-not-compile | | | | | | build failed: unix port does-not-compile did not build (log: " \
        f"{build_home('unix', 'does-not-compile', upstream) / 'build.log'}) |\n"
    assert done.stderr.endswith("builds: 1 of 1 build(s) failed\n")


def test_no_tree_is_one_line_exit_2(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "builds.py")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "builds: needs an upstream MicroPython tree: --micropython-dir DIR, $MICROPY_DIR or --tree-archive PATH\n"
