"""The lab's own state (issue 20 item 5): `down` removes the coordinator's places with
it, so the next `up` on the same --state starts clean; `down` and `up` go by processes
proven theirs (pid and start time), never by a pid alone; a lab.json that is no lab
record is one line and exit 2; SIGTERM half-way through `up` stops what it started;
--boards is bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from mpconform.core.procid import start_time
from mpconform.runners.lab.farm import Lab
from tests.runkit import TAG

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("labgrid", reason="labgrid is not installed (pip install -e '.[lab]')")


def _mpconform(*args: str, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mpconform.cli", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def ser2net():
    from mpconform.runners.base import RunnerError
    from mpconform.runners.transport.ser2net import ensure_installed

    try:
        ensure_installed()
    except RunnerError as exc:
        pytest.skip(f"ser2net unavailable: {exc}")


@pytest.fixture
def stranger():
    """A process that is no part of any lab, under a pid a stale lab.json may name."""
    proc = subprocess.Popen(["sleep", "120"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _tagged(tag: str) -> list[str]:
    needle = f"{TAG}={tag}".encode()
    left = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and needle in (entry / "environ").read_bytes().split(b"\0"):
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                    left.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return left


def _wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_up_down_up_on_the_same_state(ser2net, tmp_path):
    state = tmp_path / "lab"
    up = _mpconform("lab", "up", "--boards", "unix-pty:1", "--state", state)
    assert up.returncode == 0, up.stderr
    places = state / "coordinator" / "places.yaml"
    # the coordinator saves its places every 15 s: what it saved is what broke the next `up`
    _wait_for(lambda: places.exists() and "unix-pty-1" in places.read_text(), 60, "the coordinator to save its places")
    down = _mpconform("lab", "down", "--state", state)
    assert down.returncode == 0, down.stderr
    assert not (state / "coordinator").exists() and not (state / "lab.json").exists()
    again = _mpconform("lab", "up", "--boards", "unix-pty:1", "--state", state)
    try:
        assert again.returncode == 0, again.stderr
        assert "mpconform: place unix-pty-1" in again.stderr
    finally:
        assert _mpconform("lab", "down", "--state", state).returncode == 0


def _stale_record(state: Path, pid: int, **fields) -> None:
    state.mkdir(exist_ok=True)
    process = {"name": "coordinator", "pid": pid, "argv": ["labgrid-coordinator", "-l", "127.0.0.1:9"], **fields}
    (state / "lab.json").write_text(json.dumps({"coordinator": "127.0.0.1:9", "own_coordinator": True,
                                                "processes": [process], "places": []}))


@pytest.mark.parametrize("proof", ["another start time", "argv only"])
def test_down_never_signals_a_pid_now_belonging_to_another_process(tmp_path, stranger, proof):
    state = tmp_path / "lab"
    _stale_record(state, stranger.pid, **({"start": start_time(stranger.pid) - 1} if proof == "another start time" else {}))
    down = _mpconform("lab", "down", "--state", state)
    assert down.returncode == 0, down.stderr
    assert "nothing (already gone)" in down.stdout
    assert stranger.poll() is None  # alive: it was never ours


def test_up_is_not_refused_for_a_pid_now_belonging_to_another_process(ser2net, tmp_path, stranger):
    state = tmp_path / "lab"
    _stale_record(state, stranger.pid, start=start_time(stranger.pid) - 1)
    up = _mpconform("lab", "up", "--boards", "unix-pty:1", "--state", state)
    try:
        assert up.returncode == 0, up.stderr
    finally:
        _mpconform("lab", "down", "--state", state)
    assert stranger.poll() is None


def _deep(n: int) -> str:
    return "[" * n + "]" * n


BAD_RECORDS = {
    "object": "{}",
    "array": "[]",
    "pid": '{"coordinator": null, "own_coordinator": true, "places": [], '
           '"processes": [{"name": "x", "pid": "abc", "argv": []}]}',
    "processes": '{"coordinator": null, "own_coordinator": true, "places": [], "processes": 5}',
    "deep": '{"coordinator": null, "own_coordinator": true, "places": [], "processes": ' + _deep(100_000) + "}",
    "binary": "\udcff",
}


@pytest.mark.parametrize("action", ["up", "down", "status"])
def test_a_lab_json_that_is_no_lab_record_is_one_line(tmp_path, action):
    state = tmp_path / "lab"
    state.mkdir()
    extra = ["--boards", "unix-pty:1"] if action == "up" else []
    for name, text in BAD_RECORDS.items():
        (state / "lab.json").write_bytes(text.encode("utf-8", "surrogateescape"))
        proc = _mpconform("lab", action, "--state", state, *extra)
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, (name, proc.stderr[-500:])
        assert proc.stderr.startswith(f"mpconform: {state / 'lab.json'}: not a lab record"), (name, proc.stderr)


def test_sigterm_half_way_through_up_stops_all_it_started(ser2net, tmp_path):
    state = tmp_path / "lab"
    tag = uuid.uuid4().hex
    proc = subprocess.Popen([sys.executable, "-m", "mpconform.cli", "lab", "up", "--boards", "unix-pty:40",
                             "--state", str(state)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, TAG: tag})

    def started(count: int) -> bool:
        try:
            return len(json.loads((state / "lab.json").read_text())["processes"]) >= count
        except (OSError, ValueError, KeyError):
            return False

    _wait_for(lambda: started(6), 120, "five boards to start")  # the coordinator and five relays
    devices = Lab(state).devices_dir
    assert any(devices.iterdir())  # the boards' device paths, published (the control for the last line)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1] == "mpconform: lab up stopped by SIGTERM; what it had started is stopped"
    assert _tagged(tag) == []
    assert not (state / "lab.json").exists()
    assert not devices.exists()


@pytest.mark.parametrize("boards", ["unix-pty:100000000000000000000", "unix-pty:40,qemu-mps2:40", "unix-pty:٣"])
def test_boards_are_bounded(tmp_path, boards):
    proc = _mpconform("lab", "up", "--boards", boards, "--state", tmp_path / "lab")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and proc.stderr.startswith("mpconform: --boards: ")
    assert not (tmp_path / "lab").exists()
