"""`mpconform spec coverage`: which statements of the docs the behaviours check.

A report, not a gate: it exits 0 whatever the coverage (a malformed spec or
statement map is an error as for `compile`)."""

from __future__ import annotations

import json
import sys

_LABELS = {"covered": "covered", "not-testable": "not testable", "not-covered": "NOT COVERED"}


def coverage_report(spec, statements) -> dict:
    """The statement map as JSON, plus the behaviours no statement names."""
    data = statements.to_json()
    named = {bid for st in statements.statements for bid in st.covered_by}
    # generated edge behaviours are mapped through their parameter's domain, below
    data["unmapped_behaviours"] = [b.id for b in spec.behaviours if b.id not in named and b.match != "observe"]
    data["parameters"] = parameter_report(spec)
    return data


def parameter_report(spec) -> list[dict]:
    """Every documented parameter: its type, whether its domain is given (cited), and how
    many generated edge cases try it."""
    edges: dict[tuple[str, str], int] = {}
    for b in spec.behaviours:
        if b.edge_param:
            edges[(b.api, b.edge_param)] = edges.get((b.api, b.edge_param), 0) + 1
    out = []
    for api in spec.apis:
        for p in [*api.params, *(api.alt_params or [])]:
            domain = p.get("domain")
            out.append({"api": api.name, "param": p["name"], "type": p.get("type"),
                        "domain": {"section": domain["cites"]["section"], "quote": domain["cites"]["quote"]} if domain else None,
                        "edge_cases": edges.get((api.name, p["name"]), 0)})
    return out


def format_coverage(data: dict) -> str:
    lines = []
    for section in data["sections"]:
        lines.append(section["section"])
        for st in section["statements"]:
            lines.append(f"  {_LABELS[st['status']]:13} {st['id']}  \"{st['quote']}\"")
            if st["status"] == "covered":
                detail = "by " + ", ".join(st["covered_by"])
            elif st["status"] == "not-testable":
                detail = st["not_testable"]
            else:
                detail = f"needs a behaviour: {st['says']}"
            lines.append(f"  {'':13} {detail}")
    unmapped = data["unmapped_behaviours"]
    if unmapped:
        lines.append(f"behaviours named by no statement ({len(unmapped)}): {', '.join(unmapped)}")
    params = data["parameters"]
    lines.append("parameters")
    for p in params:
        where = f"domain: \"{p['domain']['quote']}\"" if p["domain"] else "NO DOMAIN"
        lines.append(f"  {p['api']}({p['param']}: {p['type'] or 'untyped'})  {p['edge_cases']} edge cases; {where}")
    lines.append(f"mpconform: {len(params)} parameters: {sum(1 for p in params if p['domain'])} with a documented domain, "
                 f"{sum(p['edge_cases'] for p in params)} edge cases")
    s = data["summary"]
    share = f", {100 * s['covered'] // s['testable']}% of the {s['testable']} testable" if s["testable"] else ""
    lines.append(f"mpconform: {s['statements']} statements: {s['covered']} covered, {s['not-testable']} not testable, "
                 f"{s['not-covered']} not covered{share}")
    return "\n".join(lines) + "\n"


def cmd_spec_coverage(args) -> int:
    from mpconform.generator.spec import load_spec
    from mpconform.generator.statements import load_statements

    spec = load_spec(args.root)
    data = coverage_report(spec, load_statements(args.root, spec))
    if args.json:
        json.dump(data, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_coverage(data))
    return 0
