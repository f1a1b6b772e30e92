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
    data["unmapped_behaviours"] = [b.id for b in spec.behaviours if b.id not in named]
    return data


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
