"""Nothing a port starts outlives its test (issue 20 item 4): its process group is
killed when the test ends normally, not only on timeout; descendants that left the
group (`setsid`) are reaped too; with tests side by side, each test's orphans go with
that test only; and a run never starts more instances than it has tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

from mpconform.runners.plugins.unix import UnixRunner, find_micropython
from mpconform.runners.run.harness import Suite, run_suite
from tests.runkit import Run, wait_gone
from tests.suitekit import fake_port, make_suite

# A port that leaves two processes behind each time it runs: one in its own session
# (its parent, a subshell, exits at once: an orphan) and one in the port's group. It
# records their pids, and at its end says which of them still run.
LITTERING_PORT = """\
(setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "$PIDS/$$.setsid")
sleep 301 </dev/null >/dev/null 2>&1 &
echo $! > "$PIDS/$$.group"
"{binary}" "$@"
status=$?
for f in "$PIDS/$$".*; do kill -0 "$(cat "$f")" 2>/dev/null && echo "alive ${{f##*.}}"; done
exit $status
"""


def _port(tmp_path: Path) -> tuple[str, Path]:
    pids = tmp_path / "pids"
    pids.mkdir()
    return fake_port(tmp_path, LITTERING_PORT.format(binary=find_micropython()), "littering-micropython"), pids


def _running(pids: Path) -> list[str]:
    """The recorded processes still running (a zombie has ended)."""
    left = []
    for f in pids.iterdir():
        pid = f.read_text().strip()
        if not pid.isdigit():  # killed before it had written the pid (a board stopped while it starts)
            continue
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            left.append(f.name)
    return left


def test_a_test_that_ends_normally_leaves_no_process(tmp_path, monkeypatch):
    binary, pids = _port(tmp_path)
    monkeypatch.setenv("PIDS", str(pids))
    script = tmp_path / "t.py"
    script.write_text("print('hello')\n")
    with UnixRunner({"micropython": binary}) as runner:
        ex = runner.execute(script, 10.0)
        assert ex.output.splitlines() == ["hello", "alive group", "alive setsid"]
        assert ex.exit_code == 0
        assert len(list(pids.iterdir())) == 2
        assert _running(pids) == []  # gone at the test's end, the runner still open
    assert not _subreaper()  # only while a test runs: other orphans of this process go to init


def _subreaper() -> bool:
    import ctypes

    value = ctypes.c_int(-1)
    assert ctypes.CDLL(None).prctl(37, ctypes.byref(value), 0, 0, 0) == 0  # PR_GET_CHILD_SUBREAPER
    return bool(value.value)


def test_side_by_side_each_test_keeps_its_own_processes_until_it_ends(tmp_path, monkeypatch):
    binary, pids = _port(tmp_path)
    monkeypatch.setenv("PIDS", str(pids))
    # the slow test ends long after the quick one: the quick one's end must not take the slow one's orphans
    tests = [{"id": "a.slow", "program": "import time\ntime.sleep(2)\nprint('slow')\n",
              "expect": ["slow", "alive group", "alive setsid"]}]
    tests += [{"id": f"a.quick{i}", "program": "print('quick')\n", "expect": ["quick", "alive group", "alive setsid"]}
              for i in range(4)]
    suite = Suite.load(make_suite(tmp_path / "suite", tests, {"micropython": binary}))
    with UnixRunner({"micropython": binary}) as runner:
        state = run_suite(suite, runner, suite.tests(), jobs=2)
        assert {k: (r.outcome, r.detail) for k, r in state.results.items()} == {t["id"]: ("pass", "") for t in tests}
        assert len(list(pids.iterdir())) == 10 and _running(pids) == []


def test_a_run_leaves_no_process_of_its_port(root, tmp_path):
    binary, pids = _port(tmp_path)
    run = Run(root, tmp_path, "unix", "--micropython", binary, "-k", "heap_unlock.*", "-k", "kbd_intr.*", "-j", "2",
              env={"PIDS": str(pids)})
    status, out = run.finish()
    assert status == 1, out  # every test printed the extra `alive` lines
    assert "alive setsid" in out
    assert wait_gone(run, timeout_s=0.5) == [] and _running(pids) == []


def test_parallelism_never_exceeds_the_tests(root, tmp_path):
    run = Run(root, tmp_path, "unix-pty", "-k", "heap_unlock.returns_depth", "-j", "100", "--json", tmp_path / "r.json")
    status, out = run.finish(timeout_s=120)
    assert status == 0, out
    targets = json.loads((tmp_path / "r.json").read_text())["provenance"]["targets"]
    assert len(targets) == 1, targets
    assert wait_gone(run) == []


def test_an_orphan_of_a_board_process_goes_with_it(root, tmp_path):
    """The pty relay is its board's subreaper: what the board process started is gone
    when the board process ends (each test ends it: the unix port's soft reset)."""
    binary, pids = _port(tmp_path)
    run = Run(root, tmp_path, "unix-pty", "--micropython", binary, "-k", "heap_unlock.*", env={"PIDS": str(pids)})
    status, out = run.finish(timeout_s=120)
    assert status == 0, out
    assert len(list(pids.iterdir())) >= 4
    assert wait_gone(run, timeout_s=0.5) == [] and _running(pids) == []


def test_each_test_runs_in_a_group_of_its_own_within_the_runs_session(tmp_path):
    # its own group, so the whole of it is killed at its end; the run's session, so no
    # scheduler group is made for every test (setsid would)
    binary = fake_port(tmp_path, "cut -d' ' -f1,5,6 /proc/$$/stat\n")
    script = tmp_path / "t.py"
    script.write_text("pass\n")
    with UnixRunner({"micropython": binary}) as runner:
        pid, group, session = map(int, runner.execute(script, 10.0).output.split())
    assert group == pid
    assert session == os.getsid(0)


def test_a_port_that_closes_its_output_and_goes_on_is_timed_out_and_gone(tmp_path):
    pids = tmp_path / "pid"
    binary = fake_port(tmp_path, f"echo started; exec >&- 2>&-; echo $$ > {pids}; exec sleep 300\n")
    script = tmp_path / "t.py"
    script.write_text("pass\n")
    with UnixRunner({"micropython": binary}) as runner:
        ex = runner.execute(script, 1.0)
    assert ex.timed_out and ex.output == "started\n"
    assert 0.9 < ex.duration_s < 10
    assert not Path(f"/proc/{pids.read_text().strip()}").exists()

