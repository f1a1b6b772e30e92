"""One conformance run of a port: suite + runner + result files, start to end."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.atomicfile import WriteLock, check_writable
from mpconform.core.errors import UnknownPort, UsageError
from mpconform.core.manifest import (
    close_over_implies,
    disagreements,
    limit_disagreements,
    merge_probe,
    merge_probe_limits,
    profile_features,
    profile_limits,
)
from mpconform.core.model import TestEntry
from mpconform.core.registry import load_runner
from mpconform.core.results import UNEXPECTED, ResultLog, ResultsDocument, RunResult, write_json, write_junit
from mpconform.runners.base import Runner, RunnerError
from mpconform.runners.run.console import ConsoleReporter
from mpconform.runners.run.harness import RunState, Suite, run_suite
from mpconform.runners.run.pool import RunnerPool
from mpconform.runners.run.probe_cache import cached_probe
from mpconform.runners.run.provenance import collect as collect_provenance
from mpconform.runners.run.provenance import firmware_mismatch, now
from mpconform.runners.run.resume import firmware_differs, firmware_identity, read_log
from mpconform.runners.run.stopsignals import StopSignals


@dataclass
class RunOptions:
    """How `run` was asked to run: jobs, selection, output files, runner options."""

    jobs: int = 1
    timeout_s: float | None = None
    json_path: Path | None = None
    junit_path: Path | None = None
    select: list[str] | None = None  # shell patterns on behaviour ids
    verbose: bool = False
    runner_overrides: dict | None = None
    resume_path: Path | None = None  # an interrupted run's .jsonl: skip what it measured
    devices: list[str] | None = None  # several boards of one profile: the suite is shared between them
    places: list[str] | None = None  # labgrid places, likewise
    detect: bool = False  # features from the port's probe instead of the profile
    docs_release: str | None = None  # check the docs as they stood at this release
    suite_root: Path | None = None  # where the suite was compiled, when not in the project (run --profile)


def open_suite(root: Path, port: str) -> Suite:
    directory = root / "suites" / port
    if not (directory / "manifest.json").is_file():
        known = sorted(p.parent.name for p in (root / "suites").glob("*/manifest.json"))
        known_text = ", ".join(known) or "none"
        raise UnknownPort(f"unknown port '{port}': no suites/{port}/manifest.json (generated ports: {known_text})")
    return Suite.load(directory)


def runner_options(cls: type[Runner], profile_options: dict, overrides: dict | None) -> dict:
    """The profile's options with the command line's on top; an override the runner does
    not declare is a RunnerError (it would be dropped or, worse, taken for something else)."""
    from mpconform.core.options import only_applicable

    return {**profile_options, **only_applicable(cls.name, cls.OPTIONS, overrides or {})}


def make_runner(suite: Suite, overrides: dict | None = None, *, jobs: int = 1, devices: list[str] | None = None,
                places: list[str] | None = None) -> Runner:
    """The suite's runner with its options (overrides win). Several devices or places, or
    -j N on an emulated board, give a pool of instances that share the suite."""
    spec = suite.manifest.runner
    cls = load_runner(spec.name)
    if places:
        runner_options(cls, {}, {"place": places[0]})  # does this runner take places at all?
    options = runner_options(cls, dict(spec.options), overrides)
    if places:
        if len(places) == 1:
            return cls({**options, "place": places[0]})
        return RunnerPool([cls({**options, "place": p}) for p in places])
    if devices and len(devices) > 1:
        return RunnerPool([cls({**options, "device": d}) for d in devices])
    if jobs > 1 and cls.capabilities.max_parallel == 1 and cls.can_multiply(options):
        return RunnerPool([cls(options) for _ in range(jobs)])
    return cls(options)


def _selector(patterns: list[str] | None):
    if not patterns:
        return None
    # A pattern without wildcards matches as a substring (an exact id too): no fnmatch, whose
    # compiled patterns cost more than the tests when -k names a hundred ids.
    globs = [p for p in patterns if any(c in p for c in "*?[")]
    plain = [p for p in patterns if p not in globs]
    exact = set(plain)  # ids named whole (exported tests, a rerun's list): no scan of the patterns
    # (map over a bound method: no Python frame per pattern, which a genexpr costs)
    return lambda t: (t.id in exact or any(map(t.id.__contains__, plain))
                      or any(fnmatch.fnmatchcase(t.id, p) for p in globs))


@dataclass
class FeatureDecision:
    """The features a run goes by, and what the probe said about the profile."""

    states: dict  # name -> FeatureState
    notes: list[str]  # profile/probe disagreements
    module_missing: str = ""  # why, when the port has no micropython module
    limits: dict = field(default_factory=dict)  # name -> LimitState


def decide_features(suite: Suite, answers: dict, detect: bool) -> FeatureDecision:
    declared = suite.manifest.features
    profile = profile_features(declared)
    notes = disagreements(profile, answers)
    states = merge_probe(profile, answers, declared) if detect else close_over_implies(profile, declared)
    module = answers.get("micropython_module")
    missing = module.evidence if module is not None and module.enabled is False else ""
    # Limits as features: the profile's word, or with --detect what the probe measured.
    declared_limits = profile_limits(suite.manifest.limits)
    notes += limit_disagreements(declared_limits, answers)
    limits = merge_probe_limits(declared_limits, answers, detect)
    return FeatureDecision(states, notes, missing, limits)


class _Unstarted:
    """The runner of a run stopped before it was made, for the results' provenance."""

    def __init__(self, name: str, options: dict):
        self.name, self.options = name, options

    def targets(self):
        return []


def progress_log_path(json_path: Path) -> Path:
    """Where results go line by line while a run goes: `<name>.jsonl` beside the JSON,
    never the JSON itself (`--json r.jsonl` logs to `r.progress.jsonl`)."""
    log = json_path.with_suffix(".jsonl")
    return log if log != json_path else json_path.with_suffix(".progress.jsonl")


def distinct_targets(named: list[tuple[str, Path]]) -> list[Path]:
    """The files a run writes, refused when two of them are one file (a run would lock,
    write and replace it twice): that is a command line that cannot work."""
    seen: dict[object, tuple[str, Path]] = {}
    for what, path in named:
        try:
            st = os.stat(path)
            key: object = (st.st_dev, st.st_ino)  # hard links too
        except OSError:
            key = os.path.realpath(path)
        if key in seen:
            first, first_path = seen[key]
            raise UsageError(f"{what} {path} and {first} {first_path} are one file; give each its own")
        seen[key] = (what, path)
    return [path for _, path in named]


def run_port(root: Path, port: str, opts: RunOptions) -> int:
    """Run a port's suite; return the exit status (0 all expected, 1 unexpected, 2 aborted,
    128 + the signal when stopped by SIGINT, SIGTERM or SIGHUP)."""
    suite = open_suite(opts.suite_root or root, port)
    selector = _selector(opts.select)
    if selector and not any(map(selector, suite.manifest.tests)):  # a typo in CI must not end "0 passed"
        raise UsageError(f"-k {' -k '.join(opts.select)}: matches none of the {len(suite.tests())} behaviours "
                         f"of port {port}; nothing was run")
    named = [("--json", opts.json_path), ("--json's progress log", opts.json_path and progress_log_path(opts.json_path)),
             ("--junit", opts.junit_path)]
    outputs = distinct_targets([(what, Path(p)) for what, p in named if p])
    for path in outputs:
        check_writable(path)
    with contextlib.ExitStack() as held:
        stops = held.enter_context(StopSignals())  # outermost: the locks go while signals are still ours
        for path in outputs:
            held.enter_context(WriteLock(path))  # a second run writing the same files is told so now
        return _run(root, port, suite, opts, stops)


@dataclass
class RunContext:
    """What one run has learned so far: each step of the run adds to it, and the results
    document is built from it at the end (also when the run was stopped part way)."""

    root: Path
    port: str
    suite: Suite
    opts: RunOptions
    stops: StopSignals
    reporter: ConsoleReporter
    started: str
    selected: list[TestEntry] = field(default_factory=list)
    previous: dict[str, RunResult] = field(default_factory=dict)  # kept from --resume
    resumed_from: dict = field(default_factory=dict)  # the resumed log's header
    runner: Runner | None = None
    implementation: dict = field(default_factory=dict)
    identity: dict = field(default_factory=dict)  # what ran, for a later --resume
    decision: FeatureDecision = field(default_factory=lambda: FeatureDecision({}, []))
    log: ResultLog | None = None
    state: RunState = field(default_factory=RunState)
    aborted: str = ""  # why the runner gave up, when it did

    @property
    def incomplete(self) -> bool:
        return self.state.interrupted or bool(self.aborted)


def _run(root: Path, port: str, suite: Suite, opts: RunOptions, stops: StopSignals) -> int:
    ctx = RunContext(root, port, suite, opts, stops, ConsoleReporter(port, opts.verbose), now())
    try:
        _select(ctx)
        timeout = suite.timeout_s(opts.timeout_s)
        # never more at once than there are tests to run (each instance of a pool is an emulator)
        wanted_jobs = min(opts.jobs, max(1, len(ctx.selected) - len(ctx.previous)))
        ctx.runner = runner = make_runner(suite, opts.runner_overrides, jobs=wanted_jobs, devices=opts.devices,
                                          places=opts.places)
        # a pool deals the suite out to all its instances at once
        jobs = runner.max_parallel if isinstance(runner, RunnerPool) else wanted_jobs
        with tempfile.TemporaryDirectory(prefix="mpconform-") as tmp, contextlib.ExitStack() as opened:
            opened.callback(runner.close)  # also when open() itself is interrupted
            own = suite.snapshot(Path(tmp), [t for t in ctx.selected if t.id not in ctx.previous])  # what is left to run
            runner.open()
            report = cached_probe(runner, Path(tmp), own.feature_probes(), timeout)  # same firmware: last answer
            _identify(ctx, runner, report.identity)
            tests = _plan(ctx, own, runner, report.features)
            _open_log(ctx)
            try:
                todo = [t for t in tests if t.id not in ctx.previous]
                run_suite(own, runner, todo, jobs=jobs, timeout_s=timeout, on_result=_recorder(ctx), state=ctx.state)
            except RunnerError as exc:
                ctx.aborted = str(exc)
            stops.defer()  # the suite is over: a signal now must not break off the cleanup
    except KeyboardInterrupt:  # before or between the tests (run_suite handles its own)
        stops.defer()
        ctx.state.interrupted = True
    except RunnerError as exc:
        stops.defer()
        if ctx.log is None:  # stopped before its first test (nothing measured): no results file to write
            raise
        ctx.aborted = str(exc)
    stops.defer()
    return _finish(ctx)


def _select(ctx: RunContext) -> None:
    """The behaviours asked for, and what an interrupted run (--resume) already measured."""
    ctx.selected = ctx.suite.tests(_selector(ctx.opts.select))
    if ctx.opts.resume_path:
        wanted = {t.id for t in ctx.selected}
        ctx.resumed_from, kept = read_log(ctx.opts.resume_path, ctx.port)
        ctx.previous = {k: r for k, r in kept.items() if k in wanted}
        ctx.reporter.say(f"mpconform: resuming {ctx.opts.resume_path}: {len(ctx.previous)} results kept, "
                         f"{len(ctx.selected) - len(ctx.previous)} to run")
        ctx.state.results = dict(ctx.previous)


def _identify(ctx: RunContext, runner: Runner, implementation: dict) -> None:
    """What the port says it is; RunnerError when that is not the firmware the profile pins,
    or not the firmware the resumed run measured."""
    ctx.implementation = implementation
    manifest = ctx.suite.manifest
    mismatch = firmware_mismatch(manifest.expect_firmware, implementation)
    if mismatch:
        raise RunnerError(f"port {ctx.port}: not the firmware its profile expects ({manifest.profile}: "
                          f"expect_firmware): {mismatch}; nothing was run")
    ctx.identity = firmware_identity(runner, implementation)
    differs = firmware_differs(ctx.resumed_from, ctx.identity) if ctx.opts.resume_path else ""
    if differs:
        ctx.state.results = {}
        raise RunnerError(f"--resume {ctx.opts.resume_path}: not the same firmware: {differs}; nothing was run")


def _plan(ctx: RunContext, own: Suite, runner: Runner, answers: dict) -> list[TestEntry]:
    """The features and limits in force, and every selected test's status from them."""
    ctx.decision = decision = decide_features(own, answers, ctx.opts.detect)
    own.features_in_force = decision.states
    own.limits_in_force = decision.limits
    own.docs_release = ctx.opts.docs_release
    tests = own.decided(ctx.selected, runner)
    ctx.reporter.header(ctx.implementation, len(tests) - len(ctx.previous))
    ctx.reporter.features(decision.notes, detect=ctx.opts.detect, module_missing=decision.module_missing,
                          docs_release=ctx.opts.docs_release)
    return tests


def _open_log(ctx: RunContext) -> None:
    """The progress log beside --json, starting with what --resume kept."""
    if not ctx.opts.json_path:
        return
    ctx.log = ResultLog(progress_log_path(ctx.opts.json_path), {"port": ctx.port, "implementation": ctx.implementation,
                                                               "firmware": ctx.identity})
    for result in ctx.previous.values():
        ctx.log.add(result)


def _recorder(ctx: RunContext) -> Callable[[RunResult], None]:
    def on_result(result: RunResult) -> None:
        if ctx.log:
            ctx.log.add(result)
        ctx.reporter.result(result)

    return on_result


def _targets(ctx: RunContext, runner) -> list[dict]:
    """Where each behaviour ran (the probe's programs left out)."""
    targets = runner.targets()
    if targets is not None:
        measured = {t.id for t in ctx.selected}
        for target in targets:
            target["tests"] = [t for t in target["tests"] if t in measured]
        return targets
    target = runner.describe_target()
    target["tests"] = [r.id for r in ctx.state.results.values() if r.outcome != "skip" and r.id not in ctx.previous]
    return [target]


def results_document(ctx: RunContext) -> ResultsDocument:
    """The run's results document, from what the run learned."""
    runner = ctx.runner
    if runner is None:  # stopped before the runner was made: say which runner the run would have used
        spec = ctx.suite.manifest.runner
        runner = _Unstarted(spec.name, dict(spec.options))
    order = {t.id: i for i, t in enumerate(ctx.selected)}
    return ResultsDocument(
        port=ctx.port,
        implementation=ctx.implementation,
        results=tuple(sorted(ctx.state.results.values(), key=lambda r: order[r.id])),
        interrupted=ctx.incomplete,
        features=dict(ctx.decision.states),
        feature_notes=tuple(ctx.decision.notes),
        limits=dict(ctx.decision.limits),
        detect=ctx.opts.detect,
        docs_release=ctx.opts.docs_release,
        firmware=ctx.identity or None,
        provenance=collect_provenance(ctx.root, ctx.suite.manifest, runner, ctx.implementation,
                                      _targets(ctx, runner), ctx.started, now()),
    )


def _finish(ctx: RunContext) -> int:
    doc = results_document(ctx)
    opts = ctx.opts
    if opts.json_path:
        write_json(opts.json_path, doc)
        if ctx.log:
            ctx.log.close()
            if not ctx.incomplete:
                ctx.log.path.unlink()
    if opts.junit_path:
        write_junit(opts.junit_path, doc)
    ctx.reporter.finish(list(doc.results), interrupted=ctx.incomplete)
    if ctx.aborted:
        ctx.reporter.say(f"mpconform: run stopped: {ctx.aborted}")
        return 2
    if ctx.stops.exit_status is not None:
        return ctx.stops.exit_status
    if ctx.state.interrupted:
        return 130
    return 1 if any(r.outcome in UNEXPECTED for r in doc.results) else 0
