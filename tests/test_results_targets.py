"""Where a run writes its results (issue 20 item 3): only a regular file or an absent
path; two targets of one run naming one file is a usage error; a lock left by a run
that has gone, even when its pid now belongs to another process, is taken over; every
lock message names the lock file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time

import pytest

from mpconform.core.procid import start_time
from tests.runkit import Run


def _special(tmp_path, kind: str):
    path = tmp_path / "r.json"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        try:  # a null device of our own: only root may make one
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("making a character device needs root")
    return path


@pytest.mark.parametrize("kind", ["fifo", "chardev"])
def test_a_device_or_pipe_target_is_refused_and_left_alone(cli, root, tmp_path, kind):
    target = _special(tmp_path, kind)
    before = os.stat(target)
    status, out, err = cli("--root", root, "run", "unix", "-k", "heap_unlock.*", "--json", target)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and str(target) in err and "not a file" in err, err
    after = os.stat(target)
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no r.json.lock, no r.jsonl


def test_dev_null_is_refused_without_a_lock_beside_it(cli, root):
    status, out, err = cli("--root", root, "run", "unix", "-k", "heap_unlock.*", "--junit", "/dev/null")
    assert status == 2 and out == "" and "/dev/null: is a character device" in err
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode) and not os.path.lexists("/dev/null.lock")


@pytest.mark.parametrize(("json_name", "junit_name"), [("r.xml", "r.xml"), ("r.json", "r.jsonl"), ("r.json", "link")])
def test_two_targets_naming_one_file_is_a_usage_error(cli, root, tmp_path, json_name, junit_name):
    (tmp_path / "link").symlink_to(tmp_path / "r.json")
    status, out, err = cli("--root", root, "run", "unix", "-k", "heap_unlock.*", "--json", tmp_path / json_name,
                           "--junit", tmp_path / junit_name)
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "are one file" in err and "pid" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link"]


@pytest.fixture
def stranger():
    """A process that is no mpconform, running under a pid a stale lock may name."""
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("form", ["pid and another start", "pid only"])
def test_a_lock_naming_a_pid_reused_by_another_process_is_taken_over(cli, root, tmp_path, stranger, form):
    lock = tmp_path / "r.json.lock"
    start = start_time(stranger.pid)
    lock.write_text(f"{stranger.pid} {start - 1}\n" if form == "pid and another start" else f"{stranger.pid}\n")
    status, out, err = cli("--root", root, "run", "unix", "-k", "heap_unlock.*", "--json", tmp_path / "r.json")
    assert status == 0, out + err
    assert json.loads((tmp_path / "r.json").read_text())["results"]
    assert not lock.exists() and stranger.poll() is None  # taken over; the stranger untouched


def test_a_live_run_holding_the_lock_is_named_with_its_lock(root, tmp_path):
    prelude = tmp_path / "slow.py"
    prelude.write_text("import time\ntime.sleep(0.3)\n")
    first = Run(root, tmp_path, "unix", "--prelude", prelude, "-k", "heap_*", "--json", tmp_path / "r.json")
    lock = tmp_path / "r.json.lock"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text().strip()):
        time.sleep(0.02)
    second = subprocess.run([sys.executable, "-m", "mpconform.cli", "--root", str(root), "run", "unix", "-k", "heap_*",
                             "--json", str(tmp_path / "r.json")], capture_output=True, text=True)
    status1, out1 = first.finish()
    assert second.returncode == 2, second.stdout + second.stderr
    assert f"another mpconform (pid {first.proc.pid})" in second.stderr and f"lock {lock}" in second.stderr
    assert status1 == 0, out1
