"""Render the spec and the port profiles into files, in memory. Nothing here writes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jinja2

from mpconform.generator.history import History
from mpconform.generator.profiles import Profile, behaviour_entry
from mpconform.generator.spec import Spec

TEMPLATES = Path(__file__).parent / "templates"
MANIFEST_FORMAT = 2


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


def manifest_json(manifest: dict, memo: dict) -> bytes:
    """json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True) + newline, the
    committed format. Python's indenting encoder is slow and most test entries are the
    same for every port, so each distinct entry is indented once and the list is joined
    around them. `memo` is shared by the ports of one spec: within it an entry is known
    by its id and the status the port gives it (the rest comes from the spec)."""
    tests = manifest["tests"]
    if not tests:
        return (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode()
    indented = json.JSONEncoder(indent=1, sort_keys=True, ensure_ascii=True).encode
    marker = "\x00tests\x00"  # cannot occur in ASCII-escaped JSON
    head = json.dumps({**manifest, "tests": marker}, indent=1, sort_keys=True, ensure_ascii=True)
    if head.count(json.dumps(marker)) != 1:  # the data holds the marker itself: take the slow way
        return (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode()
    parts = []
    for entry in tests:
        key = (entry["id"], entry["status"], entry["reason"], entry["issue"])
        text = memo.get(key)
        if text is None:
            text = memo[key] = "  " + indented(entry).replace("\n", "\n  ")
        parts.append(text)
    body = "[\n" + ",\n".join(parts) + "\n ]"
    return (head.replace(json.dumps(marker), body, 1) + "\n").encode()


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


def manifest_features(spec: Spec, profile: Profile, history: History | None = None) -> dict:
    """Every feature with its probe, its first upstream release when known, and the
    profile's setting where it has one."""
    history = history or History()
    out = {}
    for f in spec.features.values():
        entry = {
            "description": f.description,
            "macros": list(f.macros),
            "implies": list(f.implies),
            "probe": f.probe,
            "probe_output": f.probe_output,
        }
        if f.probe_output_tells:
            entry["probe_output_tells"] = f.probe_output_tells
        if f.probe_interact:
            entry["probe_interact"] = [{"after": a, "send": s} for a, s in f.probe_interact]
        if f.name in history.features:
            entry["since"] = history.features[f.name].since
        if f.name in profile.settings:
            entry["profile"] = profile.settings[f.name]
        out[f.name] = entry
    return out


def manifest_limits(spec: Spec, profile: Profile) -> dict:
    """Every limit with its probe, and the profile's declared value where it has one."""
    from mpconform.generator.spec import limit_json

    out = {}
    for lim in spec.limits.values():
        entry = limit_json(lim)
        if lim.name in profile.limits:
            entry["profile"] = profile.limits[lim.name]
        out[lim.name] = entry
    return out


def render_suite(spec: Spec, profile: Profile, env: jinja2.Environment | None = None,
                 memo: dict | None = None, history: History | None = None) -> dict[str, bytes]:
    """suites/<port>/manifest.json: the port's runner, features and expectations, and every
    behaviour with the status the profile gives it (a run may decide again from probed features)."""
    base = f"suites/{profile.port}"
    history = history or History()
    tests = []
    states = profile.feature_states()
    for b in spec.behaviours:
        status = profile.status(b, states)
        entry = behaviour_entry(b)
        entry.update({
            "api": b.api,
            "status": status.kind,
            "reason": status.reason,
            "issue": status.issue,
            "match": b.match,
            "doc": {"section": b.cites.section, "quote": b.cites.quote},
            "source": b.source,
            "timeout_s": b.timeout_s,
            "file": f"../tests/{b.id}.py",
        })
        since = history.behaviour_since(b.id, b.requires)
        if since:
            entry["since"] = since  # the latest of its features' releases and its own
        documented = history.behaviour_documented(b.id, b.requires)
        if documented:
            entry["documented"] = documented
        tests.append(entry)
    manifest = {
        "format": MANIFEST_FORMAT,
        "module": spec.module,
        "port": profile.port,
        "description": profile.description,
        "profile": profile.source,
        "spec_digest": spec_digest(spec),
        "runner": {"name": profile.runner, "options": profile.runner_options},
        "features": manifest_features(spec, profile, history),
        **({"limits": manifest_limits(spec, profile)} if spec.limits else {}),
        "expectations": profile.expectations,
        "tests": tests,
    }
    if profile.expect_firmware:
        manifest["expect_firmware"] = profile.expect_firmware
    return {f"{base}/manifest.json": manifest_json(manifest, {} if memo is None else memo)}
