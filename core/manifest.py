"""What a suite's manifest says about features, and what a behaviour's status is.

The compiler records, per port, the profile's feature settings and expectations, and
per behaviour the features it requires. Whether a behaviour runs is decided here, from
those and from the features in force for this run: the profile's, or the ones the
probe found on the port (`--detect`). The compiler uses the same decision to show a
profile's statuses in the committed manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass

WILDCARD_LINE = "########"  # in expect_regex: any run of lines, as upstream's run-tests.py

PROFILE = "profile"
PROBE = "probe"


@dataclass(frozen=True)
class FeatureState:
    """A feature in force for a run. `enabled` None: nobody could tell (run as present)."""

    enabled: bool | None
    source: str  # "profile" or "probe"
    evidence: str = ""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class LimitState:
    """An implementation limit in force for a run. `value` None: nobody knows it (behaviours
    needing it run, as an unlisted feature is taken as present, and a failure says so)."""

    value: int | None
    source: str  # "profile" or "probe"
    evidence: str = ""
    at_least: bool = False  # the probe stopped counting here: the port has this much or more

    def to_json(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        if self.value is None:
            return "unknown"
        return f"{'at least ' if self.at_least else ''}{self.value}"


@dataclass(frozen=True)
class Status:
    kind: str  # "run", "skip" or "xfail"
    reason: str = ""
    issue: str = ""


def profile_features(manifest_features: dict) -> dict[str, FeatureState]:
    """The profile's word on every feature of the spec (unlisted means present, unless it
    needs a feature the profile turns off)."""
    out = {}
    for name, f in manifest_features.items():
        setting = f.get("profile")
        if setting is None:
            out[name] = FeatureState(True, PROFILE, "not listed in the profile: present")
        elif setting["enabled"]:
            out[name] = FeatureState(True, PROFILE, setting.get("reason") or "enabled in the profile")
        else:
            out[name] = FeatureState(False, PROFILE, setting["reason"])
    return close_over_implies(out, manifest_features)


def close_over_implies(states: dict[str, FeatureState], manifest_features: dict) -> dict[str, FeatureState]:
    """A feature whose implied feature is absent is absent too (heap_locked needs gc)."""
    out = dict(states)
    changed = True
    while changed:
        changed = False
        for name, state in out.items():
            if state.enabled is False:
                continue
            missing = [i for i in manifest_features.get(name, {}).get("implies", []) if out.get(i) and out[i].enabled is False]
            if missing:
                out[name] = FeatureState(False, state.source, f"needs {', '.join(missing)}, which is absent")
                changed = True
    return out


def merge_probe(
    profile: dict[str, FeatureState], answers: dict, manifest_features: dict
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


def profile_limits(manifest_limits: dict) -> dict[str, LimitState]:
    """The profile's word on every limit of the spec (undeclared means unknown)."""
    out = {}
    for name, lim in manifest_limits.items():
        setting = lim.get("profile")
        if setting is None:
            out[name] = LimitState(None, PROFILE, "not declared in the profile (run with --detect to measure it)")
        else:
            out[name] = LimitState(setting["value"], PROFILE, setting["reason"])
    return out


def merge_probe_limits(profile: dict[str, LimitState], answers: dict, detect: bool = True) -> dict[str, LimitState]:
    """Limits in force. With --detect, what the probe measured, else the profile's value.
    Without, the profile's value, else what the probe measured: an undeclared limit is no
    claim to prefer over a measurement. Neither known: unknown (the behaviour runs)."""
    out = {}
    for name, state in profile.items():
        answer = answers.get(name)
        measured = answer is not None and answer.value is not None
        if measured and (detect or state.value is None):
            out[name] = LimitState(answer.value, PROBE, answer.evidence, answer.at_least)
        else:
            why = "not probed" if answer is None else "probe could not tell: " + answer.evidence if not measured else ""
            out[name] = LimitState(state.value, PROFILE, f"{state.evidence} ({why})" if why else state.evidence)
    return out


def limit_disagreements(profile: dict[str, LimitState], answers: dict) -> list[str]:
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


def disagreements(profile: dict[str, FeatureState], answers: dict) -> list[str]:
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


def release_key(release: str) -> tuple:
    """v1.22.0 -> (1, 22, 0); `unreleased` sorts after every release, anything unparsable first."""
    if release == UNRELEASED:
        return (float("inf"),)
    parts = []
    for piece in release.lstrip("v").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts)


def decide(
    test: dict,
    features: dict[str, FeatureState],
    expectations: dict,
    *,
    can_interact: bool = True,
    can_repl: bool = True,
    runner_name: str = "",
    docs_release: str | None = None,
    limits: dict[str, LimitState] | None = None,
) -> Status:
    """Run, skip (with why) or expect to fail (with why) one behaviour."""
    missing = [f for f in test.get("requires", []) if f in features and features[f].enabled is False]
    if missing:
        return Status("skip", "; ".join(f"feature {f} absent: {features[f].evidence}" for f in missing))
    short = short_limits(test, limits or {})
    if short:
        return Status("skip", "; ".join(short))
    if test.get("interact") and not can_interact:
        return Status("skip", f"sends input while it runs, which the {runner_name or 'this'} runner cannot do")
    if test.get("repl") and not can_repl:
        return Status("skip", f"types at the friendly REPL after the program, which the {runner_name or 'this'} "
                              "runner never reaches (it runs programs, not a prompt)")
    # The docs' own release when history records it, else the release the claim first held.
    since = test.get("documented") or test.get("since")
    if docs_release and since and release_key(since) > release_key(docs_release):
        return Status("skip", f"documented from {release_text(since)}, after the docs of {docs_release} this run checks")
    exp = expectations.get(test["id"])
    if exp:
        return Status("xfail", exp["reason"], exp.get("issue", ""))
    return Status("run")


def short_limits(test: dict, limits: dict[str, LimitState]) -> list[str]:
    """Why the port has too little of a limit the behaviour needs (a known value below the need)."""
    out = []
    for name, need in sorted((test.get("needs") or {}).items()):
        state = limits.get(name)
        if state is not None and state.value is not None and state.value < need:
            said = "measured" if state.source == PROBE else "declared"
            out.append(f"needs {name} >= {need}; the port's is {state.value} ({said}: {state.evidence})")
    return out


def release_text(release: str) -> str:
    return "upstream's main branch, in no release yet" if release == UNRELEASED else release


def _macros(feature: dict) -> str:
    return ", ".join(f"{m['name']}={m['value']}" for m in feature.get("macros", []))


def explain_requirements(test: dict, features: dict[str, FeatureState], manifest_features: dict,
                         limits: dict[str, LimitState] | None = None) -> str:
    """Why a failure may be a configuration or version gap: what the behaviour needs, with
    each feature's macros and first release, and the release its claim first held."""
    parts = []
    for name in test.get("requires", []):
        info = manifest_features.get(name, {})
        text = name
        extra = [x for x in (_macros(info), f"since {release_text(info['since'])}" if info.get("since") else "") if x]
        if extra:
            text += f" ({'; '.join(extra)})"
        state = features.get(name)
        if state is not None:
            text += f" [{'present' if state.enabled else 'absent' if state.enabled is False else 'unknown'}: {state.source}]"
        parts.append(text)
    lines = []
    if parts:
        lines.append("needs: " + ", ".join(parts))
    needs = test.get("needs") or {}
    if needs:
        limits = limits or {}
        said = [f"{n} >= {v} [{limits[n].text() if n in limits else 'unknown'}"
                f"{': ' + limits[n].source if n in limits and limits[n].value is not None else ''}]"
                for n, v in sorted(needs.items())]
        lines.append("leans on: " + ", ".join(said))
    # The behaviour's own release, when later than every feature's (those are named above).
    since = test.get("since")
    feature_releases = [manifest_features.get(n, {}).get("since") for n in test.get("requires", [])]
    latest = max((r for r in feature_releases if r), key=release_key, default=None)
    if since and (latest is None or release_key(since) > release_key(latest)):
        lines.append(f"holds upstream since {release_text(since)}: a port built from older sources differs here")
    if test.get("documented"):
        lines.append(f"documented upstream since {release_text(test['documented'])}")
    return "\n".join(lines)
