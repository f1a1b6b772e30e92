"""`mpconform install [COMPONENT...]`: what the non-default ports need (runners/runtimes.py)."""

from __future__ import annotations

import sys


def _cmd_install(args) -> int:
    from mpconform.runners.runtimes import COMPONENTS

    names = args.components or list(COMPONENTS)
    unknown = [n for n in names if n not in COMPONENTS]
    if unknown:
        print(f"mpconform: unknown component(s) {', '.join(unknown)} (known: {', '.join(COMPONENTS)})", file=sys.stderr)
        return 2
    for name in names:
        COMPONENTS[name]()
    return 0


def register(subparsers) -> None:
    i = subparsers.add_parser("install", help="install what the webassembly, qemu and board ports (and the report test) need")
    i.add_argument("components", nargs="*", metavar="COMPONENT",
                   help="webassembly (npm package, into the user cache), qemu, ser2net, chromium (Debian, as root); default all")
    i.set_defaults(func=_cmd_install)
