"""The to-do list of a port in progress: for each API with behaviours that did not
pass, the config macros and port hooks the spec says it needs, and whether the
port's sources still hold the scaffold's stub for each hook."""

from __future__ import annotations

import re
from pathlib import Path

from mpconform.generator.errors import MpconformError, SourceError, SourceErrors, UnknownPort
from mpconform.generator.profiles import load_profile
from mpconform.generator.scaffold import STUB_MARK, load_hooks
from mpconform.generator.spec import load_spec

TODO_OUTCOMES = ("fail", "skip", "xfail", "timeout", "crash", "error")


# Comments only talk about hooks; code that names one is taken as meeting it.
_C_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


class BringupError(MpconformError):
    pass


def _hook_status(port_dir: Path | None, hook: str, also: list[str]) -> tuple[str, str]:
    """('stub'|'present'|'absent'|'unknown', where) for one hook in the port's C sources."""
    if port_dir is None or not port_dir.is_dir():
        return "unknown", ""
    seen = ""
    for path in sorted(p for p in port_dir.rglob("*") if p.suffix in (".c", ".h") and p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        if f"{STUB_MARK} {hook}\n" in text or f"{STUB_MARK} {hook} " in text:
            return "stub", str(path)
        code = _C_COMMENT.sub(" ", text)
        if not seen and any(re.search(rf"\b{re.escape(name)}\b", code) for name in [hook, *also]):
            seen = str(path)
    return ("present", seen) if seen else ("absent", "")


def todo_list(root: Path, doc: dict, port_dir: Path | None = None) -> dict:
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list) or "port" not in doc:
        raise BringupError("not a results file (needs 'port' and a 'results' list)")
    spec = load_spec(root)
    port = doc["port"]
    # What the run went by (its profile, or the probe with --detect), as the results record it;
    # an older results file without it falls back to the port's profile in this project.
    recorded = doc.get("features")
    disabled: dict[str, str] = {}
    if isinstance(recorded, dict) and recorded:
        disabled = {name: str(f.get("evidence", "")) for name, f in recorded.items()
                    if isinstance(f, dict) and f.get("enabled") is False}
    else:
        try:
            disabled = load_profile(root, port, spec).disabled
        except (UnknownPort, SourceError, SourceErrors):
            pass  # no usable profile: every required feature is listed
    if port_dir is None and (root / "ports" / port / "scaffold").is_dir():
        port_dir = root / "ports" / port / "scaffold"
    behaviours = {b.id: b for b in spec.behaviours}
    roles = load_hooks()
    by_api: dict[str, list[dict]] = {}
    unknown = []
    for r in doc["results"]:
        if not isinstance(r, dict) or r.get("outcome") not in TODO_OUTCOMES:
            continue
        b = behaviours.get(r.get("id"))
        if b is None:
            unknown.append(str(r.get("id")))
            continue
        by_api.setdefault(b.api, []).append({"id": b.id, "outcome": r["outcome"], "requires": list(b.requires)})
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
                "macros": [{"name": m["name"], "value": m["value"], "default": m.get("default", "")}
                           for m in spec.features[f].macros],
            }
            for f in needed
        ]
        hooks = []
        for ob in api.obligations:
            hook = ob["hook"].removesuffix("()")
            status, where = _hook_status(port_dir, hook, roles.get(hook, {}).get("also", []))
            hooks.append({"hook": hook, "status": status, "where": where, "description": ob["description"]})
        outcomes: dict[str, int] = {}
        for item in failing:
            outcomes[item["outcome"]] = outcomes.get(item["outcome"], 0) + 1
        apis.append({"api": api.name, "outcomes": outcomes, "behaviours": [i["id"] for i in failing],
                     "features": features, "hooks": hooks})
    return {"port": port, "port_dir": str(port_dir) if port_dir else None, "apis": apis, "unknown_behaviours": unknown}


def format_todo(todo: dict) -> str:
    lines = [f"bring-up of port {todo['port']}"
             + (f" (stubs searched in {todo['port_dir']})" if todo["port_dir"] else " (no --port-dir: hooks not checked)")]
    if not todo["apis"]:
        lines.append("nothing to do: every behaviour passed")
    for a in todo["apis"]:
        counts = ", ".join(f"{n} {o}" for o, n in sorted(a["outcomes"].items()))
        lines.append(f"{a['api']}: {counts}")
        for f in a["features"]:
            macros = ", ".join(f"#define {m['name']} ({m['value']})" for m in f["macros"])
            state = "off in the profile" if f["disabled"] else "needed"
            lines.append(f"  macro   {macros}   [feature {f['name']}, {state}]")
        for h in a["hooks"]:
            where = f" in {h['where']}" if h["where"] else ""
            lines.append(f"  hook    {h['hook']}: {h['status']}{where} -- {h['description']}")
    if todo["unknown_behaviours"]:
        lines.append(f"not in the spec (results from another spec version?): {', '.join(todo['unknown_behaviours'])}")
    return "\n".join(lines) + "\n"
