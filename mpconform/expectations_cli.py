"""`mpconform expectations update PORT RESULTS.json`: bring a profile's expected
failures in line with a run, then regenerate the suites."""

from __future__ import annotations

from pathlib import Path

from mpconform.portarg import add_arguments, resolve


def _cmd_update(args) -> int:
    from mpconform.reports.expectations import update_profile

    target = resolve(args)
    changes = update_profile(args.root, target, Path(args.results))
    for bid in changes.added:
        print(f"added   {bid} (placeholder reason: needs review)")
    for bid in changes.removed:
        print(f"removed {bid} (passes now)")
    print(f"mpconform: {target.shown(args.root)}: {changes.summary()}")
    if changes.added or changes.removed:
        changed = target.recompile(args.root)
        print(f"mpconform: recompiled, {len(changed)} file(s) changed")
    return 0


def register(subparsers) -> None:
    e = subparsers.add_parser("expectations", help="maintain a profile's expected failures")
    sub = e.add_subparsers(dest="expectations_command", required=True)
    u = sub.add_parser("update", help="rewrite a profile's expectations from a results file, then recompile")
    add_arguments(u)
    u.add_argument("results", metavar="RESULTS.json",
                   help="a complete run of that port (`mpconform run PORT --json`, or `run --profile FILE --json`)")
    u.set_defaults(func=_cmd_update)
