"""`mpconform scaffold` (a new host port from the spec) and `mpconform bringup`
(what a port in progress still lacks, from a results file)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mpconform.core.atomicfile import write_atomic


def register(subparsers) -> None:
    s = subparsers.add_parser("scaffold", help="write a new host port skeleton and its profile")
    s.add_argument("name", help="port name (lower case, a C identifier); the binary is OUT/build/NAME")
    s.add_argument("--out", required=True, metavar="DIR", help="directory for the port's Makefile and C files")
    s.add_argument("--features", metavar="LIST",
                   help="comma-separated features to enable (and what they imply); default: all")
    s.add_argument("--disable", metavar="LIST", default="", help="comma-separated features to leave out")
    s.add_argument("--no-profile", action="store_true", help="do not write OUT/port.yaml")
    s.add_argument("--force", action="store_true", help="overwrite existing files")
    s.set_defaults(func=_cmd_scaffold)

    b = subparsers.add_parser("bringup", help="the macros and hooks each failing or skipped API needs, and each "
                              "config macro's state (config, probe, what is missing)")
    b.add_argument("results", help="results JSON of `mpconform run --json`")
    b.add_argument("--port-dir", metavar="DIR",
                   help="the port's sources: headers for its config, build files for what it compiles, C for "
                        "remaining stubs (default: ports/<port>/scaffold)")
    b.add_argument("--profile", metavar="FILE",
                   help="your own port.yaml, for a port not in this project (its folder is the default --port-dir)")
    b.add_argument("--json", action="store_true", help="print the to-do list as JSON")
    b.set_defaults(func=_cmd_bringup)


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _cmd_scaffold(args) -> int:
    from mpconform.generator import scaffold
    from mpconform.generator.spec import load_spec

    spec = load_spec(args.root)
    out = Path(args.out).resolve()
    try:
        features = _names(args.features) if args.features is not None else None
        disabled = scaffold.skeleton_disabled(spec, features, _names(args.disable))
        files = scaffold.render_skeleton(spec, args.name, disabled)
    except scaffold.ScaffoldError as exc:
        print(f"mpconform: scaffold: {exc}", file=sys.stderr)
        return 2
    profile_path = out / "port.yaml"  # the port's profile lives with its sources, in the maintainer's tree
    clashes = [out / rel for rel in files if (out / rel).exists()]
    if not args.no_profile and profile_path.exists():
        clashes.append(profile_path)
    if clashes and not args.force:
        print(f"mpconform: scaffold: {clashes[0]} exists (and {len(clashes) - 1} more); pass --force to overwrite",
              file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        write_atomic(out / rel, content)
        print(f"wrote {out / rel}")
    if not args.no_profile:
        write_atomic(profile_path, scaffold.profile_yaml(args.name, out / "build" / args.name, disabled))
        print(f"wrote {profile_path}")
    for name, why in disabled.items():
        print(f"  off: {name} ({why})")
    print(f"next: make -C {out} MICROPY_DIR=/path/to/micropython && mpconform run --profile {profile_path} "
          f"--json {args.name}.json ; mpconform bringup {args.name}.json --port-dir {out}")
    return 0


def _cmd_bringup(args) -> int:
    from mpconform.core.results import load_document
    from mpconform.reports.bringup import format_todo, todo_list

    doc = load_document(Path(args.results))  # the one reader of results files: errors name the file
    port_dir = Path(args.port_dir) if args.port_dir else None
    if args.profile:
        from mpconform.core.errors import UsageError
        from mpconform.portarg import resolve

        args.port = None
        target = resolve(args)
        if target.port != doc.port:
            raise UsageError(f"{args.results}: results of port '{doc.port}', but --profile {args.profile} "
                             f"is port '{target.port}'")
        port_dir = port_dir or target.profile_path.parent  # `scaffold` writes port.yaml beside the sources
    todo = todo_list(args.root, doc, port_dir)
    if args.json:
        json.dump(todo, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_todo(todo))
    return 0
