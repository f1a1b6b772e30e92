"""The board-farm path with real labgrid processes: `mpconform lab up` starts a
labgrid-coordinator, two pty boards and a labgrid-exporter (whose ser2net exports
them); a run over the places tagged profile=unix-pty gives the unix port's outcomes,
a board killed mid-run costs no result, bad input is one line and exit 2, and
`lab down` leaves no process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from mpconform.runners.lab.farm import group_alive
from tests.outcomekit import differences_explained, outcomes
from tests.ptykit import assert_gone_once_reused
from tests.runkit import background_run, wait_for_results

ROOT = Path(__file__).resolve().parents[1]

labgrid = pytest.importorskip("labgrid", reason="labgrid is not installed (pip install -e '.[lab]')")


def _mpconform(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mpconform.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    from mpconform.runners.base import RunnerError
    from mpconform.runners.transport.ser2net import ensure_installed

    try:
        ensure_installed()  # the exporter's ser2net
    except RunnerError as exc:
        pytest.skip(f"ser2net unavailable: {exc}")
    state = tmp_path_factory.mktemp("lab")
    up = _mpconform("lab", "up", "--boards", "unix-pty:2", "--state", str(state), timeout=120)
    assert up.returncode == 0, up.stderr
    line = up.stdout.strip().splitlines()[-1]
    assert line.startswith("LG_COORDINATOR=127.0.0.1:")
    record = json.loads((state / "lab.json").read_text())
    yield {"state": state, "coordinator": line.split("=", 1)[1], "record": record}
    _mpconform("lab", "down", "--state", str(state))


@pytest.fixture(scope="module")
def unix_outcomes(tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("unix") / "unix.json"
    _mpconform("run", "unix", "-j", "2", "--json", str(out))
    return outcomes(out)


def test_status_lists_the_places_free(lab):
    status = _mpconform("lab", "status", "--state", str(lab["state"]))
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert [line.split()[:3] for line in lines] == [["unix-pty-1", "profile=unix-pty", "free"],
                                                     ["unix-pty-2", "profile=unix-pty", "free"]]


def test_run_over_tagged_places_equals_unix(lab, unix_outcomes, tmp_path):
    out = tmp_path / "r.json"
    run = _mpconform("run", "unix-pty", "--places", "profile=unix-pty", "--json", str(out),
                     env={"LG_COORDINATOR": lab["coordinator"]})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    got = outcomes(out)
    assert set(got) == set(unix_outcomes)
    assert {i for i in got if got[i] != unix_outcomes[i]} <= differences_explained("unix-pty")
    targets = json.loads(out.read_text())["provenance"]["targets"]
    assert sorted(t["place"] for t in targets) == ["unix-pty-1", "unix-pty-2"]
    assert all(t["kind"] == "labgrid-place" and t["address"].startswith("rfc2217://") and t["tests"] for t in targets)
    # released at the end: both are free again
    status = _mpconform("lab", "status", "--coordinator", lab["coordinator"])
    assert "held" not in status.stdout


def test_bad_input_is_one_line_and_exit_2(lab, tmp_path, project_copy):
    env = {"LG_COORDINATOR": lab["coordinator"]}
    from mpconform.runners.lab.place import LabClient

    client = LabClient.get(lab["coordinator"])
    try:  # a place with nothing matched: no serial port
        client.rpc("AddPlace", client.pb.AddPlaceRequest(name="bare"))
        cases = {
            "cannot reach the labgrid coordinator": ("run", "unix-pty", "--place", "x", "--coordinator", "127.0.0.1:9"),
            "no labgrid place 'nope'": ("run", "unix-pty", "--place", "nope"),
            "has no serial port": ("run", "unix-pty", "--place", "bare"),
            "is tagged profile=none": ("run", "unix-pty", "--places", "profile=none"),
            "--place does not apply to the unix runner": ("run", "unix", "--place", "unix-pty-1"),
        }
        for expected, args in cases.items():
            proc = _mpconform(*args, env=env)
            assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
            assert proc.stderr.count("\n") == 1 and expected in proc.stderr, (args, proc.stderr)
    finally:
        client.rpc("DeletePlace", client.pb.DeletePlaceRequest(name="bare"))
        client.release_user()
    # a place held by someone else: wait, then give up
    held = subprocess.run([str(Path(sys.executable).parent / "labgrid-client"), "-x", lab["coordinator"],
                           "-p", "unix-pty-1", "acquire"], capture_output=True, text=True)
    assert held.returncode == 0, held.stderr
    try:
        start = time.monotonic()
        proc = _mpconform("run", "unix-pty", "--place", "unix-pty-1", "--wait", "1", env=env)
        assert proc.returncode == 2 and "is held by" in proc.stderr and "gave up after 1s" in proc.stderr
        assert time.monotonic() - start >= 1
        assert "held by" in _mpconform("lab", "status", "--coordinator", lab["coordinator"]).stdout  # not released by us
    finally:
        subprocess.run([str(Path(sys.executable).parent / "labgrid-client"), "-x", lab["coordinator"],
                        "-p", "unix-pty-1", "release"], capture_output=True)
    # a profile option of the wrong type: compile names file:line, a run stops with one line
    profile = project_copy / "ports" / "unix-pty" / "port.yaml"
    profile.write_text(profile.read_text().replace("answer_s: 0.5", "answer_s: soon"))
    proc = _mpconform("--root", str(project_copy), "compile")
    assert proc.returncode == 2 and "ports/unix-pty/port.yaml:" in proc.stderr and "runner.options.answer_s" in proc.stderr
    manifest = project_copy / "suites" / "unix-pty" / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"answer_s": 0.5', '"answer_s": "soon"'))
    proc = _mpconform("--root", str(project_copy), "run", "unix-pty")
    assert proc.returncode == 2 and proc.stderr.strip() == \
        "mpconform: board runner option answer_s: expected a positive number of seconds, got 'soon'"


def test_sigterm_mid_run_releases_the_places_and_keeps_results(lab, tmp_path):
    out = tmp_path / "r.json"
    with background_run("unix-pty", "--places", "profile=unix-pty", out=out,
                        env={"LG_COORDINATOR": lab["coordinator"]}) as proc:
        wait_for_results(out, 10, timeout_s=60)
        assert "held by" in _mpconform("lab", "status", "--coordinator", lab["coordinator"]).stdout
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, output
    doc = json.loads(out.read_text())
    assert doc["interrupted"] is True and len(doc["results"]) >= 9
    assert "held by" not in _mpconform("lab", "status", "--coordinator", lab["coordinator"]).stdout


def _board_pid(relay: int) -> int | None:
    children = Path(f"/proc/{relay}/task/{relay}/children").read_text().split()
    return int(children[0]) if children else None


def test_a_places_power_switch_is_its_hard_reset(lab):
    from mpconform.runners.plugins.board import BoardRunner

    relay = next(p["pid"] for p in lab["record"]["processes"] if p["name"] == "unix-pty-2")
    runner = BoardRunner({"place": "unix-pty-2", "coordinator": lab["coordinator"]})
    with runner:
        assert runner.has_hard_reset  # a place with a NetworkPowerPort: used without being asked
        before = _board_pid(relay)
        runner.hard_reset()  # labgrid-client power cycle, through the exporter's simplerest switch
        deadline = time.monotonic() + 10
        while _board_pid(relay) in (before, None) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _board_pid(relay) not in (before, None)
        assert "held by" in _mpconform("lab", "status", "--coordinator", lab["coordinator"]).stdout
    assert "held by" not in _mpconform("lab", "status", "--coordinator", lab["coordinator"]).stdout


def test_killing_one_board_mid_run_loses_no_result(lab, unix_outcomes, tmp_path):
    out = tmp_path / "r.json"
    with background_run("unix-pty", "--places", "profile=unix-pty", out=out,
                        env={"LG_COORDINATOR": lab["coordinator"]}) as proc:
        wait_for_results(out, 20)
        board = next(p for p in lab["record"]["processes"] if p["name"] == "unix-pty-1")
        exported = yaml.safe_load((lab["state"] / "exporter.yaml").read_text())["unix-pty-1"]["RawSerialPort"]["port"]
        device = os.path.realpath(exported)  # /dev/pts/N, while the relay lives
        os.killpg(board["pid"], signal.SIGKILL)  # the board is gone for good, mid-run
        output, _ = proc.communicate(timeout=300)
    # What ser2net reopens must not reach the terminal the kernel gives N to next (an unrelated program's)
    assert exported.startswith("/dev/")
    assert_gone_once_reused(exported, device)
    assert proc.returncode == 0, output
    got = outcomes(out)
    assert set(got) == set(unix_outcomes) and {i for i in got if got[i] != unix_outcomes[i]} <= differences_explained("unix-pty")
    targets = json.loads(out.read_text())["provenance"]["targets"]
    dropped = [t for t in targets if "dropped" in t]
    assert [t["place"] for t in dropped] == ["unix-pty-1"], targets


def test_down_leaves_no_process(lab):
    down = _mpconform("lab", "down", "--state", str(lab["state"]))
    assert down.returncode == 0, down.stderr
    assert "coordinator" in down.stdout and "exporter" in down.stdout
    assert not any(group_alive(p["pid"]) for p in lab["record"]["processes"])
    assert not (lab["state"] / "lab.json").exists()
    exported = yaml.safe_load((lab["state"] / "exporter.yaml").read_text())["unix-pty-2"]["RawSerialPort"]["port"]
    assert not os.path.lexists(os.path.dirname(exported))  # the lab's device folder went with it
