"""Port profiles (ports/<port>/port.yaml): a port's differences from the docs, as data."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator

from .errors import SourceError, SourceErrors, UnknownPort
from .spec import Behaviour, Spec
from .yamlsource import load_yaml


@dataclass(frozen=True)
class Status:
    """What the profile says about one behaviour: run it, skip it, or expect it to fail."""

    kind: str  # "run", "skip" or "xfail"
    reason: str = ""
    issue: str = ""


@dataclass
class Profile:
    port: str
    description: str
    runner: str
    runner_options: dict
    disabled: dict[str, str]  # feature -> reason
    expectations: dict[str, dict]
    source: str
    raw: dict = field(repr=False, default_factory=dict)

    def feature_enabled(self, name: str) -> bool:
        return name not in self.disabled

    def status(self, behaviour: Behaviour) -> Status:
        missing = [f for f in behaviour.requires if f in self.disabled]
        if missing:
            return Status("skip", "; ".join(f"feature {f} absent: {self.disabled[f]}" for f in missing))
        exp = self.expectations.get(behaviour.id)
        if exp:
            return Status("xfail", exp["reason"], exp.get("issue", ""))
        return Status("run")


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
        raw=data,
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
