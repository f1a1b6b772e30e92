"""Whole runs through the board runner: the unix port on a pty gives the unix
profile's outcomes (directly, and exported by ser2net over rfc2217:// and
socket://), a board lost for good keeps what was measured, --resume finishes it."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from mpconform.cli import main
from mpconform.core.results import load_document
from mpconform.runners.base import RunnerError
from mpconform.runners.plugins.unix import find_micropython
from mpconform.runners.run.session import RunOptions, run_port
from mpconform.runners.transport.pty_target import PtyTarget
from tests.outcomekit import differences_explained, outcomes, typed_at_a_prompt

ROOT = Path(__file__).resolve().parent.parent
SUBSET = ["heap_lock*", "kbd_intr*", "RingIO.read*"]


def _run(port: str, json_path: Path, select=None, **overrides) -> int:
    opts = RunOptions(json_path=json_path, select=select, runner_overrides=overrides or None,
                      jobs=2 if port == "unix" else 1)
    return run_port(ROOT, port, opts)


@pytest.fixture(scope="module")
def unix_outcomes(tmp_path_factory) -> dict[str, str]:
    path = tmp_path_factory.mktemp("unix") / "unix.json"
    _run("unix", path)
    return outcomes(path)


def test_full_suite_equals_unix_behaviour_by_behaviour(tmp_path, unix_outcomes, capsys):
    status = _run("unix-pty", tmp_path / "pty.json")
    pty = outcomes(tmp_path / "pty.json")
    assert set(pty) == set(unix_outcomes)
    differ = {i for i in pty if pty[i] != unix_outcomes[i]}
    assert differ <= differences_explained("unix-pty"), {i: (unix_outcomes[i], pty[i]) for i in differ}
    assert status == 0, capsys.readouterr().out[-2000:]
    doc = load_document(tmp_path / "pty.json")
    assert doc.implementation["name"] == "micropython" and doc.implementation["platform"] == "linux"


@pytest.fixture
def exported(tmp_path):
    """The pty board, exported on loopback by ser2net (installed when missing)."""
    from mpconform.runners.transport.ser2net import Ser2net

    link = tmp_path / "board"
    server = Ser2net(link)
    try:
        server.start()
    except RunnerError as exc:
        pytest.skip(f"ser2net unavailable: {exc}")
    yield link, server
    server.stop()


@pytest.mark.parametrize("scheme", ["rfc2217", "socket"])
def test_over_ser2net(tmp_path, exported, unix_outcomes, scheme):
    link, server = exported
    url = server.rfc2217_url if scheme == "rfc2217" else server.socket_url
    status = _run("unix-pty", tmp_path / "r.json", SUBSET, device=url, target_link=str(link))
    got = outcomes(tmp_path / "r.json")
    assert len(got) > 20
    typed = typed_at_a_prompt("unix-pty")
    assert all(got[i] == "pass" for i in typed if i in got)
    assert {i: o for i, o in got.items() if i not in typed} == {i: unix_outcomes[i] for i in got if i not in typed}
    assert status == 0


def _kill_relay_after(jsonl: Path, results: int) -> threading.Thread:
    """Kill the board's relay (the bench vanishes) once `results` lines are logged."""

    def watch():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if jsonl.exists() and len(jsonl.read_text().splitlines()) > results:
                break
            time.sleep(0.01)
        for pid in os.listdir("/proc"):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"mpconform.runners.transport.pty_target" in cmd and str(jsonl.parent / "board").encode() in cmd:
                os.kill(int(pid), signal.SIGKILL)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_board_lost_for_good_keeps_results_and_resume_finishes(tmp_path, unix_outcomes, capsys):
    out = tmp_path / "r.json"
    select = ["RingIO*"]
    killer = _kill_relay_after(out.with_suffix(".jsonl"), 12)
    status = _run("unix-pty", out, select, reconnect_s=1, target_link=str(tmp_path / "board"))
    killer.join()
    assert status == 2
    assert "run stopped: board at" in capsys.readouterr().out
    first = load_document(out)
    assert first.interrupted is True
    measured = {r.id: r.outcome for r in first.results}
    logged = [json.loads(line) for line in out.with_suffix(".jsonl").read_text().splitlines()[1:]]
    assert {r["id"] for r in logged} == set(measured)  # the log holds everything measured
    assert 10 <= len(measured)
    good = {i: o for i, o in measured.items() if o != "error"}
    assert good == {i: unix_outcomes[i] for i in good}

    # Resume from the log into the same file: only the rest runs, all are merged.
    status = main(["--root", str(ROOT), "run", "unix-pty", "-k", "RingIO*", "--json", str(out),
                   "--resume", str(out.with_suffix(".jsonl"))])
    assert status == 0
    text = capsys.readouterr().out
    assert f"{len(good)} results kept" in text
    final = load_document(out)
    assert not final.interrupted
    assert outcomes(out) == {i: o for i, o in unix_outcomes.items() if i.startswith("RingIO")}
    kept = {r.id: r for r in first.results if r.outcome != "error"}
    assert all(r == kept[r.id] for r in final.results if r.id in kept)  # merged, not re-measured


def test_resume_rejects_another_ports_results(tmp_path, capsys):
    log = tmp_path / "old.jsonl"
    log.write_text(json.dumps({"header": {"port": "unix"}}) + "\n")
    assert main(["--root", str(ROOT), "run", "unix-pty", "--resume", str(log)]) == 2
    assert "not results of port 'unix-pty'" in capsys.readouterr().err


def test_cli_device_override_and_devices_listing(tmp_path, capsys):
    target = PtyTarget([find_micropython()], tmp_path / "other-board")
    target.start()
    try:
        assert main(["--root", str(ROOT), "devices", "--device", str(target.link)]) == 0
        line = capsys.readouterr().out.strip()
        assert line.startswith(str(target.link)) and "micropython 1." in line and "platform=linux" in line
        status = main(["--root", str(ROOT), "run", "unix-pty", "-k", "heap_lock.*", "--device", str(target.link),
                       "--json", str(tmp_path / "r.json")])
        assert status == 0 and len(outcomes(tmp_path / "r.json")) >= 3
    finally:
        target.stop()
    assert main(["--root", str(ROOT), "devices", "--device", str(tmp_path / "nothing")]) == 1
    assert "no MicroPython raw REPL" in capsys.readouterr().out
