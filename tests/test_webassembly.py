"""The webassembly runner against the real npm package (installed by `mpconform install webassembly`)."""

from __future__ import annotations

import json
import os
import time

import pytest

from mpconform.runners import load_runner
from mpconform.runners.plugins.webassembly import WebAssemblyRunner
from mpconform.runners.run.harness import Suite, run_suite
from mpconform.runners.transport.nodehost import OUTPUT_LIMIT as NODE_OUTPUT_LIMIT
from tests.suitekit import make_suite

WHY_NOT = WebAssemblyRunner.unavailable_reason({})
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"webassembly runner unavailable: {WHY_NOT}")


@pytest.fixture
def runner():
    with WebAssemblyRunner({}) as r:
        yield r


def _script(tmp_path, text, name="t.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_output_in_order_and_final_unterminated_line_flushed(runner, tmp_path):
    ex = runner.execute(_script(tmp_path, "import sys\nprint('first')\nsys.stdout.write('no newline')\n"), 10)
    assert (ex.output, ex.exit_code, ex.timed_out, ex.crashed) == ("first\nno newline", 0, False, "")


def test_uncaught_exception_exits_1_after_earlier_output(runner, tmp_path):
    ex = runner.execute(_script(tmp_path, "print('before')\nraise ValueError('boom')\n"), 10)
    assert ex.exit_code == 1
    assert ex.output.startswith("before\nTraceback (most recent call last):\n")
    assert ex.output.rstrip().endswith("ValueError: boom")


@pytest.mark.parametrize(
    ("program", "status", "printed"),
    [("import sys\nsys.exit(3)\n", 3, ""), ("raise SystemExit\n", 0, ""), ("raise SystemExit('bye')\n", 1, "bye\n")],
)
def test_system_exit_sets_the_status(runner, tmp_path, program, status, printed):
    ex = runner.execute(_script(tmp_path, program), 10)
    assert (ex.exit_code, ex.output) == (status, printed)


def test_timeout_kills_the_process(runner, tmp_path):
    start = time.monotonic()
    ex = runner.execute(_script(tmp_path, "print('spinning')\nwhile True:\n    pass\n"), 1.5)
    assert ex.timed_out and ex.exit_code is None
    assert ex.output == "spinning\n"
    assert time.monotonic() - start < 5
    assert not runner.host_pids()  # the hung host was killed, nothing left behind
    again = runner.execute(_script(tmp_path, "print('next')\n", "next.py"), 10)
    assert (again.output, again.exit_code, again.timed_out) == ("next\n", 0, False)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_one_host_runs_many_tests_each_in_a_fresh_interpreter(runner, tmp_path):
    first = runner.execute(_script(tmp_path, "import sys, micropython\nleft = 1\nsys.path.append('x')\n"
                                   "import js\njs.globalThis.leftover = 2\nmicropython.heap_lock()\n"), 10)
    assert first.exit_code == 0, first.output
    pids = runner.host_pids()
    check = ("import sys, js\nprint('left' in globals(), 'x' in sys.path, hasattr(js.globalThis, 'leftover'))\n"
             "print(list(range(3)))\n")
    second = runner.execute(_script(tmp_path, check, "check.py"), 10)
    assert (second.output, second.exit_code) == ("False False False\n[0, 1, 2]\n", 0)
    assert runner.host_pids() == pids  # the same warm host ran both


@pytest.mark.parametrize(
    ("program", "why"),
    [
        ("import js\nprint('bye')\njs.process.exit(5)\n", "the node host exited with status 5"),
        ("import js\ndef late():\n    raise ValueError('in a timer')\njs.setTimeout(late, 1)\nprint('bye')\n",
         "the WebAssembly runtime aborted"),
    ],
)
def test_a_crash_costs_the_host_not_the_next_test(runner, tmp_path, program, why):
    runner.execute(_script(tmp_path, "print(1)\n", "warm.py"), 10)
    old = runner.host_pids()
    ex = runner.execute(_script(tmp_path, program), 10)
    assert ex.crashed == why and ex.output.startswith("bye\n"), ex
    assert all(_gone(pid) for pid in old)
    nxt = runner.execute(_script(tmp_path, "print('fine')\n", "next.py"), 10)
    assert (nxt.output, nxt.exit_code, nxt.crashed) == ("fine\n", 0, "")


def test_timers_keep_a_test_running_as_they_would_keep_node_alive(runner, tmp_path):
    program = "import js\ndef later():\n    print('timer')\njs.setTimeout(later, 30)\nprint('main')\n"
    ex = runner.execute(_script(tmp_path, program), 10)
    assert (ex.output, ex.exit_code) == ("main\ntimer\n", 0)
    ex = runner.execute(_script(tmp_path, "import js\njs.setInterval(lambda: None, 10)\n", "iv.py"), 1.5)
    assert ex.timed_out


def test_bytes_not_utf8_and_runaway_output_are_kept_bounded(runner, tmp_path):
    ex = runner.execute(_script(tmp_path, "import sys\nsys.stdout.buffer.write(b'\\xff ok\\n')\n"), 10)
    assert (ex.output, ex.exit_code) == ("\\xff ok\n", 0)
    ex = runner.execute(_script(tmp_path, "while True:\n    print('y' * 1000)\n", "flood.py"), 2)
    assert ex.timed_out and len(ex.output) < 2 * NODE_OUTPUT_LIMIT and "bytes of output not kept" in ex.output


def test_no_node_process_is_left_after_close(tmp_path):
    with WebAssemblyRunner({}) as r:
        r.execute(_script(tmp_path, "print(1)\n"), 10)
        pids = r.host_pids()
        assert pids
    assert all(_gone(pid) for pid in pids)


def test_harness_outcomes_in_parallel(tmp_path):
    suite = Suite.load(
        make_suite(
            tmp_path / "suite",
            [
                {"id": "a.pass", "program": "import micropython\nprint(micropython.const(7))\n", "expect": ["7"]},
                {"id": "a.fail", "program": "print(3)\n", "expect": ["2"]},
                {"id": "a.hang", "program": "while True:\n    pass\n", "expect": []},
                {"id": "a.xfail", "xfail": "known", "program": "raise OSError\n", "expect": ["x"]},
            ],
        )
    )
    with WebAssemblyRunner({}) as r:
        state = run_suite(suite, r, suite.tests(), jobs=2, timeout_s=1.5)
    assert {k: v.outcome for k, v in state.results.items()} == {
        "a.pass": "pass", "a.fail": "fail", "a.hang": "timeout", "a.xfail": "xfail"}


def test_cli_runs_the_generated_suite_with_its_profile(cli, tmp_path):
    out_json = tmp_path / "r.json"
    status, out, _ = cli("run", "webassembly", "-k", "schedule.sleep_ms_zero_runs_pending", "-k", "const.*",
                         "-k", "heap_locked.*", "--json", out_json)
    assert status == 0, out
    doc = json.loads(out_json.read_text())
    assert doc["implementation"]["platform"] == "webassembly"
    outcomes = {r["id"]: r["outcome"] for r in doc["results"]}
    assert outcomes["schedule.sleep_ms_zero_runs_pending"] == "xfail"
    assert {o for i, o in outcomes.items() if i.startswith("heap_locked.")} == {"skip"}
    assert {o for i, o in outcomes.items() if i.startswith("const.")} == {"pass"}


def test_unavailable_reasons_name_the_fix(tmp_path):
    assert load_runner("webassembly") is WebAssemblyRunner
    why = WebAssemblyRunner.unavailable_reason({"module": str(tmp_path / "missing.mjs")})
    assert "micropython-webassembly-pyscript" in why and "mpconform install webassembly" in why
    why = WebAssemblyRunner.unavailable_reason({"node": str(tmp_path / "no-node")})
    assert why.startswith("node not found")
    assert os.path.basename(WebAssemblyRunner({}).node) == "node"
