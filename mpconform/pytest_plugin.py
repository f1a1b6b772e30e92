"""pytest plugin: `pytest --mp-port unix` collects one item per behaviour of a
generated suite, so -k, --junitxml and the rest of pytest work on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mpconform.core.options import add_flags, overrides
from mpconform.paths import find_root

#: the runner options pytest takes, as --mp-NAME
PYTEST_OPTIONS = ("micropython", "prelude", "device", "firmware")
PREFIX = "mp-"


def pytest_addoption(parser):
    group = parser.getgroup("mpconform", "MicroPython conformance suite")
    group.addoption("--mp-port", metavar="PORT", help="collect the generated conformance suite of PORT (suites/PORT)")
    add_flags(group.addoption, PYTEST_OPTIONS, prefix=PREFIX)
    group.addoption("--mp-timeout", type=float, default=None, help="seconds a test may take")


def pytest_configure(config):
    config.addinivalue_line("markers", "mp_api(name): the micropython API a conformance behaviour belongs to")
    port = config.getoption("--mp-port")
    if not port:
        return
    root = find_root()
    manifest = root / "suites" / port / "manifest.json"
    if not manifest.is_file():
        raise pytest.UsageError(f"--mp-port {port}: no {manifest}; run `mpconform compile`")
    from mpconform.core.model import ManifestError, read_manifest

    try:
        config._mp_loaded = read_manifest(manifest)  # the one reader: another format is one line
    except ManifestError as exc:
        raise pytest.UsageError(f"--mp-port {port}: {exc}") from None
    config._mp_manifest = manifest
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        # No paths given: collect the suite instead of the project's own tests.
        config.args[:] = [str(manifest)]


def pytest_collect_file(file_path: Path, parent):
    manifest = getattr(parent.config, "_mp_manifest", None)
    if manifest is not None and file_path == manifest:
        return ManifestFile.from_parent(parent, path=file_path)
    return None


class ManifestFile(pytest.File):
    def collect(self):
        import shutil
        import tempfile

        from mpconform.runners.run.harness import Suite

        # the tests run from a copy outside the checkout (their current folder is the copy's)
        tmp = tempfile.mkdtemp(prefix="mpconform-pytest-")
        self.config.add_cleanup(lambda: shutil.rmtree(tmp, ignore_errors=True))
        suite = Suite(self.path.parent, self.config._mp_loaded).snapshot(Path(tmp))
        for test in suite.tests():
            yield BehaviourItem.from_parent(self, name=test.id, suite=suite, test=test)


class BehaviourItem(pytest.Item):
    # No fixtures; said explicitly because other plugins (labgrid's) read it off every item.
    fixturenames: tuple = ()

    def __init__(self, *, suite, test, **kwargs):
        super().__init__(**kwargs)
        self.suite = suite
        self.test = test
        self.add_marker(pytest.mark.mp_api(test.api))
        self.user_properties.append(("doc", f"{test.doc.section}: {test.doc.quote}"))

    def _runner(self):
        """One runner per session and suite, closed when the session ends. Opening it runs
        the probe as `mpconform run` does, and the suite goes by the same features and
        limits in force (the profile's, and measured limits the profile leaves open)."""
        config = self.config
        cache = config.__dict__.setdefault("_mp_runners", {})
        key = str(self.suite.directory)
        if key not in cache:
            import tempfile

            from mpconform.runners.run.probe_cache import cached_probe
            from mpconform.runners.run.session import decide_features, make_runner

            runner = make_runner(self.suite, overrides(config.option, PYTEST_OPTIONS, prefix=PREFIX))
            config.add_cleanup(runner.close)
            runner.open()
            with tempfile.TemporaryDirectory(prefix="mpconform-") as tmp:
                report = cached_probe(runner, Path(tmp), self.suite.feature_probes(), self._timeout())
            decision = decide_features(self.suite, report.features, detect=False)
            self.suite.features_in_force, self.suite.limits_in_force = decision.states, decision.limits
            cache[key] = runner
        return cache[key]

    def _timeout(self) -> float:
        return self.suite.timeout_s(self.config.getoption("--mp-timeout"))

    def runtest(self):
        from mpconform.runners.run.harness import run_one

        runner = self._runner()
        test = self.suite.plan(self.test, runner)  # the one decision `mpconform run` makes
        if test.status == "skip":
            pytest.skip(test.reason)
        result = run_one(self.suite, test, runner, self._timeout())
        self.user_properties.append(("outcome", result.outcome))
        if result.outcome == "skip":
            pytest.skip(result.detail)
        if result.outcome == "xfail":
            pytest.xfail(result.detail)
        if result.outcome == "observed":  # an edge the docs leave open: recorded with the test, never a failure
            self.user_properties.append(("observed", result.detail))
            return
        if result.outcome != "pass":
            raise BehaviourFailure(result)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, BehaviourFailure):
            r = excinfo.value.result
            return f"{r.outcome}: {self.test.id} ({self.test.source})\n{r.detail}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.suite.port}::{self.test.id}"


class BehaviourFailure(Exception):
    def __init__(self, result):
        super().__init__(result.outcome)
        self.result = result
