"""What a suite's manifest says about features, and what a behaviour's status is.

The compiler records, per port, the profile's feature settings and expectations, and
per behaviour the features it requires. Whether a behaviour runs is decided here, from
those and from the features in force for this run: the profile's, or the ones the
probe found on the port (`--detect`). The compiler uses the same decision to show a
profile's statuses in the committed manifest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mpconform.core.model import Expectation, FeatureDecl, LimitDecl, TestEntry

WILDCARD_LINE = "########"  # in expect_regex: any run of lines, as upstream's run-tests.py

PROFILE = "profile"
PROBE = "probe"


@dataclass(frozen=True)
class FeatureState:
    """A feature in force for a run. `enabled` None: nobody could tell (run as present)."""

    enabled: bool | None
    source: str  # "profile" or "probe"
    evidence: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LimitState:
    """An implementation limit in force for a run. `value` None: nobody knows it (behaviours
    needing it run, as an unlisted feature is taken as present, and a failure says so)."""

    value: int | None
    source: str  # "profile" or "probe"
    evidence: str = ""
    at_least: bool = False  # the probe stopped counting here: the port has this much or more

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        if self.value is None:
            return "unknown"
        return f"{'at least ' if self.at_least else ''}{self.value}"


@dataclass(frozen=True)
class Status:
    """What a run does with a test, and why when it does not simply run it."""

    kind: str  # "run", "skip" or "xfail"
    reason: str = ""
    issue: str = ""


def profile_features(manifest_features: Mapping[str, FeatureDecl]) -> dict[str, FeatureState]:
    """The profile's word on every feature of the spec (unlisted means present, unless it
    needs a feature the profile turns off)."""
    out = {}
    for name, f in manifest_features.items():
        setting = f.profile
        if setting is None:
            out[name] = FeatureState(True, PROFILE, "not listed in the profile: present")
        elif setting.enabled:
            out[name] = FeatureState(True, PROFILE, setting.reason or "enabled in the profile")
        else:
            out[name] = FeatureState(False, PROFILE, setting.reason or "")
    return close_over_implies(out, manifest_features)


def close_over_implies(states: dict[str, FeatureState],
                       manifest_features: Mapping[str, FeatureDecl]) -> dict[str, FeatureState]:
    """A feature whose implied feature is absent is absent too (heap_locked needs gc)."""
    out = dict(states)
    changed = True
    while changed:
        changed = False
        for name, state in out.items():
            if state.enabled is False:
                continue
            implies = manifest_features[name].implies if name in manifest_features else ()
            missing = [i for i in implies if out.get(i) and out[i].enabled is False]
            if missing:
                out[name] = FeatureState(False, state.source, f"needs {', '.join(missing)}, which is absent")
                changed = True
    return out


def merge_probe(
    profile: dict[str, FeatureState], answers: Mapping[str, Any], manifest_features: Mapping[str, FeatureDecl]
) -> dict[str, FeatureState]:
    """Features in force with --detect: the probe's answers; where it could not tell, the profile's."""
    out = {}
    for name, state in profile.items():
        answer = answers.get(name)
        if answer is None:
            out[name] = FeatureState(state.enabled, PROFILE, f"{state.evidence} (not probed)")
        elif answer.enabled is None:
            out[name] = FeatureState(state.enabled, PROFILE, f"{state.evidence} (probe could not tell: {answer.evidence})")
        else:
            out[name] = FeatureState(answer.enabled, PROBE, answer.evidence)
    return close_over_implies(out, manifest_features)


def profile_limits(manifest_limits: Mapping[str, LimitDecl]) -> dict[str, LimitState]:
    """The profile's word on every limit of the spec (undeclared means unknown)."""
    out = {}
    for name, lim in manifest_limits.items():
        if lim.profile is None:
            out[name] = LimitState(None, PROFILE, "not declared in the profile (run with --detect to measure it)")
        else:
            out[name] = LimitState(lim.profile.value, PROFILE, lim.profile.reason)
    return out


def merge_probe_limits(profile: dict[str, LimitState], answers: Mapping[str, Any],
                       detect: bool = True) -> dict[str, LimitState]:
    """Limits in force. With --detect, what the probe measured, else the profile's value.
    Without, the profile's value, else what the probe measured: an undeclared limit is no
    claim to prefer over a measurement. Neither known: unknown (the behaviour runs)."""
    out = {}
    for name, state in profile.items():
        answer = answers.get(name)
        measured = answer is not None and answer.value is not None
        if answer is not None and measured and (detect or state.value is None):
            out[name] = LimitState(answer.value, PROBE, answer.evidence, answer.at_least)
        else:
            why = "not probed" if answer is None else "probe could not tell: " + answer.evidence if not measured else ""
            out[name] = LimitState(state.value, PROFILE, f"{state.evidence} ({why})" if why else state.evidence)
    return out


def limit_disagreements(profile: dict[str, LimitState], answers: Mapping[str, Any]) -> list[str]:
    """One line per limit the profile declares where the port's probe measured otherwise."""
    lines = []
    for name, state in sorted(profile.items()):
        answer = answers.get(name)
        if answer is None or answer.value is None or state.value is None:
            continue
        if answer.value == state.value or (answer.at_least and state.value >= answer.value):
            continue
        measured = f"{'at least ' if answer.at_least else ''}{answer.value}"
        lines.append(f"{name}: profile says {state.value}, the port's probe measured {measured} ({answer.evidence})")
    return lines


def disagreements(profile: dict[str, FeatureState], answers: Mapping[str, Any]) -> list[str]:
    """One line per feature where the profile and the port's probe differ."""
    lines = []
    for name, state in sorted(profile.items()):
        answer = answers.get(name)
        if answer is None or answer.enabled is None or answer.enabled == state.enabled:
            continue
        says = "present" if answer.enabled else "absent"
        profile_says = "present" if state.enabled else "absent"
        lines.append(f"{name}: profile says {profile_says}, the port's probe says {says} ({answer.evidence})")
    return lines


UNRELEASED = "unreleased"  # on upstream's main branch, in no release yet


def release_key(release: str) -> tuple[float, ...]:
    """v1.22.0 -> (1, 22, 0); `unreleased` sorts after every release, anything unparsable first."""
    if release == UNRELEASED:
        return (float("inf"),)
    parts: list[float] = []
    for piece in release.lstrip("v").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


@dataclass(frozen=True)
class Capabilities:
    """What the runner of a run can do, as its attributes say."""

    can_interact: bool = True  # send input while a program runs
    can_repl: bool = True  # reach the friendly REPL after the program
    runner_name: str = ""

    @classmethod
    def of(cls, runner: Any) -> Capabilities:
        return cls(bool(runner.can_interact), bool(runner.can_repl), runner.name)


def plan(
    test: TestEntry,
    features: Mapping[str, FeatureState],
    limits: Mapping[str, LimitState],
    capabilities: Capabilities,
    docs_release: str | None,
    expectations: Mapping[str, Expectation],
) -> Status:
    """Run, skip (with why) or expect to fail (with why) one behaviour: the one decision,
    made by `run`, by the pytest plugin and by the compiler (for the committed manifest)."""
    missing = [f for f in test.requires if f in features and features[f].enabled is False]
    if missing:
        return Status("skip", "; ".join(f"feature {f} absent: {features[f].evidence}" for f in missing))
    short = short_limits(test, limits) if test.needs else None
    if short:
        return Status("skip", "; ".join(short))
    runner = capabilities.runner_name or "this"
    if test.interact and not capabilities.can_interact:
        return Status("skip", f"sends input while it runs, which the {runner} runner cannot do")
    if test.repl and not capabilities.can_repl:
        return Status("skip", f"types at the friendly REPL after the program, which the {runner} "
                              "runner never reaches (it runs programs, not a prompt)")
    # The docs' own release when history records it, else the release the claim first held.
    since = test.documented or test.since
    if docs_release and since and release_key(since) > release_key(docs_release):
        return Status("skip", f"documented from {release_text(since)}, after the docs of {docs_release} this run checks")
    exp = expectations.get(test.id)
    if exp:
        return Status("xfail", exp.reason, exp.issue or "")
    return Status("run")


def short_limits(test: TestEntry, limits: Mapping[str, LimitState]) -> list[str]:
    """Why the port has too little of a limit the behaviour needs (a known value below the need)."""
    out = []
    for name, need in sorted(test.needs.items()):
        state = limits.get(name)
        if state is not None and state.value is not None and state.value < need:
            said = "measured" if state.source == PROBE else "declared"
            out.append(f"needs {name} >= {need}; the port's is {state.value} ({said}: {state.evidence})")
    return out


def release_text(release: str) -> str:
    return "upstream's main branch, in no release yet" if release == UNRELEASED else release


def _macros(feature: FeatureDecl) -> str:
    return ", ".join(f"{m['name']}={m['value']}" for m in feature.macros)


def explain_requirements(test: TestEntry, features: Mapping[str, FeatureState],
                         manifest_features: Mapping[str, FeatureDecl],
                         limits: Mapping[str, LimitState] | None = None) -> str:
    """Why a failure may be a configuration or version gap: what the behaviour needs, with
    each feature's macros and first release, and the release its claim first held."""
    parts = []
    for name in test.requires:
        info = manifest_features.get(name) or FeatureDecl()
        text = name
        extra = [x for x in (_macros(info), f"since {release_text(info.since)}" if info.since else "") if x]
        if extra:
            text += f" ({'; '.join(extra)})"
        state = features.get(name)
        if state is not None:
            text += f" [{'present' if state.enabled else 'absent' if state.enabled is False else 'unknown'}: {state.source}]"
        parts.append(text)
    lines = []
    if parts:
        lines.append("needs: " + ", ".join(parts))
    if test.needs:
        limits = limits or {}
        said = [f"{n} >= {v} [{limits[n].text() if n in limits else 'unknown'}"
                f"{': ' + limits[n].source if n in limits and limits[n].value is not None else ''}]"
                for n, v in sorted(test.needs.items())]
        lines.append("leans on: " + ", ".join(said))
    # The behaviour's own release, when later than every feature's (those are named above).
    since = test.since
    feature_releases = [manifest_features[n].since for n in test.requires if n in manifest_features]
    latest = max((r for r in feature_releases if r), key=release_key, default=None)
    if since and (latest is None or release_key(since) > release_key(latest)):
        lines.append(f"holds upstream since {release_text(since)}: a port built from older sources differs here")
    if test.documented:
        lines.append(f"documented upstream since {release_text(test.documented)}")
    return "\n".join(lines)
