"""C scaffolding derived from the spec: the config macros a port's enabled features
imply, stubs for the hooks its APIs oblige it to provide, and a whole new-port
skeleton for a host build. Nothing here writes; callers get {path: bytes}."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

from mpconform.core.errors import MpconformError, SourceError, SourceErrors
from mpconform.generator.cescape import C_IDENTIFIER, C_MACRO_VALUE, c_comment, c_identifier, c_string
from mpconform.generator.profiles import Profile
from mpconform.generator.spec import Spec, _feature_closure
from mpconform.generator.yamlsource import YamlDoc, load_yaml

HOOKS_FILE = Path(__file__).parent / "templates" / "scaffold" / "hooks.yaml"
SOURCES_FILE = Path(__file__).parent / "templates" / "scaffold" / "sources.yaml"
HOOKS_NAME = "generator/templates/scaffold/hooks.yaml"  # as errors name them
SOURCES_NAME = "generator/templates/scaffold/sources.yaml"
SOURCE_PATH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*\.c$")
MACRO_NAME = re.compile(r"^MICROPY_[A-Z0-9_]+$")
PORT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
STUB_MARK = "mpconform-stub:"  # `bringup` looks for this to tell stubs from real code
# The skeleton's main.c compiles the script it is given, so these cannot be off.
SKELETON_NEEDS = ("compiler",)


@functools.cache  # package data: read once, by the checks and by every port's scaffold (callers only read it)
def _package_yaml(path: Path, display: str) -> YamlDoc:
    return load_yaml(path, display)


def load_hooks() -> dict[str, dict]:
    return _package_yaml(HOOKS_FILE, HOOKS_NAME).data


def load_sources() -> dict[str, list[str]]:
    """Config macro -> the upstream files (beyond py/) a port compiles for it (sources.yaml)."""
    return _package_yaml(SOURCES_FILE, SOURCES_NAME).data or {}


def _check_sources(spec: Spec) -> list[SourceError]:
    """sources.yaml names macros of the spec and plain relative .c paths; so does a hook's `source`."""
    errors: list[SourceError] = []
    doc = _package_yaml(SOURCES_FILE, SOURCES_NAME)
    known = {m["name"] for f in spec.features.values() for m in f.macros}
    if not isinstance(doc.data, dict):
        return [doc.error((), "must map config macro names to lists of source files")]
    for macro, files in doc.data.items():
        if macro not in known:
            errors.append(doc.error((macro,), f"'{macro}' is no macro of a feature in spec/micropython.yaml"))
        if not isinstance(files, list) or not files:
            errors.append(doc.error((macro,), "must be a list of source files"))
            continue
        for i, path in enumerate(files):
            if not isinstance(path, str) or not SOURCE_PATH.fullmatch(path):
                errors.append(doc.error((macro, i), f"{path!r} must be a relative path to a .c file"))
    hooks = _package_yaml(HOOKS_FILE, HOOKS_NAME)
    for hook, role in hooks.data.items():
        path = role.get("source")
        if path is not None and not (isinstance(path, str) and SOURCE_PATH.fullmatch(path)):
            errors.append(hooks.error((hook, "source"), f"{path!r} must be a relative path to a .c file"))
    return errors


def check_spec(spec: Spec) -> None:
    """What the scaffold needs of the spec beyond its schema: macro names and values
    that are C, one value per macro, and a known C role for every hook."""
    errors: list[SourceError] = []
    hooks = load_hooks()
    docs = spec.sources  # parsed once, by load_spec, with their lines
    module_doc = docs["spec/micropython.yaml"]
    first_value: dict[str, tuple[str, object]] = {}
    for fname, feature in spec.features.items():
        for i, macro in enumerate(feature.macros):
            where = ("features", fname, "macros", i)
            name, value = macro["name"], macro["value"]
            if not MACRO_NAME.fullmatch(name):
                errors.append(module_doc.error(where + ("name",), f"macro name '{name}' must match {MACRO_NAME.pattern}"))
            if not C_MACRO_VALUE.fullmatch(str(value)):
                errors.append(module_doc.error(
                    where + ("value",), f"macro value {value!r} must be an integer or one C identifier"))
            if name in first_value and str(first_value[name][1]) != str(value):
                other, other_value = first_value[name]
                errors.append(module_doc.error(
                    where + ("value",), f"{name} is {value!r} here but {other_value!r} in feature '{other}'"))
            first_value.setdefault(name, (fname, value))
    for doc in docs.values():
        for ai, api in enumerate(doc.data.get("apis", []) or []):
            for oi, ob in enumerate(api.get("obligations", [])):
                hook = ob["hook"].removesuffix("()")
                if hook not in hooks:
                    errors.append(doc.error(("apis", ai, "obligations", oi, "hook"),
                                            f"hook '{hook}' has no C role in generator/templates/scaffold/hooks.yaml"))
    errors += _check_sources(spec)
    if errors:
        raise SourceErrors(errors)


@dataclass
class MacroLine:
    name: str
    value: str | None  # None: left at upstream's default
    default: str


@dataclass
class FeaturePlan:
    name: str
    description: str
    enabled: bool
    reason: str
    macros: list[MacroLine]
    apis: list[str]
    behaviours: list[str]


@dataclass
class HookPlan:
    hook: str
    role: dict
    uses: list[tuple[str, str]] = field(default_factory=list)  # (api, description)


def enabled_closure(spec: Spec, disabled: set[str]) -> set[str]:
    """The enabled features: all but the disabled ones and those implying a disabled one."""
    return {f for f in spec.features if not set(_feature_closure([f], spec.features)) & disabled}


def feature_plans(spec: Spec, disabled: dict[str, str]) -> list[FeaturePlan]:
    enabled = enabled_closure(spec, set(disabled))
    needing: dict[str, list[str]] = {}  # feature -> the behaviours requiring it, in spec order: one pass
    for b in spec.behaviours:
        if b.match == "observe":
            continue  # generated edge cases judge no claim of the feature: they would only bury the list
        for f in dict.fromkeys(b.requires):
            needing.setdefault(f, []).append(b.id)
    plans = []
    for name, feature in spec.features.items():
        on = name in enabled
        lines = []
        for m in feature.macros:
            value = str(m["value"])
            if not on:
                value = "0" if value == "1" else None  # a non-boolean macro keeps its default
            lines.append(MacroLine(m["name"], value, str(m.get("default", ""))))
        reason = disabled.get(name, "")
        if not on and not reason:
            reason = "implies a disabled feature"
        plans.append(FeaturePlan(
            name=name,
            description=feature.description,
            enabled=on,
            reason=reason,
            macros=lines,
            apis=[a.name for a in spec.apis if name in a.requires],
            behaviours=needing.get(name, []),
        ))
    return plans


def api_enabled(api, enabled: set[str]) -> bool:
    return set(api.requires) <= enabled


def hook_plans(spec: Spec, enabled: set[str]) -> list[HookPlan]:
    """The hooks that the APIs of the enabled features oblige the port to provide, in spec order."""
    roles = load_hooks()
    plans: dict[str, HookPlan] = {}
    for api in spec.apis:
        if not api_enabled(api, enabled):
            continue
        for ob in api.obligations:
            hook = ob["hook"].removesuffix("()")
            plan = plans.setdefault(hook, HookPlan(hook, roles[hook]))
            plan.uses.append((api.name, ob["description"]))
    return list(plans.values())


@dataclass
class SourcePlan:
    path: str  # from the root of the MicroPython tree
    why: str  # the macro or hook it is compiled for


def source_plans(features: list[FeaturePlan], hooks: list[HookPlan]) -> list[SourcePlan]:
    """The upstream files beyond py/ that the enabled features' macros and the hooks need compiled."""
    sources = load_sources()
    found: dict[str, str] = {}
    for f in features:
        if f.enabled:
            for m in f.macros:
                for path in sources.get(m.name, []):
                    found.setdefault(path, f"{m.name} (feature {f.name})")
    for h in hooks:
        if h.role.get("source"):
            found.setdefault(h.role["source"], f"{h.hook}() (hook of {', '.join(sorted({a for a, _ in h.uses}))})")
    return [SourcePlan(path, why) for path, why in found.items()]


def environment(env: jinja2.Environment | None = None) -> jinja2.Environment:
    from mpconform.generator.render import environment as base_environment

    env = env or base_environment()
    env.filters["c_string"] = c_string
    env.filters["c_comment"] = c_comment
    env.filters["c_identifier"] = c_identifier
    env.globals["STUB_MARK"] = STUB_MARK
    return env


def _render(env, template: str, **context) -> bytes:
    text = env.get_template(template).render(**context)
    return text.encode("ascii")  # the filters leave only ASCII; anything else is a template bug


def render_scaffold(spec: Spec, profile: Profile, env: jinja2.Environment | None = None) -> dict[str, bytes]:
    """ports/<port>/scaffold/: the macros the profile's features imply and stubs for its hooks."""
    env = environment(env)
    features = feature_plans(spec, profile.disabled)
    enabled = {f.name for f in features if f.enabled}
    context = {
        "port": profile.port,
        "description": profile.description,
        "source": profile.source,
        "features": features,
        "hooks": hook_plans(spec, enabled),
        "guard": "MPCONFORM_" + re.sub(r"[^A-Z0-9]", "_", profile.port.upper()),
    }
    base = f"ports/{profile.port}/scaffold"
    return {
        f"{base}/mpconfigport_micropython.h": _render(env, "scaffold/mpconfigport_micropython.h.j2", **context),
        f"{base}/mphalport_micropython.h": _render(env, "scaffold/mphalport_micropython.h.j2", **context),
        f"{base}/mphalport_micropython.c": _render(env, "scaffold/mphalport_micropython.c.j2", **context),
    }


class ScaffoldError(MpconformError):
    """Bad arguments to `mpconform scaffold` (one line, no traceback)."""


def skeleton_disabled(spec: Spec, features: list[str] | None, without: list[str]) -> dict[str, str]:
    """Map each feature the new port leaves out to a reason, from --features / --disable."""
    for name in list(features or []) + list(without):
        if name not in spec.features:
            raise ScaffoldError(f"unknown feature '{name}' (known: {', '.join(spec.features)})")
    wanted = set(spec.features) if features is None else set(_feature_closure(features, spec.features))
    wanted |= set(SKELETON_NEEDS)
    off = {f: "left out of the scaffold (--features)" for f in spec.features if f not in wanted}
    for name, feature in spec.features.items():
        if feature.skeleton and name in wanted:  # the skeleton has no port code for it
            off[name] = f"left out of the scaffold: {feature.skeleton}"
    for name in without:
        if name in SKELETON_NEEDS:
            raise ScaffoldError(f"feature '{name}' cannot be disabled: the skeleton's main.c needs it to run scripts")
        off[name] = "left out of the scaffold (--disable)"
    enabled = enabled_closure(spec, set(off))
    for name in spec.features:
        if name not in enabled and name not in off:
            off[name] = "left out of the scaffold: implies a disabled feature"
    return dict(sorted(off.items()))


def render_skeleton(spec: Spec, name: str, disabled: dict[str, str], env: jinja2.Environment | None = None) -> dict[str, bytes]:
    """A new port's files, relative to its directory."""
    if not PORT_NAME.fullmatch(name) or not C_IDENTIFIER.fullmatch(name):
        raise ScaffoldError(f"port name '{name}' must match {PORT_NAME.pattern}")
    env = environment(env)
    features = feature_plans(spec, disabled)
    enabled = {f.name for f in features if f.enabled}
    hooks = hook_plans(spec, enabled)
    context = {
        "port": name,
        "description": f"{name}: a host (Linux) port scaffolded by mpconform",
        "source": "mpconform scaffold",
        "features": features,
        "enabled": enabled,
        "hooks": hooks,
        "sources": source_plans(features, hooks),
        "guard": f"MPCONFORM_{name.upper()}",
    }
    files = {
        "mpconfigport_micropython.h": _render(env, "scaffold/mpconfigport_micropython.h.j2", **context),
    }
    for out in ("Makefile", "main.c", "mpconfigport.h", "mphalport.h", "mphalport.c", "qstrdefsport.h"):
        files[out] = _render(env, f"skeleton/{out}.j2", **context)
    return files


def profile_yaml(name: str, binary: Path, disabled: dict[str, str]) -> str:
    """The profile of a scaffolded port (OUT/port.yaml, beside its sources): the unix runner on its binary,
    its left-out features disabled so the suite reports them as skips."""
    doc = {
        "port": name,
        "description": f"{name}: host port scaffolded by mpconform scaffold",
        "runner": {"name": "unix", "options": {"micropython": str(binary), "timeout_s": 10}},
    }
    if disabled:
        doc["features"] = {f: {"enabled": False, "reason": why} for f, why in disabled.items()}
    header = f"# Written by `mpconform scaffold {name}`; edit freely as the port grows.\n"
    return header + yaml.safe_dump(doc, sort_keys=False, width=100)
