"""A suite's tests on the unix port with the faithful port's prelude before each, plus
whatever a wrong port changes after it (tests/wrong_ports/catalogue.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mpconform.core.model import TestEntry
from mpconform.core.results import Result
from mpconform.runners.plugins.unix import UnixRunner
from mpconform.runners.run.harness import Suite, run_suite

FAITHFUL = (Path(__file__).parent / "faithful_port.py").read_text()


def run_with_prelude(suite: Suite, tmp_path: Path, prelude_code: str = "", *, binary: str | None = None,
                     select: Callable[[TestEntry], bool] | None = None, timeout_s: float = 10) -> dict[str, Result]:
    """Results by behaviour id. `binary`: a wrong port built as its own interpreter,
    which runs without the prelude."""
    prelude = tmp_path / "prelude.py"
    prelude.write_text(FAITHFUL + "\n" + prelude_code)
    options = {"micropython": binary} if binary else {"prelude": str(prelude)}
    with UnixRunner(options) as runner:
        return dict(run_suite(suite, runner, suite.tests(select), jobs=2, timeout_s=timeout_s).results)
