"""The to-do list of a port in progress: for each API with behaviours that did not
pass, the config macros and port hooks the spec says it needs, and whether the
port's sources still hold the scaffold's stub for each hook; and for every config
macro of the spec, whether the port's config turns it on, whether the run's probe
found the feature, and, for one on but not found, what is missing (a source file
its build does not compile, a hook not implemented)."""

from __future__ import annotations

from pathlib import Path

from mpconform.core.errors import SourceError, SourceErrors, UnknownPort
from mpconform.core.manifest import FeatureState
from mpconform.core.results import ResultsDocument, RunResult
from mpconform.generator.profiles import load_profile
from mpconform.generator.scaffold import load_hooks, load_sources
from mpconform.generator.spec import Spec, load_spec
from mpconform.reports.port_tree import PortTree

TODO_OUTCOMES = ("fail", "skip", "xfail", "timeout", "crash", "error")


def todo_list(root: Path, doc: ResultsDocument, port_dir: Path | None = None) -> dict:
    spec = load_spec(root)
    port = doc.port
    # What the run went by (its profile, or the probe with --detect), as the results record it;
    # an older results file without it falls back to the port's profile in this project.
    recorded = doc.features or {}
    disabled: dict[str, str] = {}
    if recorded:
        disabled = {name: f.evidence for name, f in recorded.items() if f.enabled is False}
    else:
        try:
            disabled = load_profile(root, port, spec).disabled
        except (UnknownPort, SourceError, SourceErrors):
            pass  # no usable profile: every required feature is listed
    if port_dir is None and (root / "ports" / port / "scaffold").is_dir():
        port_dir = root / "ports" / port / "scaffold"
    tree = PortTree.read(port_dir) if port_dir is not None and port_dir.is_dir() else None
    behaviours = {b.id: b for b in spec.behaviours}
    roles = load_hooks()
    by_api: dict[str, list[dict]] = {}
    unknown = []
    for r in doc.results:
        if r.outcome not in TODO_OUTCOMES:
            continue
        b = behaviours.get(r.id)
        if b is None:
            unknown.append(r.id)
            continue
        if r.outcome == "skip" and not any(f in disabled for f in b.requires):
            continue  # skipped for the runner (no prompt, no input) or the docs release: nothing to build
        by_api.setdefault(b.api, []).append({"id": b.id, "outcome": r.outcome, "requires": list(b.requires)})
    apis = []
    for api in spec.apis:
        failing = by_api.get(api.name)
        if not failing:
            continue
        needed: list[str] = []
        for item in failing:
            # A skip names the features the profile turned off; any other outcome
            # may come from any feature the behaviour needs.
            feats = [f for f in item["requires"] if f in disabled] if item["outcome"] == "skip" else item["requires"]
            for f in feats or item["requires"]:
                if f not in needed:
                    needed.append(f)
        features = [
            {
                "name": f,
                "disabled": f in disabled,
                "disabled_by": _disabled_by(recorded, f) if f in disabled else "",
                "macros": [{"name": m["name"], "value": m["value"], "default": m.get("default", "")}
                           for m in spec.features[f].macros],
            }
            for f in needed
        ]
        hooks = []
        for ob in api.obligations:
            hook = ob["hook"].removesuffix("()")
            status, where = _hook(tree, roles, hook)
            hooks.append({"hook": hook, "status": status, "where": where, "description": ob["description"]})
        outcomes: dict[str, int] = {}
        for item in failing:
            outcomes[item["outcome"]] = outcomes.get(item["outcome"], 0) + 1
        apis.append({"api": api.name, "outcomes": outcomes, "behaviours": [i["id"] for i in failing],
                     "features": features, "hooks": hooks})
    return {"port": port, "port_dir": str(port_dir) if port_dir else None, "apis": apis,
            "macros": macro_status(spec, recorded, tree, roles, _features_seen_working(doc.results, behaviours)),
            "unknown_behaviours": unknown}


def _disabled_by(recorded: dict[str, FeatureState], feature: str) -> str:
    """What turned a feature off for the run: its profile, or the probe (run --detect)."""
    entry = recorded.get(feature)
    return "probe" if entry is not None and entry.source == "probe" else "profile"


def _hook(tree: PortTree | None, roles: dict, hook: str) -> tuple[str, str]:
    if tree is None:
        return "unknown", ""
    role = roles.get(hook, {})
    return tree.hook(hook, role.get("also", []), role.get("source"))


def _features_seen_working(results: tuple[RunResult, ...], behaviours: dict) -> set[str]:
    """Features a passing behaviour needs: present in the build whatever its files look like."""
    return {f for r in results if r.outcome == "pass" and r.id in behaviours for f in behaviours[r.id].requires}


def macro_status(spec: Spec, recorded: dict[str, FeatureState], tree: PortTree | None, roles: dict,
                 working: set[str] = frozenset()) -> list[dict]:
    """Every config macro of the spec, once: its state in the port's config, what the run's probe
    found of the features it belongs to, and what is missing when it is on but neither found by the
    probe nor seen working by a passing behaviour."""
    sources = load_sources()
    owners: dict[str, list] = {}
    for feature in spec.features.values():
        for m in feature.macros:
            owners.setdefault(m["name"], []).append((feature, m))
    rows = []
    for name, pairs in owners.items():
        feature, macro = pairs[0]
        wanted = str(macro["value"])
        config = tree.config(name, wanted, str(macro.get("default", ""))) if tree else \
            {"state": "unknown", "value": None, "where": "no port folder (--port-dir)"}
        probed = [recorded[f.name] for f, _ in pairs if f.name in recorded and recorded[f.name].source == "probe"]
        if not probed:
            probe, evidence = "not probed", "run `mpconform run --detect` for the probe's view"
        else:
            hit = next((p for p in probed if p.enabled is True), None)
            probe = "found" if hit else "absent"
            evidence = (hit or probed[0]).evidence
        files = [{"file": path, "compiled": tree.compiles(path) if tree else None} for path in sources.get(name, [])]
        missing: list[dict] = []
        if config["state"] == "on" and probe != "found" and not any(f.name in working for f, _ in pairs):
            missing += [{"kind": "source", "file": f["file"], "build_files": tree.build_files if tree else []}
                        for f in files if f["compiled"] is False]
            # The hooks the feature's APIs oblige: suspects only once the probe has not found it.
            for f, _ in pairs if probe == "absent" else ():
                for api in spec.apis:
                    if f.name not in api.requires:
                        continue
                    for ob in api.obligations:
                        hook = ob["hook"].removesuffix("()")
                        status, where = _hook(tree, roles, hook)
                        entry = {"kind": "hook", "hook": hook, "status": status, "where": where}
                        if status in ("absent", "stub") and entry not in missing:
                            missing.append(entry)
        rows.append({"name": name, "value": macro["value"], "default": macro.get("default", ""),
                     "features": [f.name for f, _ in pairs], "config": config["state"],
                     "config_value": config["value"], "config_where": config["where"], "probe": probe,
                     "probe_evidence": evidence, "sources": files, "missing": missing,
                     "next": _next_step(name, wanted, config, probe, missing)})
    # On, not found, nothing of its own missing: the feature may wait on another of its macros.
    by_name = {r["name"]: r for r in rows}
    for r in rows:
        if r["config"] == "on" and r["probe"] == "absent" and not r["missing"]:
            others = [m["name"] for f in r["features"] for m in spec.features[f].macros
                      if by_name[m["name"]]["config"] != "on"]
            if others:
                r["next"] = f"the feature also needs {', '.join(dict.fromkeys(others))}: see there"
    return rows


def _next_step(name: str, wanted: str, config: dict, probe: str, missing: list[dict]) -> str:
    steps = []
    for m in missing:
        if m["kind"] == "source":
            steps.append(f"add {m['file']} to SRC_C in {', '.join(m['build_files'])}")
        elif m["status"] == "stub":
            steps.append(f"implement {m['hook']} (stub in {m['where']})")
        else:
            steps.append(f"implement {m['hook']} (not in the port's code)")
    if steps:
        return "; ".join(steps)
    if config["state"] in ("off", "other") or (config["state"] == "default" and probe == "absent"):
        return f"#define {name} ({wanted}) in the port's config, if the port is to have it"
    if config["state"] == "on" and probe == "absent":
        return "on in the config, yet the probe does not find it: check that the build includes this config header"
    return ""


def format_todo(todo: dict) -> str:
    lines = [f"bring-up of port {todo['port']}"
             + (f" (stubs searched in {todo['port_dir']})" if todo["port_dir"] else " (no --port-dir: hooks not checked)")]
    if not todo["apis"]:
        lines.append("nothing to do: every behaviour passed")
    rows = {m["name"]: m for m in todo.get("macros", [])}
    for a in todo["apis"]:
        counts = ", ".join(f"{n} {o}" for o, n in sorted(a["outcomes"].items()))
        lines.append(f"{a['api']}: {counts}")
        for f in a["features"]:
            macros = ", ".join(f"#define {m['name']} ({m['value']})" for m in f["macros"])
            state = "needed"
            if f["disabled"]:
                state = "absent by the probe" if f.get("disabled_by") == "probe" else "off in the profile"
            lines.append(f"  macro   {macros}   [feature {f['name']}, {state}]")
            for m in f["macros"]:  # what the port's files say of it, when that names something to do
                if rows.get(m["name"], {}).get("missing"):
                    lines.append(f"          {m['name']} is {rows[m['name']]['config']} in the config: {rows[m['name']]['next']}")
        for h in a["hooks"]:
            where = f" in {h['where']}" if h["where"] else ""
            lines.append(f"  hook    {h['hook']}: {h['status']}{where} -- {h['description']}")
    macros = todo.get("macros", [])
    if macros:
        lines.append("config macros (config: the port's headers; probe: what the run's --detect found)")
    for m in macros:
        where = f" ({m['config_where']})" if m["config_where"] else ""
        lines.append(f"  {m['name']} ({m['value']}): {m['config']} in the config{where}; probe: {m['probe']}"
                     f"   [{', '.join(m['features'])}]")
        for item in m["missing"]:
            if item["kind"] == "source":
                lines.append(f"    missing: {item['file']} is compiled by no build file of the port "
                             f"({', '.join(item['build_files'])})")
            else:
                where = f" in {item['where']}" if item["where"] else ""
                lines.append(f"    missing: hook {item['hook']}: {item['status']}{where}")
        if m["next"]:
            lines.append(f"    next: {m['next']}")
    if todo["unknown_behaviours"]:
        lines.append(f"not in the spec (results from another spec version?): {', '.join(todo['unknown_behaviours'])}")
    return "\n".join(lines) + "\n"
