"""A port's exit status counts (issue 20 item 7): a test that ends normally must exit 0,
however right its output; a test whose expected output ends in a traceback may end by
that uncaught exception, with status 1 as upstream's ports give it."""

from __future__ import annotations

import json

from mpconform.runners.plugins.unix import UnixRunner, find_micropython
from mpconform.runners.run.harness import Suite, run_suite
from tests.runkit import Run
from tests.suitekit import fake_port, make_suite

TRACEBACK = ["Traceback \\(most recent call last\\):", '  File ".*", line 2, in <module>', "ValueError: boom"]


def _port_exiting(tmp_path, status: int, only: str = "") -> str:
    """The real port, then exit `status` (for scripts whose name holds `only`)."""
    return fake_port(tmp_path, f'"{find_micropython()}" "$@"\ncode=$?\n'
                     f'case "$*" in *{only}*) exit {status};; esac\nexit $code\n', f"exits-{status}")


def _results(tmp_path, binary: str, tests: list[dict]) -> dict:
    suite = Suite.load(make_suite(tmp_path / "suite", tests, {"micropython": binary}))
    with UnixRunner({"micropython": binary}) as runner:
        return {k: (r.outcome, r.detail) for k, r in run_suite(suite, runner, suite.tests()).results.items()}


def test_right_output_then_status_255_is_a_failure_naming_it(root, tmp_path):
    run = Run(root, tmp_path, "unix", "--micropython", _port_exiting(tmp_path, 255, "heap_unlock"),
              "-k", "heap_unlock.*", "-k", "heap_lock.*", "--json", tmp_path / "r.json")
    status, out = run.finish()
    assert status == 1, out
    results = {r["id"]: r for r in json.loads((tmp_path / "r.json").read_text())["results"]}
    unlock = [r for k, r in results.items() if k.startswith("heap_unlock.")]
    assert unlock and all(r["outcome"] == "fail" for r in unlock)
    assert all(r["detail"] == "the port exited with status 255 (expected 0: the test ends normally)" for r in unlock)
    others = [r for k, r in results.items() if k.startswith("heap_lock.")]
    # all pass, but what types at a REPL prompt, which the unix runner never reaches
    assert others and all(r["outcome"] == "pass" or "friendly REPL" in r["detail"] for r in others)


def test_an_uncaught_exception_the_test_expects_exits_1_and_passes(tmp_path):
    tests = [{"id": "a.raises", "match": "regex", "program": "print('x')\nraise ValueError('boom')\n",
              "expect": ["x", *TRACEBACK]},
             {"id": "a.prints", "match": "regex", "expect": ["x", *TRACEBACK],
              "program": "import sys\ntry:\n    raise ValueError('boom')\nexcept ValueError as e:\n"
                         "    print('x')\n    sys.print_exception(e)\n"}]
    tests[1]["expect"][2] = '  File ".*", line 3, in <module>'
    assert _results(tmp_path, find_micropython(), tests) == {"a.raises": ("pass", ""), "a.prints": ("pass", "")}


def test_an_expected_exception_with_another_status_fails(tmp_path):
    tests = [{"id": "a.raises", "match": "regex", "program": "print('x')\nraise ValueError('boom')\n",
              "expect": ["x", *TRACEBACK]}]
    got = _results(tmp_path, _port_exiting(tmp_path, 3), tests)
    assert got == {"a.raises": ("fail", "the port exited with status 3 (expected 0, or 1 for its uncaught exception)")}


def test_a_wrong_output_and_status_say_both(tmp_path):
    got = _results(tmp_path, _port_exiting(tmp_path, 255), [{"id": "a.b", "program": "print(1)\n", "expect": ["2"]}])
    outcome, detail = got["a.b"]
    assert outcome == "fail" and "-2\n+1" in detail and detail.endswith("exited with status 255 (expected 0: the test ends normally)")
