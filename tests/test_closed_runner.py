"""A run that stops closes its runner while tests may still be on their way in worker
threads. A closed runner must start nothing again (no port process, no board taken
again, no temp folder) and a pool must not hand the interrupted test to another
instance: that is what made a stopped run outlive its SIGTERM by minutes under load."""

from __future__ import annotations

import re
import tempfile
import threading
import time
from pathlib import Path

import pytest

from mpconform.runners.base import CLOSED, RunnerError
from mpconform.runners.plugins.board import BoardRunner
from mpconform.runners.plugins.unix import UnixRunner
from mpconform.runners.plugins.webassembly import WebAssemblyRunner
from mpconform.runners.run.pool import RunnerPool

PTY = {"target": {"kind": "unix-pty"}, "hard_reset": {"kind": "target"}, "answer_s": 0.5}


def _script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.py"
    path.write_text(text)
    return path


def _prelude_folders() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("mpconform-prelude-*")}


def test_a_closed_unix_runner_starts_no_process_and_no_folder(tmp_path):
    prelude = tmp_path / "prelude.py"
    prelude.write_text("x = 1\n")
    script = _script(tmp_path, "print('ran')\n")
    before = _prelude_folders()
    runner = UnixRunner({"prelude": str(prelude)})
    with runner:
        assert runner.execute(script, 10).output == "ran\n"  # control: it runs while open
    with pytest.raises(RunnerError, match=re.escape(CLOSED)):
        runner.execute(script, 10)
    assert _prelude_folders() == before
    with runner:  # opened again, it runs again
        assert runner.execute(script, 10).output == "ran\n"


def test_a_closed_webassembly_runner_starts_no_host(tmp_path):
    reason = WebAssemblyRunner.unavailable_reason({})
    if reason:
        pytest.skip(reason)
    script = _script(tmp_path, "print('ran')\n")
    runner = WebAssemblyRunner({})
    with runner:
        assert runner.execute(script, 20).output.strip() == "ran"
    assert runner.host_pids() == []
    with pytest.raises(RunnerError, match=re.escape(CLOSED)):
        runner.execute(script, 20)
    assert runner.host_pids() == []


def test_a_closed_board_runner_does_not_take_the_board_again(tmp_path):
    script = _script(tmp_path, "print('ran')\n")
    runner = BoardRunner(PTY)
    with runner:
        assert runner.execute(script, 10).output == "ran\n"
    with pytest.raises(RunnerError, match=re.escape(CLOSED)):
        runner.execute(script, 10)
    assert runner.target is None and runner.transport is None


def test_a_pool_closed_mid_test_sends_it_to_no_other_instance(tmp_path):
    # Each instance runs a test that says (in a file) it is running and then waits; the
    # pool is closed once both said so. The tests end at once, on no other instance.
    said = tmp_path / "running"
    script = _script(tmp_path, f"import time\nf = open({str(said)!r}, 'a')\nf.write('x')\nf.close()\n"
                               "time.sleep(30)\n")
    pool = RunnerPool([BoardRunner(PTY), BoardRunner(PTY)])
    pool.open()
    outcomes: list[object] = []

    def one() -> None:
        try:
            outcomes.append(pool.execute(script, 60))
        except RunnerError as exc:
            outcomes.append(exc)

    workers = [threading.Thread(target=one) for _ in range(2)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 60
    while not (said.exists() and said.read_text() == "xx") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert said.read_text() == "xx"
    stopped = time.monotonic()
    pool.close()
    for w in workers:
        w.join(timeout=30)
    assert not any(w.is_alive() for w in workers)
    assert time.monotonic() - stopped < 20  # not the test's 60 s, nor a reopened board's recovery
    assert len(outcomes) == 2
    assert all(isinstance(o, RunnerError) or o.error for o in outcomes), outcomes
    assert all(i.target is None and i.transport is None for i in pool.instances)  # none taken again
    assert not any("dropped" in t for t in pool.targets())  # an interruption is no instance's fault
