"""`mpconform install [COMPONENT...]`: what the non-default ports need (runners/runtimes.py)."""

from __future__ import annotations

import sys


def _cmd_install(args) -> int:
    from mpconform.runners.install.runtimes import COMPONENTS

    if args.components[:1] == ["firmware"]:  # `install firmware BOARD...`: mpconform/firmware.py
        from mpconform.runners.install.firmware import install_boards

        return install_boards(args.root, args.components[1:], args.micropython_dir, args.archive, args.jobs)
    names = args.components or list(COMPONENTS)
    unknown = [n for n in names if n not in COMPONENTS]
    if unknown:
        known = ", ".join([*COMPONENTS, "firmware BOARD..."])
        print(f"mpconform: unknown component(s) {', '.join(unknown)} (known: {known})", file=sys.stderr)
        return 2
    for name in names:
        COMPONENTS[name]()
    return 0


def register(subparsers) -> None:
    i = subparsers.add_parser("install", help="install what the webassembly, qemu and board ports (and the report test) need")
    i.add_argument("components", nargs="*", metavar="COMPONENT",
                   help="webassembly (npm package, into the user cache), qemu, toolchains (make and the ARM and RISC-V "
                        "cross compilers, to build from an upstream tree), ser2net, chromium (Debian, as root); default all; "
                        "or `firmware BOARD...`: upstream's ports/qemu firmware for BOARD, built into the user cache")
    i.add_argument("--micropython-dir", metavar="DIR", help="install firmware: the upstream tree (default $MICROPY_DIR)")
    i.add_argument("--archive", metavar="TAR", help="install firmware: an upstream snapshot archive, unpacked into the cache")
    i.add_argument("-j", "--jobs", type=int, metavar="N", help="install firmware: parallel make jobs (default: CPUs)")
    i.set_defaults(func=_cmd_install)
