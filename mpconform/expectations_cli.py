"""`mpconform expectations update PORT RESULTS.json`: bring a profile's expected
failures in line with a run, then regenerate the suites."""

from __future__ import annotations

from pathlib import Path


def _cmd_update(args) -> int:
    from mpconform.generator.compiler import build
    from mpconform.reports.expectations import update_profile

    changes = update_profile(args.root, args.port, Path(args.results))
    for bid in changes.added:
        print(f"added   {bid} (placeholder reason: needs review)")
    for bid in changes.removed:
        print(f"removed {bid} (passes now)")
    print(f"mpconform: ports/{args.port}/port.yaml: {changes.summary()}")
    if changes.added or changes.removed:
        _, _, outputs = build(args.root)
        changed = outputs.write(args.root)
        print(f"mpconform: recompiled, {len(changed)} file(s) changed")
    return 0


def register(subparsers) -> None:
    e = subparsers.add_parser("expectations", help="maintain a profile's expected failures")
    sub = e.add_subparsers(dest="expectations_command", required=True)
    u = sub.add_parser("update", help="rewrite a profile's expectations from a results file, then recompile")
    u.add_argument("port")
    u.add_argument("results", metavar="RESULTS.json", help="a complete run of that port (`mpconform run PORT --json`)")
    u.set_defaults(func=_cmd_update)
