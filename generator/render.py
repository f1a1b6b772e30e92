"""Render the spec and the port profiles into files, in memory. Nothing here writes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jinja2

from .profiles import Profile
from .spec import Spec

TEMPLATES = Path(__file__).parent / "templates"
MANIFEST_FORMAT = 1


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
    blob = json.dumps(spec.to_json(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def render_suite(spec: Spec, profile: Profile, env: jinja2.Environment | None = None) -> dict[str, bytes]:
    """Files of suites/<port>/: one test and .exp per behaviour that runs, and manifest.json."""
    env = env or environment()
    test_tpl = env.get_template("suite/test.py.j2")
    exp_tpl = env.get_template("suite/test.py.exp.j2")
    base = f"suites/{profile.port}"
    files: dict[str, bytes] = {}
    tests = []
    for b in spec.behaviours:
        status = profile.status(b)
        entry = {
            "id": b.id,
            "api": b.api,
            "status": status.kind,
            "reason": status.reason,
            "issue": status.issue,
            "match": b.match,
            "requires": list(b.requires),
            "doc": {"section": b.cites.section, "quote": b.cites.quote},
            "source": b.source,
            "timeout_s": b.timeout_s,
            "file": None,
        }
        if status.kind != "skip":
            entry["file"] = f"{b.id}.py"
            files[f"{base}/{b.id}.py"] = test_tpl.render(b=b).encode("utf-8")
            files[f"{base}/{b.id}.py.exp"] = exp_tpl.render(b=b).encode("utf-8")
        tests.append(entry)
    manifest = {
        "format": MANIFEST_FORMAT,
        "module": spec.module,
        "port": profile.port,
        "description": profile.description,
        "profile": profile.source,
        "spec_digest": spec_digest(spec),
        "runner": {"name": profile.runner, "options": profile.runner_options},
        "tests": tests,
    }
    files[f"{base}/manifest.json"] = (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode()
    return files
