"""The unix runner and the harness against the real binary: every outcome, with its detail."""

from __future__ import annotations

import pytest

from mpconform.runners.base import RunnerError
from mpconform.runners.plugins.unix import UnixRunner
from mpconform.runners.run.harness import Suite, run_suite
from tests.suitekit import fake_port, make_suite


def _run(directory, tests, jobs=1, timeout_s=10.0, **options):
    suite = Suite.load(make_suite(directory, tests))
    with UnixRunner(options) as runner:
        state = run_suite(suite, runner, suite.tests(), jobs=jobs, timeout_s=timeout_s)
    return state.results


def test_pass_fail_skip_xfail_xpass(tmp_path):
    results = _run(
        tmp_path,
        [
            {"id": "a.pass", "program": "print(1 + 1)\n", "expect": ["2"]},
            {"id": "a.fail", "program": "print(3)\n", "expect": ["2"]},
            {"id": "a.skip", "absent": {"x": "because"}, "program": "", "expect": []},
            {"id": "a.xfail", "xfail": "known divergence", "program": "print(3)\n", "expect": ["2"]},
            {"id": "a.xpass", "xfail": "known divergence", "program": "print(2)\n", "expect": ["2"]},
            {"id": "a.regex", "match": "regex", "program": "print('stack: 123')\n", "expect": ["########", "stack: \\d+"]},
        ],
        jobs=2,
    )
    outcome = {k: r.outcome for k, r in results.items()}
    assert outcome == {"a.pass": "pass", "a.fail": "fail", "a.skip": "skip", "a.xfail": "xfail", "a.xpass": "xpass", "a.regex": "pass"}
    assert results["a.pass"].detail == ""
    assert "-2" in results["a.fail"].detail and "+3" in results["a.fail"].detail
    assert results["a.skip"].detail == "feature x absent: because"
    assert results["a.xfail"].detail.startswith("known divergence [fail:")
    assert "expected to fail (known divergence) but passed" == results["a.xpass"].detail


def test_uncaught_exception_is_a_failure_with_the_traceback(tmp_path):
    results = _run(tmp_path, [{"id": "a.raises", "program": "print('before')\nraise ValueError('boom')\n", "expect": ["before"]}])
    r = results["a.raises"]
    assert r.outcome == "fail"
    assert "ValueError: boom" in r.detail


def test_hung_test_times_out_and_keeps_its_last_output(tmp_path):
    results = _run(
        tmp_path,
        [
            {"id": "a.hang", "program": "print('started')\nwhile True:\n    pass\n", "expect": []},
            {"id": "a.after", "program": "print('fine')\n", "expect": ["fine"]},
        ],
        timeout_s=1.0,
    )
    assert results["a.hang"].outcome == "timeout"
    assert "no end after 1.0s" in results["a.hang"].detail and "started" in results["a.hang"].detail
    assert results["a.after"].outcome == "pass"


def test_a_port_killed_by_a_signal_is_a_crash(tmp_path):
    binary = fake_port(tmp_path, "echo partial output\nkill -SEGV $$\n")
    results = _run(tmp_path / "suite", [{"id": "a.crash", "program": "print(1)\n", "expect": ["1"]}], micropython=binary)
    r = results["a.crash"]
    assert r.outcome == "crash"
    assert "killed by SIGSEGV" in r.detail and "partial output" in r.detail


def test_missing_binary_is_a_clear_error(tmp_path):
    with pytest.raises(RunnerError, match=r"micropython binary not found: /no/such/micropython \(from --micropython\)"):
        UnixRunner({"micropython": "/no/such/micropython"})


def test_environment_variable_names_the_binary(tmp_path, monkeypatch):
    binary = fake_port(tmp_path, "echo from-env\n")
    monkeypatch.setenv("MICROPY_MICROPYTHON", binary)
    results = _run(tmp_path / "suite", [{"id": "a.env", "program": "print(1)\n", "expect": ["from-env"]}])
    assert results["a.env"].outcome == "pass"


def test_parallel_run_gives_the_same_outcomes(tmp_path):
    tests = [{"id": f"a.t{i}", "program": f"print({i} * 2)\n", "expect": [str(i * 2 if i % 3 else i)]} for i in range(12)]
    serial = _run(tmp_path / "s", tests, jobs=1)
    parallel = _run(tmp_path / "p", tests, jobs=4)
    assert {k: r.outcome for k, r in serial.items()} == {k: r.outcome for k, r in parallel.items()}
