"""`mpconform drift docs|port` and `mpconform spec sync-digests`: where the docs,
the spec and a port disagree."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mpconform.argtypes import seconds
from mpconform.core.options import add_flags, overrides
from mpconform.portarg import add_arguments, resolve

#: the runner options `drift port` takes on its command line
PORT_OPTIONS = ("micropython", "firmware", "prelude")

# Exit statuses: 0 no drift, 1 drift found, 2 an input could not be read / the port could not be probed.
NO_DRIFT, DRIFT, UNREADABLE = 0, 1, 2

_LABELS = {
    "removed": "removed", "added": "added", "kind-changed": "kind", "signature-changed": "signature",
    "text-changed": "text", "digest-missing": "no digest", "quote-missing": "quote", "section-missing": "section",
    "statement-quote-missing": "statement", "unmapped": "unmapped",
}


UPSTREAM_DOC = Path("docs") / "library" / "micropython.rst"


def upstream_docs() -> Path:
    """The module's docs in the upstream tree named by $MICROPY_DIR; how to get one otherwise."""
    import os

    from mpconform.core.errors import UsageError

    tree = os.environ.get("MICROPY_DIR")
    if not tree:
        raise UsageError("drift docs: name the docs (PATH to micropython.rst), or set MICROPY_DIR to an upstream "
                         "tree (git clone https://github.com/micropython/micropython)")
    path = Path(tree) / UPSTREAM_DOC
    if not path.is_file():
        raise UsageError(f"drift docs: MICROPY_DIR={tree} has no {UPSTREAM_DOC}; is it an upstream MicroPython tree?")
    return path


def _cmd_drift_docs(args) -> int:
    from mpconform.drift.docmodel import DocReadError, read_doc
    from mpconform.drift.docs import compare_docs
    from mpconform.drift.statements import compare_statements
    from mpconform.generator.spec import load_spec
    from mpconform.generator.statements import load_statements

    spec = load_spec(args.root)
    statements = load_statements(args.root, spec)
    reports, status = [], NO_DRIFT
    for path in args.paths or [upstream_docs()]:
        entry: dict = {"path": str(path)}
        try:
            doc = read_doc(Path(path), args.format)
        except DocReadError as exc:
            entry["error"] = str(exc)
            reports.append(entry)
            status = max(status, UNREADABLE)
            continue
        entry.update(format=doc.format, module=doc.module, members=len(doc.members), warnings=doc.warnings)
        if doc.module and doc.module != spec.module:
            entry["error"] = f"{path}: documents module '{doc.module}', but the spec is for '{spec.module}'"
            reports.append(entry)
            status = max(status, UNREADABLE)
            continue
        findings = compare_docs(spec, doc) + compare_statements(spec, statements, doc)
        entry["findings"] = [f.to_json() for f in findings]
        reports.append(entry)
        if findings:
            status = max(status, DRIFT)
    if args.json:
        json.dump({"files": reports, "drift": status == DRIFT or any(r.get("findings") for r in reports)},
                  sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        _print_docs_report(reports, spec, len(statements.statements))
    return status


def _print_docs_report(reports: list[dict], spec, n_statements: int) -> None:
    total = 0
    for r in reports:
        if "error" in r:
            print(f"mpconform: {r['error']}", file=sys.stderr)
            continue
        findings = r["findings"]
        total += len(findings)
        print(f"{r['path']} ({r['format']}, module {r['module'] or '?'}, {r['members']} members) "
              f"against the spec ({len(spec.apis)} apis, {len(spec.behaviours)} behaviours, {n_statements} statements):")
        for w in r["warnings"]:
            print(f"  warning    {w}")
        for f in findings:
            print(f"  {_LABELS.get(f['kind'], f['kind']):10} {f['subject']}: {f['message']}")
            if f["where"]:
                print(f"  {'':10} at {f['where']}")
        if not findings:
            print("  no drift")
    files = sum(1 for r in reports if "error" not in r)
    errors = len(reports) - files
    tail = f", {errors} file(s) unreadable" if errors else ""
    print(f"mpconform: {total} drift finding(s) in {files} file(s){tail}")


def _cmd_drift_port(args) -> int:
    from mpconform.drift.port import probe_port
    from mpconform.runners.base import RunnerError

    target = resolve(args)
    try:
        result = probe_port(args.root, target.port, overrides(args, PORT_OPTIONS), args.timeout,
                            profile_path=target.profile_path if target.own else None, suite_root=target.suite_root)
    except RunnerError as exc:
        print(f"mpconform: drift port {target.port}: {exc}", file=sys.stderr)
        return UNREADABLE
    if args.json:
        json.dump(result.to_json(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        impl = result.implementation
        from mpconform.runners.run.provenance import version_text

        version = version_text(impl)
        print(f"port {result.port}: {impl.get('name', '?')} {version} ({impl.get('_build', '?')}, "
              f"platform {impl.get('platform', '?')})")
        for m in result.members:
            arity = f" [max args {m.max_args}]" if m.max_args is not None else ""
            detail = f": {m.detail}" if m.detail else ""
            print(f"  {m.status:19} {m.name}{arity}{detail}")
        counts = ", ".join(f"{n} {s}" for s, n in result.summary().items())
        print(f"mpconform: {counts}")
    return DRIFT if result.drift else NO_DRIFT


def cmd_sync_digests(args) -> int:
    """`mpconform spec sync-digests PATH`: record the docs' section digests after review."""
    from mpconform.drift.docmodel import DocReadError, read_doc
    from mpconform.drift.docs import sync_digests
    from mpconform.generator.spec import load_spec

    if not args.docs:
        print("mpconform: spec sync-digests needs the documentation file: mpconform spec sync-digests PATH",
              file=sys.stderr)
        return UNREADABLE
    spec = load_spec(args.root)
    try:
        doc = read_doc(Path(args.docs))
    except DocReadError as exc:
        print(f"mpconform: {exc}", file=sys.stderr)
        return UNREADABLE
    if doc.module and doc.module != spec.module:
        print(f"mpconform: {args.docs}: documents module '{doc.module}', but the spec is for '{spec.module}'",
              file=sys.stderr)
        return UNREADABLE
    changes, undocumented = sync_digests(args.root, spec, doc)
    for c in changes:
        print(f"{c.file}: {c.api}: doc_digest {'recorded' if c.old is None else 'updated'}")
    for name in undocumented:
        print(f"mpconform: {name}: not in {args.docs}; its doc_digest is left as it is", file=sys.stderr)
    print(f"mpconform: {len(changes)} digest(s) written")
    return 0


def register(subparsers) -> None:
    d = subparsers.add_parser("drift", help="where the docs, the spec and a port disagree")
    dsub = d.add_subparsers(dest="drift_command", required=True)

    docs = dsub.add_parser("docs", help="compare documentation files with the spec (exit 1 on drift)")
    docs.add_argument("paths", nargs="*", metavar="PATH",
                      help="micropython.rst, or an old Markdown / plain-text copy "
                           "(default: $MICROPY_DIR/docs/library/micropython.rst)")
    docs.add_argument("--format", choices=["auto", "rst", "markdown", "text"], default="auto",
                      help="input format (default: chosen from the content)")
    docs.add_argument("--json", action="store_true", help="print the findings as JSON")
    docs.set_defaults(func=_cmd_drift_docs)

    port = dsub.add_parser("port", help="probe a running port's micropython module against the spec (exit 1 on drift)")
    add_arguments(port)
    add_flags(port.add_argument, PORT_OPTIONS)
    port.add_argument("--timeout", type=seconds, help="seconds the probe may take (default: profile, else 10)")
    port.add_argument("--json", action="store_true", help="print the classification as JSON")
    port.set_defaults(func=_cmd_drift_port)
