"""Render the spec and the port profiles into files, in memory. Nothing here writes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2

from mpconform.core.model import (
    Expectation,
    FeatureDecl,
    FeatureSetting,
    LimitDecl,
    LimitSetting,
    Manifest,
    RunnerSpec,
    TestEntry,
    manifest_bytes,
)
from mpconform.generator.history import History
from mpconform.generator.profiles import Profile, behaviour_entry
from mpconform.generator.spec import Behaviour, Spec

TEMPLATES = Path(__file__).parent / "templates"


def pyliteral(value) -> str:
    """An ASCII Python literal: safe inside a comment or as an expression."""
    return ascii(str(value))


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=False,  # outputs are Python and C; each template escapes with its own filters
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pyliteral"] = pyliteral
    return env


def spec_digest(spec: Spec) -> str:
    # once per Spec: every port's manifest carries it
    if spec.digest is None:
        blob = json.dumps(spec.to_json(), sort_keys=True).encode()
        spec.digest = hashlib.sha256(blob).hexdigest()
    return spec.digest


TESTS_DIR = "suites/tests"


def render_tests(spec: Spec, env: jinja2.Environment | None = None) -> dict[str, bytes]:
    """suites/tests/: one upstream-style test and .exp per behaviour, shared by every port."""
    env = env or environment()
    test_tpl = env.get_template("suite/test.py.j2")
    exp_tpl = env.get_template("suite/test.py.exp.j2")
    files: dict[str, bytes] = {}
    for b in spec.behaviours:
        files[f"{TESTS_DIR}/{b.id}.py"] = test_tpl.render(b=b).encode("utf-8")
        files[f"{TESTS_DIR}/{b.id}.py.exp"] = exp_tpl.render(b=b).encode("utf-8")
    return files


def manifest_features(spec: Spec, profile: Profile, history: History | None = None) -> dict[str, FeatureDecl]:
    """Every feature with its probe, its first upstream release when known, and the
    profile's setting where it has one."""
    from mpconform.core.model import InteractStep

    history = history or History()
    out = {}
    for f in spec.features.values():
        setting = profile.settings.get(f.name)
        out[f.name] = FeatureDecl(
            description=f.description,
            macros=tuple(f.macros),
            implies=tuple(f.implies),
            probe=f.probe,
            probe_output=f.probe_output,
            probe_output_tells=f.probe_output_tells or "",
            probe_interact=tuple(InteractStep(a, s) for a, s in f.probe_interact),
            since=history.features[f.name].since if f.name in history.features else None,
            profile=FeatureSetting(setting["enabled"], setting.get("reason")) if setting is not None else None,
        )
    return out


def manifest_limits(spec: Spec, profile: Profile) -> dict[str, LimitDecl]:
    """Every limit with its probe, and the profile's declared value where it has one."""
    from mpconform.generator.spec import limit_json

    out = {}
    for lim in spec.limits.values():
        entry = limit_json(lim)
        setting = profile.limits.get(lim.name)
        out[lim.name] = LimitDecl(
            description=entry["description"], macros=tuple(entry["macros"]), requires=tuple(entry["requires"]),
            documented_minimum=entry["documented_minimum"], measures_up_to=entry["measures_up_to"],
            probe=entry["probe"],
            profile=LimitSetting(setting["value"], setting["reason"]) if setting is not None else None,
        )
    return out


@dataclass
class SuiteMemo:
    """What the ports of one spec share while they are rendered: each behaviour's entry
    (all of it but the status a port gives it) and the indented JSON of each distinct entry."""

    entries: dict[str, tuple[Behaviour, TestEntry]] = field(default_factory=dict)
    texts: dict[tuple[str, str, str, str], str] = field(default_factory=dict)


def render_suite(spec: Spec, profile: Profile, env: jinja2.Environment | None = None,
                 memo: SuiteMemo | None = None, history: History | None = None) -> dict[str, bytes]:
    """suites/<port>/manifest.json: the port's runner, features and expectations, and every
    behaviour with the status the profile gives it (a run decides again, core.manifest.plan)."""
    base = f"suites/{profile.port}"
    history = history or History()
    tests = []
    states = profile.feature_states()
    memo = memo or SuiteMemo()
    entries = memo.entries  # a behaviour's entry is the same on every port but for its status
    for b in spec.behaviours:
        entry = entries.get(b.id)
        if entry is None or entry[0] is not b:
            entry = entries[b.id] = (b, replace(
                behaviour_entry(b),
                api=b.api,
                match=b.match,
                doc=b.cites,
                source=b.source,
                timeout_s=b.timeout_s,
                file=f"../tests/{b.id}.py",
                since=history.behaviour_since(b.id, b.requires) or None,  # the latest of its features' and its own
                documented=history.behaviour_documented(b.id, b.requires) or None,
            ))
        status = profile.status(b, states, entry[1])
        tests.append(entry[1].with_status(status.kind, status.reason, status.issue))
    manifest = Manifest(
        module=spec.module,
        port=profile.port,
        description=profile.description,
        profile=profile.source,
        spec_digest=spec_digest(spec),
        runner=RunnerSpec(profile.runner, profile.runner_options),
        features=manifest_features(spec, profile, history),
        limits=manifest_limits(spec, profile),
        expectations={b: Expectation.from_json(e) for b, e in profile.expectations.items()},
        tests=tuple(tests),
        expect_firmware=profile.expect_firmware,
    )
    return {f"{base}/manifest.json": manifest_bytes(manifest, memo.texts)}
