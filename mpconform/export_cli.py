"""`mpconform export PORT DIR`: the port's suite for upstream's tests/run-tests.py."""

from __future__ import annotations

from pathlib import Path

from mpconform.portarg import add_arguments, resolve


def _cmd_export(args) -> int:
    from mpconform.runners.run.export import NOTE, export
    from mpconform.runners.run.session import open_suite

    target = resolve(args)
    suite = open_suite(target.suite_root, target.port)
    note = export(suite, Path(args.dir))
    xfail = sum(v == "xfail" for v in note["exported"].values())
    print(f"mpconform: {len(note['exported'])} tests written to {args.dir} ({xfail} expected to fail), "
          f"{len(note['left_out'])} left out (reasons in {Path(args.dir) / NOTE})")
    print(f"run them from an upstream tree: cd tests && ./run-tests.py -d {Path(args.dir).resolve()}")
    return 0


def register(subparsers) -> None:
    e = subparsers.add_parser("export", help="write a port's suite as a folder upstream's run-tests.py can run")
    add_arguments(e)
    e.add_argument("dir", metavar="DIR", help="folder to write (empty, or an earlier export)")
    e.set_defaults(func=_cmd_export)
