"""Port profiles (ports/<port>/port.yaml): a port's differences from the docs, as data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from mpconform.runners.manifest import FeatureState, Status, decide

from .errors import SourceError, SourceErrors, UnknownPort
from .spec import Behaviour, Spec
from .yamlsource import load_yaml


def behaviour_entry(behaviour: Behaviour) -> dict:
    """The fields of a behaviour that decide its status (as the manifest records them)."""
    return {
        "id": behaviour.id,
        "requires": list(behaviour.requires),
        "interact": [{"after": a, "send": s} for a, s in behaviour.interact],
    }


@cache
def runner_can_interact(name: str) -> bool:
    from mpconform.runners import RunnerError, load_runner

    try:
        return bool(getattr(load_runner(name), "can_interact", True))
    except RunnerError:
        return True  # a plug-in not installed here: the run decides


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

    def feature_enabled(self, name: str) -> bool:
        return name not in self.disabled

    def feature_states(self) -> dict[str, FeatureState]:
        return {name: FeatureState(False, "profile", why) for name, why in self.disabled.items()}

    def status(self, behaviour: Behaviour, states: dict[str, FeatureState] | None = None) -> Status:
        """The behaviour's status on this port (`states`: feature_states(), when the caller
        asks for many behaviours)."""
        return decide(
            behaviour_entry(behaviour),
            self.feature_states() if states is None else states,
            self.expectations,
            can_interact=runner_can_interact(self.runner),
            runner_name=self.runner,
        )


def profile_names(root: Path) -> list[str]:
    return sorted(p.parent.name for p in (root / "ports").glob("*/port.yaml"))


def load_profile(root: Path, port: str, spec: Spec) -> Profile:
    path = root / "ports" / port / "port.yaml"
    if not path.is_file():
        known = ", ".join(profile_names(root)) or "none"
        raise UnknownPort(f"unknown port '{port}': no ports/{port}/port.yaml (known ports: {known})")
    rel = path.relative_to(root).as_posix()
    doc = load_yaml(path, rel)
    schema = json.loads((root / "ports" / "schema.json").read_text(encoding="utf-8"))
    errors = [doc.error(tuple(e.absolute_path), e.message) for e in Draft202012Validator(schema).iter_errors(doc.data)]
    if errors:
        raise SourceErrors(errors)
    data = doc.data
    if data["port"] != port:
        errors.append(doc.error(("port",), f"must match its directory name '{port}'"))
    disabled = {}
    for name, setting in data.get("features", {}).items():
        if name not in spec.features:
            errors.append(doc.error(("features", name), f"unknown feature '{name}'"))
        elif not setting["enabled"]:
            disabled[name] = setting["reason"]
    ids = {b.id: b for b in spec.behaviours}
    profile = Profile(
        port=port,
        description=data["description"],
        runner=data["runner"]["name"],
        runner_options=data["runner"].get("options", {}),
        disabled=disabled,
        expectations=data.get("expectations", {}),
        source=rel,
        settings={name: dict(setting) for name, setting in data.get("features", {}).items()},
        expect_firmware=dict(data["expect_firmware"]) if data.get("expect_firmware") else None,
    )
    for bid in profile.expectations:
        if bid not in ids:
            errors.append(doc.error(("expectations", bid), f"unknown behaviour '{bid}'"))
        elif profile.status(ids[bid]).kind == "skip":
            errors.append(doc.error(("expectations", bid), "behaviour is already skipped by a disabled feature"))
    if errors:
        raise SourceErrors(errors)
    return profile


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
