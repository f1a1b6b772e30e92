"""One conformance run of a port: suite + runner + result files, start to end."""

from __future__ import annotations

import fnmatch
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mpconform.generator.errors import UnknownPort
from mpconform.generator.manifest import close_over_implies, disagreements, merge_probe, profile_features

from . import load_runner
from .base import Runner, RunnerError
from .console import ConsoleReporter
from .harness import RunState, Suite, run_suite
from .pool import RunnerPool
from .probe import run_probe
from .provenance import collect as collect_provenance
from .provenance import firmware_mismatch, now
from .results import UNEXPECTED, ResultLog, document, write_json, write_junit


@dataclass
class RunOptions:
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


FLAGS = {"micropython": "--micropython", "prelude": "--prelude", "device": "--device", "firmware": "--firmware",
         "place": "--place", "coordinator": "--coordinator", "place_wait_s": "--wait"}


def runner_options(cls: type[Runner], profile_options: dict, overrides: dict | None) -> dict:
    """The profile's options with the command line's on top; an override the runner does
    not declare is a RunnerError (it would be dropped or, worse, taken for something else)."""
    from .options import applicable

    given, foreign = applicable(cls.OPTIONS, overrides or {})
    if foreign:
        flags = ", ".join(FLAGS.get(k, k) for k in foreign)
        raise RunnerError(f"{flags} does not apply to the {cls.name} runner")
    return {**profile_options, **given}


def make_runner(suite: Suite, overrides: dict | None = None, *, jobs: int = 1, devices: list[str] | None = None,
                places: list[str] | None = None) -> Runner:
    """The suite's runner with its options (overrides win). Several devices or places, or
    -j N on an emulated board, give a pool of instances that share the suite."""
    spec = suite.manifest["runner"]
    cls = load_runner(spec["name"])
    if places:
        runner_options(cls, {}, {"place": places[0]})  # does this runner take places at all?
    options = runner_options(cls, dict(spec.get("options", {})), overrides)
    if places:
        if len(places) == 1:
            return cls({**options, "place": places[0]})
        return RunnerPool([cls({**options, "place": p}) for p in places])
    if devices and len(devices) > 1:
        return RunnerPool([cls({**options, "device": d}) for d in devices])
    if jobs > 1 and cls.max_parallel == 1 and cls.can_multiply(options):
        return RunnerPool([cls(options) for _ in range(jobs)])
    return cls(options)


def _selector(patterns: list[str] | None):
    if not patterns:
        return None
    return lambda t: any(fnmatch.fnmatchcase(t["id"], p) or p in t["id"] for p in patterns)


@dataclass
class FeatureDecision:
    """The features a run goes by, and what the probe said about the profile."""

    states: dict  # name -> FeatureState
    notes: list[str]  # profile/probe disagreements
    module_missing: str = ""  # why, when the port has no micropython module


def decide_features(suite: Suite, answers: dict, detect: bool) -> FeatureDecision:
    declared = suite.manifest.get("features", {})
    profile = profile_features(declared)
    notes = disagreements(profile, answers)
    states = merge_probe(profile, answers, declared) if detect else close_over_implies(profile, declared)
    module = answers.get("micropython_module")
    missing = module.evidence if module is not None and module.enabled is False else ""
    return FeatureDecision(states, notes, missing)


def run_port(root: Path, port: str, opts: RunOptions) -> int:
    """Run a port's suite; return the exit status (0 all expected, 1 unexpected, 2 aborted)."""
    suite = open_suite(opts.suite_root or root, port)
    selected = suite.tests(_selector(opts.select))
    previous = {}
    if opts.resume_path:
        from .resume import read_previous

        wanted = {t["id"] for t in selected}
        previous = {k: r for k, r in read_previous(opts.resume_path, port).items() if k in wanted}
        print(f"mpconform: resuming {opts.resume_path}: {len(previous)} results kept, {len(selected) - len(previous)} to run")
    timeout = suite.timeout_s(opts.timeout_s)
    reporter = ConsoleReporter(port, opts.verbose)
    runner = make_runner(suite, opts.runner_overrides, jobs=opts.jobs, devices=opts.devices, places=opts.places)
    # a pool deals the suite out to all its instances at once
    jobs = runner.max_parallel if isinstance(runner, RunnerPool) else opts.jobs
    log = None
    state = RunState(results=dict(previous))
    implementation: dict = {}
    decision = FeatureDecision({}, [])
    aborted = ""
    started = now()
    with runner, tempfile.TemporaryDirectory(prefix="mpconform-") as tmp:
        report = run_probe(runner, Path(tmp), suite.feature_probes(), timeout)
        implementation = report.identity
        mismatch = firmware_mismatch(suite.manifest.get("expect_firmware"), implementation)
        if mismatch:
            raise RunnerError(f"port {port}: not the firmware its profile expects ({suite.manifest.get('profile')}: "
                              f"expect_firmware): {mismatch}; nothing was run")
        decision = decide_features(suite, report.features, opts.detect)
        suite.features_in_force = decision.states
        tests = suite.decided(selected, decision.states, can_interact=runner.can_interact, runner_name=runner.name,
                              docs_release=opts.docs_release)
        reporter.header(implementation, len(tests) - len(previous))
        reporter.features(decision.notes, detect=opts.detect, module_missing=decision.module_missing,
                          docs_release=opts.docs_release)
        if opts.json_path:
            log = ResultLog(opts.json_path.with_suffix(".jsonl"), {"port": port, "implementation": implementation})
            for result in previous.values():
                log.add(result)

        def on_result(result):
            if log:
                log.add(result)
            reporter.result(result)

        try:
            todo = [t for t in tests if t["id"] not in previous]
            run_suite(suite, runner, todo, jobs=jobs, timeout_s=timeout, on_result=on_result, state=state)
        except RunnerError as exc:
            aborted = str(exc)
    targets = runner.targets()
    if targets is not None:
        measured = {t["id"] for t in selected}  # not the probe's programs
        for target in targets:
            target["tests"] = [t for t in target["tests"] if t in measured]
    else:
        target = runner.describe_target()
        target["tests"] = [r.id for r in state.results.values() if r.outcome != "skip" and r.id not in previous]
        targets = [target]
    order = {t["id"]: i for i, t in enumerate(selected)}
    results = sorted(state.results.values(), key=lambda r: order[r.id])
    incomplete = state.interrupted or bool(aborted)
    doc = document(port, implementation, results, interrupted=incomplete)
    doc["features"] = {name: st.to_json() for name, st in sorted(decision.states.items())}
    doc["feature_notes"] = decision.notes
    doc["detect"] = opts.detect
    if opts.docs_release:
        doc["docs_release"] = opts.docs_release
    doc["provenance"] = collect_provenance(root, suite.manifest, runner, implementation, targets, started, now())
    if opts.json_path:
        write_json(opts.json_path, doc)
        log.close()
        if not incomplete:
            log.path.unlink()
    if opts.junit_path:
        write_junit(opts.junit_path, doc)
    reporter.finish(results, interrupted=incomplete)
    if aborted:
        print(f"mpconform: run stopped: {aborted}")
        return 2
    if state.interrupted:
        return 130
    return 1 if any(r.outcome in UNEXPECTED for r in results) else 0
