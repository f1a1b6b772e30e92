"""`mpconform detect PORT`: which features the port's build is configured with, and why."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from mpconform.argtypes import seconds
from mpconform.core.options import add_flags, overrides
from mpconform.portarg import Target, add_arguments, resolve

STATE_WORDS = {True: "present", False: "absent", None: "unknown"}
#: the runner options `detect` takes on its command line
DETECT_OPTIONS = ("micropython", "device", "firmware")


def _cmd_detect(args) -> int:
    from mpconform.core.manifest import disagreements, profile_features
    from mpconform.runners.base import RunnerError
    from mpconform.runners.run.probe import run_probe
    from mpconform.runners.run.session import make_runner, open_suite

    target = resolve(args)
    suite = open_suite(target.suite_root, target.port)
    runner = make_runner(suite, overrides(args, DETECT_OPTIONS))
    timeout = suite.timeout_s(args.timeout)
    with runner, tempfile.TemporaryDirectory(prefix="mpconform-") as tmp:
        report = run_probe(runner, Path(tmp), suite.feature_probes(), timeout)
    if "probe_error" in report.identity and not any(a.enabled is not None for a in report.features.values()):
        raise RunnerError(f"port {target.port} did not run the probe: {report.identity['probe_error']}")
    limit_names = set(suite.manifest.get("limits", {}))
    limits = {n: a for n, a in report.features.items() if n in limit_names}
    report.features = {n: a for n, a in report.features.items() if n not in limit_names}
    profile = profile_features(suite.manifest.get("features", {}))
    notes = disagreements(profile, report.features)
    if args.json:
        doc = {
            "port": target.port,
            "implementation": report.identity,
            "features": {
                name: {"enabled": a.enabled, "source": "probe", "evidence": a.evidence}
                for name, a in sorted(report.features.items())
            },
            "limits": {
                name: {"value": a.value, "at_least": a.at_least, "source": "probe", "evidence": a.evidence}
                for name, a in sorted(limits.items())
            },
            "disagreements": notes,
        }
        json.dump(doc, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        width = max((len(n) for n in report.features), default=10)
        for name, a in sorted(report.features.items()):
            print(f"{name:{width}}  {STATE_WORDS[a.enabled]:8} {a.evidence}")
        for name, a in sorted(limits.items()):
            value = "unknown" if a.value is None else f"{'>=' if a.at_least else ''}{a.value}"
            print(f"{name:{width}}  {value:8} {a.evidence} (limit)")
        for note in notes:
            print(f"differs from the profile: {note}")
    if args.write:
        return _write(args.root, target, report.features, profile)
    return 0


def _write(root: Path, target: Target, answers: dict, profile: dict) -> int:
    """Record the answers in the profile file (the project's or the user's own, comments
    kept) and recompile; `profile`: the features the profile gives now, base included."""
    from mpconform.reports.detected import write_detected

    shown = target.shown(root)
    before = target.read_profile(root)
    after, changed = write_detected(before, answers, {name: s.enabled for name, s in profile.items()})
    if not changed:
        print(f"mpconform: {shown} already agrees with the probe", file=sys.stderr)
        return 0
    target.write_profile(root, after)  # compiled first: a profile the compiler rejects is never written
    for line in changed:
        print(f"{shown}: {line}", file=sys.stderr)
    written = target.recompile(root)
    print(f"mpconform: recompiled, {len(written)} file(s) changed", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    d = subparsers.add_parser("detect", help="probe a port for the features its build is configured with")
    add_arguments(d)
    add_flags(d.add_argument, DETECT_OPTIONS)
    d.add_argument("--timeout", type=seconds, help="seconds the probe program may take (default: the profile's)")
    d.add_argument("--json", action="store_true", help="print the answers as JSON")
    d.add_argument("--write", action="store_true",
                   help="record the answers in the profile (ports/PORT/port.yaml or --profile FILE), comments kept")
    d.set_defaults(func=_cmd_detect)
