"""Port profiles (ports/<port>/port.yaml): a port's differences from the docs, as data."""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from mpconform.core.errors import SourceError, SourceErrors, UnknownPort
from mpconform.core.manifest import PROFILE, Capabilities, FeatureState, LimitState, Status, plan
from mpconform.core.model import Expectation, InteractStep, TestEntry
from mpconform.core.wholematch import SchemaChecker
from mpconform.generator.spec import Behaviour, Spec
from mpconform.generator.yamlsource import load_yaml


def behaviour_entry(behaviour: Behaviour) -> TestEntry:
    """The fields of a behaviour that decide its status (as the manifest records them)."""
    return TestEntry(
        id=behaviour.id,
        requires=tuple(behaviour.requires),
        interact=tuple(InteractStep(a, s) for a, s in behaviour.interact),
        needs=dict(behaviour.needs),
        repl=tuple(behaviour.repl),
    )


@dataclass
class Profile:
    port: str
    description: str
    runner: str
    runner_options: dict
    disabled: dict[str, str]  # feature -> reason
    expectations: dict[str, dict]
    source: str
    settings: dict[str, dict] = field(default_factory=dict)  # feature -> {enabled, reason}, as written
    expect_firmware: dict | None = None  # a run against other firmware stops before it starts
    extends: str | None = None  # the port whose profile this one starts from (its C scaffold is that port's)
    limits: dict[str, dict] = field(default_factory=dict)  # limit -> {value, reason}, as written

    @functools.cached_property
    def _limit_states(self) -> dict[str, LimitState]:
        return self.limit_states()

    @functools.cached_property
    def _expectations(self) -> dict[str, Expectation]:
        return {b: Expectation.from_json(e) for b, e in self.expectations.items()}

    def feature_enabled(self, name: str) -> bool:
        return name not in self.disabled

    def feature_states(self) -> dict[str, FeatureState]:
        return {name: FeatureState(False, "profile", why) for name, why in self.disabled.items()}

    def limit_states(self) -> dict[str, LimitState]:
        return {name: LimitState(s["value"], PROFILE, s["reason"]) for name, s in self.limits.items()}

    def status(self, behaviour: Behaviour, states: dict[str, FeatureState] | None = None,
               entry: TestEntry | None = None) -> Status:
        """The behaviour's status on this port (`states`: feature_states(), and `entry`: its
        behaviour_entry(), when the caller asks for many behaviours)."""
        # the compiler shows the profile's word alone: a runner able to do everything, all docs
        return plan(
            behaviour_entry(behaviour) if entry is None else entry,
            self.feature_states() if states is None else states,
            self._limit_states,
            _COMPILER_VIEW,
            None,
            self._expectations,
        )


_COMPILER_VIEW = Capabilities()  # the compiler's runner: able to do everything


def option_errors(doc, runner: str, options: dict) -> list[SourceError]:
    """The runner's declared options against the profile's (runners/options.py); a
    runner not installed here, or one that declares none, is checked by the run."""
    from mpconform.core.errors import RunnerError
    from mpconform.core.options import problems
    from mpconform.core.registry import load_runner

    try:
        declared = load_runner(runner).OPTIONS
    except RunnerError:
        return []
    if declared is None:
        return []
    return [doc.error(("runner", "options", key), why) for key, why in problems(declared, options)]


def profile_names(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "ports").glob("*/port.yaml"))


def unknown_port(root: Path, port: str) -> str:
    """The one message for a port name without a profile, naming the ones there are."""
    return f"unknown port '{port}': no ports/{port}/port.yaml (known ports: {', '.join(profile_names(root)) or 'none'})"


def load_profile(root: Path, port: str, spec: Spec) -> Profile:
    path = root / "ports" / port / "port.yaml"
    if not path.is_file():
        raise UnknownPort(unknown_port(root, port))
    return load_profile_file(root, path, spec, expected_port=port)


def load_profile_file(root: Path, path: Path, spec: Spec, expected_port: str | None = None) -> Profile:
    """A profile from any file: one of this project's ports, or a user's own that may
    start with `extends: <port>` and override what differs."""
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        rel = str(path)
    doc = load_yaml(path, rel)
    errors = [doc.error(tuple(e.absolute_path), e.message) for e in _schema(root).iter_errors(doc.data)]
    if errors:
        raise SourceErrors(errors)
    data, inherited = doc.data, set()
    if data.get("extends"):
        base = _base_data(root, data["extends"], doc, chain=(data["port"],))
        inherited = set(base.get("expectations", {})) - set(data.get("expectations", {}))
        data = merge_profiles(base, data)
    if expected_port is not None and data["port"] != expected_port:
        errors.append(doc.error(("port",), f"must match its directory name '{expected_port}'"))
    disabled = {}
    for name, setting in data.get("features", {}).items():
        if name not in spec.features:
            errors.append(doc.error(("features", name), f"unknown feature '{name}'{did_you_mean(name, spec.features)}"))
        elif not setting["enabled"]:
            disabled[name] = setting["reason"]
    for name in data.get("limits", {}):
        if name not in spec.limits:
            errors.append(doc.error(("limits", name), f"unknown limit '{name}'"))
    derived = derive_disabled(spec, disabled)
    for name, setting in (doc.data.get("features") or {}).items():  # this file's own word, not a base's
        if name in derived and name not in disabled and setting.get("enabled") is True:
            errors.append(doc.error(("features", name, "enabled"), f"'{name}' is enabled, but it {derived[name]}"))
    disabled.update(derived)
    errors += option_errors(doc, data["runner"]["name"], data["runner"].get("options", {}))
    ids = {b.id: b for b in spec.behaviours}
    profile = Profile(
        port=data["port"],
        description=data["description"],
        runner=data["runner"]["name"],
        runner_options=data["runner"].get("options", {}),
        disabled=disabled,
        expectations=dict(data.get("expectations", {})),
        source=rel,
        settings={name: dict(setting) for name, setting in data.get("features", {}).items()},
        expect_firmware=dict(data["expect_firmware"]) if data.get("expect_firmware") else None,
        extends=doc.data.get("extends"),
        limits={name: dict(s) for name, s in data.get("limits", {}).items()},
    )
    for bid in list(profile.expectations):
        if bid not in ids:
            errors.append(doc.error(("expectations", bid), f"unknown behaviour '{bid}'{did_you_mean(bid, ids)}"))
        elif profile.status(ids[bid]).kind == "skip":
            if bid in inherited:  # the base expected it to fail; this profile does not run it at all
                del profile.expectations[bid]
            else:
                errors.append(doc.error(("expectations", bid), "behaviour is already skipped by a disabled feature"))
    if errors:
        raise SourceErrors(errors)
    return profile


def did_you_mean(name: str, known) -> str:
    """`; did you mean 'x'?` for the closest known name, or nothing."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def derive_disabled(spec: Spec, disabled: dict[str, str]) -> dict[str, str]:
    """The features off because they need (imply, directly or through others) a disabled
    one, each with a reason naming the cause: asyncio off turns asyncio_streams off."""
    off = dict(disabled)
    changed = True
    while changed:
        changed = False
        for name, feature in spec.features.items():
            causes = [c for c in feature.implies if c in off]
            if name not in off and causes:
                off[name] = f"needs {', '.join(causes)}, which the profile turns off"
                changed = True
    return {name: why for name, why in off.items() if name not in disabled}


def merge_profiles(base: dict, child: dict) -> dict:
    """`child` over `base`: its own port and description, the base's runner with the
    child's options on top, and features and expectations merged name by name."""
    runner = dict(base["runner"])
    if "runner" in child:
        same = child["runner"].get("name", runner["name"]) == runner["name"]
        runner = {"name": child["runner"].get("name", runner["name"]),
                  "options": {**(runner.get("options", {}) if same else {}), **child["runner"].get("options", {})}}
    merged = {
        "port": child["port"],
        "description": child.get("description", base["description"]),
        "runner": runner,
        "features": {**base.get("features", {}), **child.get("features", {})},
        "expectations": {**base.get("expectations", {}), **child.get("expectations", {})},
    }
    limits = {**base.get("limits", {}), **child.get("limits", {})}
    if limits:
        merged["limits"] = limits
    firmware = child.get("expect_firmware", base.get("expect_firmware"))
    if firmware:
        merged["expect_firmware"] = firmware
    return merged


def _base_data(root: Path, name: str, doc, chain: tuple[str, ...]) -> dict:
    """The resolved data of the profile `name` extends (itself possibly extending another)."""
    if name in chain:
        raise SourceErrors([doc.error(("extends",), "profiles extend each other in a loop: " + " -> ".join((*chain, name)))])
    path = root / "ports" / name / "port.yaml"
    if not path.is_file():
        raise SourceErrors([doc.error(("extends",), unknown_port(root, name))])
    rel = path.relative_to(root).as_posix()
    base_doc = load_yaml(path, rel)
    data = base_doc.data
    if next(_schema(root).iter_errors(data), None) is not None:
        raise SourceErrors([doc.error(("extends",), f"{rel}, which this profile extends, has errors of its own")])
    if isinstance(data, dict) and data.get("extends"):
        return merge_profiles(_base_data(root, data["extends"], base_doc, (*chain, name)), data)
    return data


def _schema(root: Path) -> SchemaChecker:
    path = root / "ports" / "schema.json"
    return _checker(path.read_text(encoding="utf-8"))


@functools.cache  # one per schema text: a compile checks every port's profile against it
def _checker(text: str) -> SchemaChecker:
    return SchemaChecker(json.loads(text))


def load_profiles(root: Path, spec: Spec) -> list[Profile]:
    """Every profile; collects all their errors before raising."""
    profiles, errors = [], []
    for name in profile_names(root):
        try:
            profiles.append(load_profile(root, name, spec))
        except SourceError as exc:
            errors.append(exc)
        except SourceErrors as exc:
            errors.extend(exc.errors)
    if errors:
        raise SourceErrors(errors)
    return profiles
