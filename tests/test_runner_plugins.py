"""A third-party runner plugs in through the `mpconform.runners` entry-point group."""

from __future__ import annotations

import sys
import textwrap

from mpconform.runners import available_runners, load_runner
from mpconform.runners.run.harness import Suite, run_suite
from tests.suitekit import make_suite

PLUGIN = textwrap.dedent(
    '''
    from pathlib import Path
    from mpconform.runners import Execution, Runner

    class ExpRunner(Runner):
        """Answers each test with its own .exp: a stand-in port that always conforms."""
        name = "exp-echo"

        def execute(self, program, timeout_s, interact=(), repl=()):
            return Execution(output=Path(str(program) + ".exp").read_text(), exit_code=0, duration_s=0.0)
    '''
)


def test_an_installed_distribution_adds_a_runner(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "mpc_thirdparty").mkdir(parents=True)
    (site / "mpc_thirdparty" / "__init__.py").write_text(PLUGIN)
    dist = site / "mpc_thirdparty-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mpc-thirdparty\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[mpconform.runners]\nexp-echo = mpc_thirdparty:ExpRunner\n")
    monkeypatch.syspath_prepend(str(site))
    try:
        assert available_runners()["exp-echo"] == "mpc_thirdparty:ExpRunner"
        cls = load_runner("exp-echo")
        suite = Suite.load(make_suite(tmp_path / "suite", [{"id": "a.one", "program": "print(1)\n", "expect": ["1"]}]))
        state = run_suite(suite, cls({}), suite.tests())
        assert state.results["a.one"].outcome == "pass"
    finally:
        sys.modules.pop("mpc_thirdparty", None)
