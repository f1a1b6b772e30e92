"""The manifest of a generated suite as typed data: one reader, one writer.

The compiler writes suites/<port>/manifest.json through `manifest_bytes`; a run, the
pytest plugin, the lab and the tests read it through `read_manifest` (or build one
with the dataclasses and write it the same way). The JSON is the committed format:
optional keys are left out when empty, exactly as the compiler has always written them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mpconform.core.errors import MpconformError
from mpconform.core.inputfile import InputFileError, load_json
from mpconform.core.jsonindent import indented

MANIFEST_FORMAT = 2


class ManifestError(MpconformError):
    """A manifest that cannot be read, or is not in this format: one line naming the file."""


@dataclass(frozen=True)
class InteractStep:
    """Input a test sends while it runs, once its output holds a marker."""

    after: str  # what the program prints before the input is sent
    send: str


@dataclass(frozen=True)
class DocCitation:
    """The doc passage a behaviour encodes: its section and a few quoted words."""

    section: str
    quote: str


@dataclass(frozen=True)
class TestEntry:
    """One behaviour of the suite. status/reason/issue are the profile's as compiled (shown
    in the committed manifest); a run decides them again (core.manifest.plan)."""

    __test__ = False  # not a pytest test class

    id: str
    api: str = ""
    file: str | None = None  # the program, relative to the suite folder (.exp beside it)
    status: str = "run"
    reason: str = ""
    issue: str = ""
    match: str = "exact"
    requires: tuple[str, ...] = ()
    interact: tuple[InteractStep, ...] = ()
    needs: dict[str, int] = field(default_factory=dict)  # limit -> the least the behaviour needs
    repl: tuple[str, ...] = ()  # lines typed at the friendly REPL after the program
    doc: DocCitation = DocCitation("", "")
    source: str = ""
    timeout_s: float | None = None
    since: str | None = None  # the release the claim first held upstream
    documented: str | None = None  # the release whose docs first state it

    def with_status(self, status: str, reason: str = "", issue: str = "") -> TestEntry:
        """This entry with another status: replace()'s work without its __init__, which
        the compiler and every run do for each behaviour of each port."""
        new = object.__new__(TestEntry)
        new.__dict__.update(self.__dict__, status=status, reason=reason, issue=issue)
        return new

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "requires": list(self.requires),
            "interact": [{"after": s.after, "send": s.send} for s in self.interact],
        }
        if self.needs:
            out["needs"] = dict(self.needs)
        if self.repl:
            out["repl"] = list(self.repl)
        out.update({
            "api": self.api, "status": self.status, "reason": self.reason, "issue": self.issue, "match": self.match,
            "doc": {"section": self.doc.section, "quote": self.doc.quote}, "source": self.source,
            "timeout_s": self.timeout_s, "file": self.file,
        })
        if self.since:
            out["since"] = self.since
        if self.documented:
            out["documented"] = self.documented
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TestEntry:
        doc = d.get("doc") or {}
        interact = d.get("interact")
        # Every field set, as __init__ would, without a frozen __init__'s setattr per field:
        # a run reads every behaviour of the port before its first test.
        new = object.__new__(cls)
        new.__dict__.update(
            id=d["id"], api=d.get("api", ""), file=d.get("file"), status=d.get("status", "run"),
            reason=d.get("reason", ""), issue=d.get("issue") or "", match=d.get("match", "exact"),
            requires=tuple(d.get("requires", ())),
            interact=tuple(InteractStep(s["after"], s["send"]) for s in interact) if interact else (),
            needs=dict(d.get("needs") or {}), repl=tuple(d.get("repl", ())),
            doc=DocCitation(doc.get("section", ""), doc.get("quote", "")), source=d.get("source", ""),
            timeout_s=d.get("timeout_s"), since=d.get("since"), documented=d.get("documented"),
        )
        return new


@dataclass(frozen=True)
class FeatureSetting:
    """A profile's word on a feature, as written (`reason` may be left out when enabled)."""

    enabled: bool
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"enabled": self.enabled, **({"reason": self.reason} if self.reason is not None else {})}


@dataclass(frozen=True)
class FeatureDecl:
    """A feature of the spec as the manifest records it, with the profile's setting."""

    description: str = ""
    macros: tuple[dict[str, Any], ...] = ()  # {name, value, default?}
    implies: tuple[str, ...] = ()
    probe: str = ""
    probe_output: str = ""
    probe_output_tells: str = ""
    probe_interact: tuple[InteractStep, ...] = ()
    since: str | None = None
    profile: FeatureSetting | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description, "macros": [dict(m) for m in self.macros],
                               "implies": list(self.implies), "probe": self.probe, "probe_output": self.probe_output}
        if self.probe_output_tells:
            out["probe_output_tells"] = self.probe_output_tells
        if self.probe_interact:
            out["probe_interact"] = [{"after": s.after, "send": s.send} for s in self.probe_interact]
        if self.since:
            out["since"] = self.since
        if self.profile is not None:
            out["profile"] = self.profile.to_json()
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FeatureDecl:
        p = d.get("profile")
        return cls(
            description=d.get("description", ""), macros=tuple(dict(m) for m in d.get("macros", ())),
            implies=tuple(d.get("implies", ())), probe=d.get("probe", ""), probe_output=d.get("probe_output", ""),
            probe_output_tells=d.get("probe_output_tells", ""),
            probe_interact=tuple(InteractStep(s["after"], s["send"]) for s in d.get("probe_interact", ())),
            since=d.get("since"),
            profile=FeatureSetting(bool(p["enabled"]), p.get("reason")) if p is not None else None,
        )


@dataclass(frozen=True)
class LimitSetting:
    """A profile's value for a limit, with why."""

    value: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class LimitDecl:
    """An implementation limit of the spec, its probe, and the profile's declared value."""

    description: str = ""
    macros: tuple[dict[str, Any], ...] = ()
    requires: tuple[str, ...] = ()
    documented_minimum: int = 0
    measures_up_to: int = 0
    probe: str = ""
    profile: LimitSetting | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"description": self.description, "macros": [dict(m) for m in self.macros],
                               "requires": list(self.requires), "documented_minimum": self.documented_minimum,
                               "measures_up_to": self.measures_up_to, "probe": self.probe}
        if self.profile is not None:
            out["profile"] = self.profile.to_json()
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LimitDecl:
        p = d.get("profile")
        return cls(
            description=d.get("description", ""), macros=tuple(dict(m) for m in d.get("macros", ())),
            requires=tuple(d.get("requires", ())), documented_minimum=d.get("documented_minimum", 0),
            measures_up_to=d["measures_up_to"], probe=d["probe"],
            profile=LimitSetting(p["value"], p["reason"]) if p is not None else None,
        )


@dataclass(frozen=True)
class Expectation:
    """A known divergence: the behaviour is expected to fail on this port, and why."""

    reason: str
    issue: str | None = None
    outcome: str = "xfail"

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "reason": self.reason, **({"issue": self.issue} if self.issue is not None else {})}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Expectation:
        return cls(d["reason"], d.get("issue"), d.get("outcome", "xfail"))


@dataclass(frozen=True)
class RunnerSpec:
    """The runner a port's suite runs on, with its options."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "options": dict(self.options)}


@dataclass(frozen=True)
class Manifest:
    """suites/<port>/manifest.json."""

    port: str
    runner: RunnerSpec
    tests: tuple[TestEntry, ...] = ()
    features: dict[str, FeatureDecl] = field(default_factory=dict)
    limits: dict[str, LimitDecl] = field(default_factory=dict)  # written only when the spec has some
    expectations: dict[str, Expectation] = field(default_factory=dict)
    module: str = "micropython"
    description: str = ""
    profile: str = ""  # the profile file it was compiled from
    spec_digest: str = ""
    expect_firmware: dict[str, Any] | None = None  # a run on other firmware stops before it starts
    format: int = MANIFEST_FORMAT

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format, "module": self.module, "port": self.port, "description": self.description,
            "profile": self.profile, "spec_digest": self.spec_digest, "runner": self.runner.to_json(),
            "features": {n: f.to_json() for n, f in self.features.items()},
        }
        if self.limits:
            out["limits"] = {n: lim.to_json() for n, lim in self.limits.items()}
        out["expectations"] = {b: e.to_json() for b, e in self.expectations.items()}
        out["tests"] = [t.to_json() for t in self.tests]
        if self.expect_firmware:
            out["expect_firmware"] = dict(self.expect_firmware)
        return out

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Manifest:
        runner = d["runner"]
        return cls(
            format=d["format"], module=d.get("module", "micropython"), port=d["port"],
            description=d.get("description", ""), profile=d.get("profile", ""), spec_digest=d.get("spec_digest", ""),
            runner=RunnerSpec(runner["name"], dict(runner.get("options") or {})),
            features={n: FeatureDecl.from_json(f) for n, f in (d.get("features") or {}).items()},
            limits={n: LimitDecl.from_json(lim) for n, lim in (d.get("limits") or {}).items()},
            expectations={b: Expectation.from_json(e) for b, e in (d.get("expectations") or {}).items()},
            tests=tuple(TestEntry.from_json(t) for t in d["tests"]),
            expect_firmware=dict(d["expect_firmware"]) if d.get("expect_firmware") else None,
        )

    def with_tests(self, tests: Iterable[TestEntry]) -> Manifest:
        return replace(self, tests=tuple(tests))


def read_manifest(path: Path) -> Manifest:
    """The manifest at `path`; ManifestError (one line naming the file, exit 2) when it is
    missing, not JSON, of another format, or lacks what a run needs."""
    try:
        data = load_json(path)
    except InputFileError as exc:
        raise ManifestError(str(exc)) from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: not a suite manifest (a JSON object written by `mpconform compile`)")
    if data.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{path}: manifest format {data.get('format')!r}, but this mpconform reads format "
                            f"{MANIFEST_FORMAT} only; run `mpconform compile`")
    try:
        return Manifest.from_json(data)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ManifestError(f"{path}: not a suite manifest this mpconform reads ({type(exc).__name__}: {exc}); "
                            "run `mpconform compile`") from None


def _dumps(value: object) -> str:
    return indented(value)  # json.dumps(value, indent=1, sort_keys=True, ensure_ascii=True)


def manifest_bytes(manifest: Manifest, memo: dict[tuple[str, str, str, str], str] | None = None) -> bytes:
    """The manifest's committed bytes (`memo`: shared by the ports of one spec). A test
    entry is turned into JSON only when `memo` does not have its text yet: most entries
    are the same on every port."""
    memo = {} if memo is None else memo
    if not manifest.tests:
        return manifest_json(manifest.to_json(), memo)
    doc = replace(manifest, tests=()).to_json()
    entries: list[dict[str, Any] | tuple[str, str, str, str]] = []
    for t in manifest.tests:
        key = (t.id, t.status, t.reason, t.issue)
        entries.append(key if key in memo else t.to_json())
    return manifest_json({**doc, "tests": entries}, memo)


def manifest_json(doc: dict[str, Any], memo: dict[tuple[str, str, str, str], str]) -> bytes:
    """json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=True) + newline. Python's
    indenting encoder is slow and most test entries are the same for every port, so each
    distinct entry is indented once and the list is joined around them. Within `memo` an
    entry is known by its id and the status the port gives it (the rest is the spec's)."""
    tests = doc["tests"]
    if not tests:
        return (_dumps(doc) + "\n").encode()
    marker = "\x00tests\x00"  # cannot occur in ASCII-escaped JSON
    head = _dumps({**doc, "tests": marker})
    if head.count(json.dumps(marker)) != 1:  # the data holds the marker itself: take the slow way
        whole = [json.loads(memo[e]) if isinstance(e, tuple) else e for e in tests]
        return (_dumps({**doc, "tests": whole}) + "\n").encode()
    parts = []
    for entry in tests:
        if isinstance(entry, tuple):  # manifest_bytes found its text in memo already
            parts.append(memo[entry])
            continue
        key = (entry["id"], entry["status"], entry["reason"], entry["issue"])
        text = memo.get(key)
        if text is None:
            text = memo[key] = "  " + indented(entry, "  ")
        parts.append(text)
    body = "[\n" + ",\n".join(parts) + "\n ]"
    return (head.replace(json.dumps(marker), body, 1) + "\n").encode()


def write_manifest(path: Path, manifest: Manifest) -> None:
    from mpconform.core.atomicfile import write_atomic

    write_atomic(Path(path), manifest_bytes(manifest).decode())
