"""Run a generated suite through a runner: decide each test's outcome from its
manifest entry, its .exp and what the port did; stream results as they come."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from mpconform.core.errors import MpconformError
from mpconform.core.manifest import (
    Capabilities,
    close_over_implies,
    explain_requirements,
    plan,
    profile_features,
    profile_limits,
)
from mpconform.core.model import Manifest, ManifestError, TestEntry, read_manifest
from mpconform.core.results import Result
from mpconform.runners.base import Execution, Runner, RunnerError, Step
from mpconform.runners.run.batch import batchable, batches, run_batch
from mpconform.runners.run.matching import describe_mismatch, exit_status_problem, lines_of, matches, observation
from mpconform.runners.run.probe import LIMIT, FeatureProbe
from mpconform.runners.run.workers import Workers
from mpconform.runners.transport.bounded import clip_text

DEFAULT_TIMEOUT_S = 10.0
TAIL_CHARS = 600
DETAIL_CHARS = 16 * 1024  # a result's detail: a diff of huge lines is cut to this
# Outcomes a damaged program or a garbled exchange can cause: judged again on a checked
# run. An error (the raw REPL's handshake lost under load, say) gets its second chance too.
UNSURE = ("fail", "timeout", "crash", "error")


class SuiteChanged(MpconformError):
    """The generated suite changed while a run was reading it."""


@dataclass
class Suite:
    """A generated suite directory, its manifest, and what a run goes by: the features and
    limits in force (the profile's until the run decides from the probe) and the docs release."""

    directory: Path
    manifest: Manifest
    features_in_force: dict = field(default_factory=dict)  # name -> FeatureState
    limits_in_force: dict = field(default_factory=dict)  # name -> LimitState
    docs_release: str | None = None

    def __post_init__(self):
        if not self.features_in_force:
            declared = self.manifest.features
            self.features_in_force = close_over_implies(profile_features(declared), declared)
        if not self.limits_in_force:
            self.limits_in_force = profile_limits(self.manifest.limits)

    @classmethod
    def load(cls, directory: Path) -> Suite:
        path = Path(directory) / "manifest.json"
        if not path.is_file():
            raise ManifestError(f"{path}: no generated suite here; run `mpconform compile`")
        return cls(Path(directory), read_manifest(path))

    def snapshot(self, dest: Path, only: Iterable[TestEntry] | None = None) -> Suite:
        """A copy of the suite's programs and .exp files (of the tests `only`, when given)
        in `dest`, so the run goes on what it started with while `compile` rewrites
        suites/, and so each test runs in a folder outside the checkout (its current
        folder is the copy's). The files are hard links where they can be (compile
        replaces a file, never rewrites it, so a link keeps what the run started with)
        and copies where they cannot. The manifest is not copied: the run has it loaded."""
        own = dest / "suite" / self.directory.name
        own.mkdir(parents=True)
        folders: set[str] = set()
        for test in self.manifest.tests if only is None else only:
            for name in (test.file, test.file + ".exp"):
                # os.path, not Path.resolve(): a run takes hundreds of files before its first test
                source = os.path.normpath(os.path.join(self.directory, name))
                copy = os.path.normpath(os.path.join(own, name))  # ../tests/x.py: beside the copy, as in suites/
                folder = os.path.dirname(copy)
                if folder not in folders:
                    os.makedirs(folder, exist_ok=True)
                    folders.add(folder)
                try:
                    _link_or_copy(source, copy)
                except FileNotFoundError:
                    raise SuiteChanged(f"{source}: missing from the generated suite (is `mpconform compile` "
                                       "running?); nothing was run") from None
        return Suite(own, self.manifest, dict(self.features_in_force), dict(self.limits_in_force), self.docs_release)

    @property
    def port(self) -> str:
        return self.manifest.port

    def timeout_s(self, override: float | None = None) -> float:
        """Seconds a test may take: the override, else the profile's runner option, else the default."""
        return override or self.manifest.runner.options.get("timeout_s") or DEFAULT_TIMEOUT_S

    def tests(self, select: Callable[[TestEntry], bool] | None = None) -> list[TestEntry]:
        return [t for t in self.manifest.tests if select is None or select(t)]

    def feature_probes(self) -> list[FeatureProbe]:
        features = [
            FeatureProbe(name, f.probe, f.probe_output, f.implies, f.probe_output_tells,
                         interact=tuple((s.after, s.send) for s in f.probe_interact))
            for name, f in self.manifest.features.items()
            if f.probe
        ]
        limits = [FeatureProbe(name, lim.probe, implies=lim.requires, kind=LIMIT, up_to=lim.measures_up_to)
                  for name, lim in self.manifest.limits.items()]
        return features + limits

    def plan(self, test: TestEntry, runner: Runner) -> TestEntry:
        """The test with its status for this run: core.manifest.plan from what is in force
        and what the runner can do (the compiled status is not looked at)."""
        status = plan(test, self.features_in_force, self.limits_in_force, Capabilities.of(runner), self.docs_release,
                      self.manifest.expectations)
        return test.with_status(status.kind, status.reason, status.issue)

    def decided(self, tests: list[TestEntry], runner: Runner) -> list[TestEntry]:
        """The tests with their status decided for this run."""
        return [self.plan(t, runner) for t in tests]

    def expected(self, test: TestEntry) -> list[str]:
        with open(os.path.join(self.directory, test.file + ".exp"), encoding="utf-8") as fh:  # once per test: no Path
            return lines_of(fh.read())


def _link_or_copy(source: str, copy: str) -> None:
    try:
        os.link(source, copy)
    except FileNotFoundError:
        raise
    except OSError:  # another file system, or links not allowed there
        with open(source, "rb") as src, open(copy, "wb") as out:
            out.write(src.read())


def _tail(output: str) -> str:
    text = output[-TAIL_CHARS:]
    return ("..." if len(output) > TAIL_CHARS else "") + text


def classify(
    test: TestEntry, expected: list[str], ex: Execution, features: dict | None = None,
    manifest_features: dict | None = None,
    limits: dict | None = None,
) -> tuple[str, str]:
    """(outcome, detail) for one execution; `detail` is empty only for a pass."""
    if ex.error:
        outcome, detail = "error", f"{ex.error}; last output: {_tail(ex.output)!r}"
    elif ex.timed_out:
        outcome, detail = "timeout", f"no end after {ex.duration_s:.1f}s; last output: {_tail(ex.output)!r}"
    elif ex.crashed:
        outcome, detail = "crash", f"{ex.crashed}; last output: {_tail(ex.output)!r}"
    elif matches(expected, lines_of(ex.output), test.match):
        outcome, detail = ("observed", observation(ex.output)) if test.match == "observe" else ("pass", "")
    else:
        outcome, detail = "fail", describe_mismatch(expected, lines_of(ex.output), test.match)
        why = explain_requirements(test, features or {}, manifest_features or {}, limits)
        if why:
            detail += "\n" + why
    bad_exit = exit_status_problem(expected, ex.exit_code) if outcome in ("pass", "observed", "fail") else ""
    if bad_exit:  # the output may be right, and the port still did not end as the test does
        outcome, detail = "fail", f"{detail}\n{bad_exit}" if detail else bad_exit
    if test.status == "xfail":
        why = test.reason + (f" ({test.issue})" if test.issue else "")
        if outcome == "pass":
            return "xpass", f"expected to fail ({why}) but passed"
        if outcome != "error":  # a lost port says nothing about the behaviour
            return "xfail", f"{why} [{outcome}: {detail}]"
    return outcome, detail


def run_one(suite: Suite, test: TestEntry, runner: Runner, timeout_s: float) -> Result:
    test = suite.plan(test, runner)  # decided here, for this runner, whoever handed the test in
    if test.status == "skip":
        return Result(test.id, test.api, "skip", 0.0, test.reason)
    script = suite.directory / test.file
    timeout = test.timeout_s or timeout_s
    interact = tuple(Step(s.after, s.send) for s in test.interact)
    repl = tuple(test.repl)
    ex = runner.execute(script, timeout, interact, repl)
    if runner.checks_programs:
        ex = _checked_if_unsure(suite, test, runner, script, timeout, interact, repl, ex)
    return judged(suite, test, ex)


def judged(suite: Suite, test: TestEntry, ex: Execution) -> Result:
    """The result of one execution of a planned test."""
    outcome, detail = classify(test, suite.expected(test), ex, suite.features_in_force, suite.manifest.features,
                               suite.limits_in_force)
    if ex.note:
        detail = f"{detail}\n({ex.note})" if detail else f"({ex.note})"
    return Result(test.id, test.api, outcome, round(ex.duration_s, 4), clip_text(detail, DETAIL_CHARS))


def _checked_if_unsure(suite: Suite, test: TestEntry, runner: Runner, script: Path, timeout: float,
                       interact: tuple[Step, ...], repl: tuple[str, ...], ex: Execution) -> Execution:
    """A line that lost or changed a byte makes a failure of its own, so a run that did
    not pass is judged again on a run whose program the board checked before running it
    (a damaged program that still gives the expected output is no concern)."""
    judge = replace(test, status="run")  # the outcome itself, before an xfail turns it around
    first = classify(judge, suite.expected(test), ex)[0]
    if first not in UNSURE or (first == "fail" and test.status == "xfail"):
        return ex  # (a damaged program can only fail, and this one is expected to: its verdict stands)
    try:
        checked = runner.execute_checked(script, timeout, interact, repl)
    except RunnerError:
        return ex  # the board is gone: the first run's account stands
    if classify(judge, suite.expected(test), checked)[0] != first:
        note = (f"an unchecked first run gave {first} (last output: {ex.output[-120:]!r}); "
                "this is the run whose program the board checked")
        checked.note = f"{checked.note}; {note}" if checked.note else note
    return checked


@dataclass
class RunState:
    """The results a run has so far, and whether it was interrupted."""

    results: dict[str, Result] = field(default_factory=dict)
    interrupted: bool = False


def run_suite(
    suite: Suite,
    runner: Runner,
    tests: list[TestEntry],
    *,
    jobs: int = 1,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    on_result: Callable[[Result], None] = lambda r: None,
    state: RunState | None = None,
) -> RunState:
    """Run `tests`, calling on_result for each as soon as it is known.

    On KeyboardInterrupt the running tests are stopped and the state keeps every
    result measured so far, with `interrupted` set."""
    state = state or RunState()
    lock = threading.Lock()
    jobs = max(1, min(jobs, runner.max_parallel or jobs))
    stopped = False  # interrupted: what the tests killed by the interrupt gave is no result

    def record(result: Result) -> None:
        with lock:
            if stopped:
                return
            state.results[result.id] = result
            on_result(result)

    def recorded(fn: Callable[..., Result | list[Result]], *args: object) -> None:
        # each job records its own results (under the lock), so the main thread is not
        # woken, nor the interpreter lock taken from the workers, once per test
        got = fn(*args)
        for result in got if isinstance(got, list) else [got]:
            record(result)

    pending = []
    for test in tests:
        planned = suite.plan(test, runner)
        if planned.status == "skip":
            record(run_one(suite, test, runner, timeout_s))
        else:
            pending.append(planned)
    together: list[TestEntry] = []
    alone: list[TestEntry] = []
    for t in pending:
        (together if runner.capabilities.batch and batchable(t) else alone).append(t)

    def batch(members: list[TestEntry]) -> list[Result]:
        done, again = run_batch(members, suite.directory, runner, timeout_s, lambda t, ex: judged(suite, t, ex))
        return done + [run_one(suite, t, runner, timeout_s) for t in again]

    with Workers(jobs, each=False) as pool:
        try:  # an interrupt may come while the jobs are being handed in
            for t in alone:
                pool.submit(recorded, run_one, suite, t, runner, timeout_s)
            for members in batches(together):
                pool.submit(recorded, batch, members)
            pool.wait()
        except KeyboardInterrupt:
            with lock:
                stopped = True
            state.interrupted = True
            runner.close()  # kills what is still running, so the workers end; the rest is dropped
        except BaseException:  # a job's error ends the run: what is still running is not recorded
            with lock:
                stopped = True
            raise
    return state
