"""Spec <-> implementation drift: ask a running port what its `micropython`
module holds and compare with what the spec and the port's profile say.

The probe runs on the port (any MicroPython, old or tiny: no f-strings, every
step in try/except). It lists the module's members, each member's type, a
class's methods, and each callable's largest accepted argument count, read from
the TypeError a call with too many arguments raises -- that check happens
before the function body runs, so nothing is executed (only a member that takes
any number of arguments, e.g. a prelude's Python stand-in, runs; its arity is
then reported as not checked)."""

from __future__ import annotations

import ast
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.drift.docmodel import format_signature, spec_params
from mpconform.generator.profiles import Profile, load_profile, load_profile_file
from mpconform.generator.spec import Api, Spec, load_spec
from mpconform.runners.base import Runner, RunnerError
from mpconform.runners.run.probe import probe as probe_implementation
from mpconform.runners.run.session import make_runner, open_suite

TOO_MANY = 12  # arguments passed to read a callable's limit; no documented member takes that many
TAG = "mpconform-drift"

# the program that runs on the port, a file you can run by hand
DEVICE_PROGRAM = Path(__file__).resolve().parent / "device" / "members.py"

# Sample arguments for a documented constructor, by the spec's parameter type (sent as their repr).
_SAMPLES = {"int": 16, "bytes": b"0123456789abcdef", "str": "x", "bytearray": bytearray(16), "bool": False}


STATUSES = ("conformant", "missing", "absent-optional", "undocumented-extra", "signature-mismatch")
FAILING = ("missing", "signature-mismatch")

_TAKES = re.compile(r"takes (\d+) positional arguments? but (\d+) (?:were|was) given")
_AT_MOST = re.compile(r"at most (\d+) arguments?, got (\d+)")


def max_args(arity_text: str) -> int | None:
    """Largest argument count a callable accepts, from the TypeError a call with
    TOO_MANY arguments raised; a count that includes `self` is corrected by how
    many more arguments the message says were given than were passed."""
    for pattern in (_TAKES, _AT_MOST):
        m = pattern.search(arity_text)
        if m:
            limit, given = int(m.group(1)), int(m.group(2))
            return max(0, limit - (given - TOO_MANY))
    return None


@dataclass
class Member:
    name: str
    status: str
    kind: str = ""  # as the port reports it (function, class, ...) or the spec's when absent
    detail: str = ""
    max_args: int | None = None
    documented: str = ""  # the spec's signature(s)

    def to_json(self) -> dict:
        return {"name": self.name, "status": self.status, "kind": self.kind, "detail": self.detail,
                "max_args": self.max_args, "documented": self.documented}


@dataclass
class PortDrift:
    port: str
    implementation: dict
    members: list[Member] = field(default_factory=list)

    def summary(self) -> dict:
        return {s: sum(1 for m in self.members if m.status == s) for s in STATUSES}

    @property
    def drift(self) -> bool:
        return any(m.status in FAILING for m in self.members)

    def to_json(self) -> dict:
        return {"port": self.port, "implementation": self.implementation,
                "members": [m.to_json() for m in self.members], "summary": self.summary(), "drift": self.drift}


def parse_probe_output(output: str) -> dict[str, tuple[str, str]]:
    """{name: (kind, arity text)} from the probe's lines; raises RunnerError if it did not finish."""
    found: dict[str, tuple[str, str]] = {}
    done = False
    for line in output.splitlines():
        if not line.startswith(TAG + " "):
            continue
        try:
            fields = ast.literal_eval(line[len(TAG) + 1:])
        except (ValueError, SyntaxError):
            continue
        if fields[0] == "nomodule":
            return {}  # a build without the module (upstream's minimal variant): every member is absent
        if fields[0] == "done":
            done = True
        elif fields[0] in ("member", "method") and len(fields) >= 3:
            found[fields[1]] = (fields[2], fields[3] if len(fields) > 3 else "")
    if not done:
        raise RunnerError(f"the drift probe did not finish; port output ends: {output[-400:]!r}")
    return found


def _documented(api: Api) -> tuple[str, int]:
    """The spec's signature(s) as text and the most arguments any of them takes."""
    forms = [spec_params(api.params)] + ([spec_params(api.alt_params)] if api.alt_params is not None else [])
    short = api.name.rsplit(".", 1)[-1]
    return " / ".join(format_signature(short, f) for f in forms), max(len(f) for f in forms)


def _disabled_features(api: Api, profile: Profile) -> list[str]:
    return [f for f in api.requires if not profile.feature_enabled(f)]


def classify(spec: Spec, profile: Profile, found: dict[str, tuple[str, str]]) -> list[Member]:
    members: list[Member] = []
    spec_names = {a.name for a in spec.apis}
    for api in spec.apis:
        documented, most = _documented(api)
        disabled = _disabled_features(api, profile)
        owner = api.name.split(".")[0] if api.kind == "method" else None
        if api.name not in found:
            if disabled:
                why = "; ".join(f"feature {f} disabled: {profile.disabled[f]}" for f in disabled)
                members.append(Member(api.name, "absent-optional", api.kind, why, documented=documented))
            else:
                why = "class absent" if owner and owner not in found else "the profile enables every feature it requires"
                members.append(Member(api.name, "missing", api.kind, why, documented=documented))
            continue
        kind, arity_text = found[api.name]
        limit = max_args(arity_text)
        notes = []
        if disabled:
            notes.append(f"present although the profile disables {', '.join(disabled)} (profile out of date?)")
        status = "conformant"
        if api.kind == "class" and kind != "class":
            status = "signature-mismatch"
            notes.append(f"documented as a class, the port has a {kind}")
        elif api.kind != "class" and kind == "class":
            status = "signature-mismatch"
            notes.append(f"documented as a {api.kind}, the port has a class")
        if limit is None:
            if arity_text == "ran":
                notes.append(f"accepted {TOO_MANY} arguments (variadic); arity not checked")
            elif arity_text:
                notes.append(f"arity unknown ({arity_text})")
        elif limit < most:
            status = "signature-mismatch"
            notes.append(f"accepts at most {limit} argument(s); the docs give {documented}")
        elif limit > most:
            notes.append(f"accepts up to {limit} argument(s), more than the {most} documented")
        members.append(Member(api.name, status, kind, "; ".join(notes), limit, documented))
    for name, (kind, arity_text) in sorted(found.items()):
        if name in spec_names:
            continue
        members.append(Member(name, "undocumented-extra", kind, "not in the docs or the spec", max_args(arity_text)))
    return members


def probe_script(spec: Spec) -> str:
    """The probe for this spec: constructor arguments come from each class's documented parameters."""
    ctors = {}
    for api in spec.apis:
        if api.kind != "class":
            continue
        required = [p for p in api.params if not p.get("optional") and "default" not in p]
        if all(p.get("type") in _SAMPLES for p in required):
            ctors[api.name] = tuple(_SAMPLES[p["type"]] for p in required)
    return f"PARAMS = {(TAG, TOO_MANY, ctors)!r}\n" + DEVICE_PROGRAM.read_text(encoding="utf-8")


def probe_port(root: Path, port: str, overrides: dict | None = None, timeout_s: float | None = None, *,
               profile_path: Path | None = None, suite_root: Path | None = None) -> PortDrift:
    """`profile_path`, `suite_root`: a user's own profile and where it was compiled."""
    spec = load_spec(root)
    profile = load_profile_file(root, profile_path, spec) if profile_path else load_profile(root, port, spec)
    suite = open_suite(suite_root or root, port)
    runner: Runner = make_runner(suite, overrides)
    timeout = suite.timeout_s(timeout_s)
    with runner, tempfile.TemporaryDirectory(prefix="mpconform-drift-") as tmp:
        implementation = probe_implementation(runner, Path(tmp), timeout)
        script = Path(tmp) / "mpconform_drift_probe.py"
        script.write_text(probe_script(spec), encoding="utf-8")
        ex = runner.execute(script, timeout)
    if ex.error:
        raise RunnerError(f"port {port}: {ex.error}")
    if ex.timed_out:
        raise RunnerError(f"port {port}: the drift probe timed out after {timeout:g} s")
    found = parse_probe_output(ex.output)
    return PortDrift(port, implementation, classify(spec, profile, found))
