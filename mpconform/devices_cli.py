"""`mpconform devices`: serial ports that answer with a MicroPython raw REPL."""

from __future__ import annotations

import json
import sys

from mpconform.argtypes import seconds


def _describe(info: dict) -> str:
    from mpconform.runners.run.provenance import version_text

    version = version_text(info) if info.get("version") else ""
    parts = [info.get("name", "?"), version, info.get("_machine") or info.get("_build") or "",
             f"platform={info.get('platform', '?')}", "raw-paste" if info.get("raw_paste") else "plain raw REPL"]
    return " ".join(p for p in parts if p)


def _cmd_devices(args) -> int:
    from serial.tools import list_ports

    from mpconform.runners.plugins.board import identify
    from mpconform.runners.transport.line import ReadTimeout, TransportLost
    from mpconform.runners.transport.rawrepl import ProtocolError

    candidates = [(p.device, p.description or "") for p in sorted(list_ports.comports(), key=lambda p: p.device)]
    candidates += [(url, "given with --device") for url in args.device or []]
    found = []
    for url, description in candidates:
        try:
            info = identify(url, args.baudrate, args.timeout)
        except (TransportLost, ReadTimeout, ProtocolError) as exc:
            if args.all or url in (args.device or []):
                print(f"{url}\t{description}\tno MicroPython raw REPL ({str(exc).splitlines()[0][:120]})")
            continue
        found.append({"device": url, "description": description, "implementation": info})
        if not args.json:
            print(f"{url}\t{description}\t{_describe(info)}")
    if args.json:
        json.dump(found, sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif not found:
        print(f"mpconform: no MicroPython board answered ({len(candidates)} serial port(s) tried)", file=sys.stderr)
    return 0 if found else 1


def register(subparsers) -> None:
    p = subparsers.add_parser("devices", help="list serial ports that answer with a MicroPython raw REPL")
    p.add_argument("--device", action="append", metavar="URL",
                   help="also probe this device or pyserial URL (socket://, rfc2217://); repeatable")
    p.add_argument("--baudrate", type=int, default=115200, help="line speed (default 115200)")
    p.add_argument("--timeout", type=seconds, default=2.0, help="seconds a port may take to answer (default 2)")
    p.add_argument("--all", action="store_true", help="also list ports that did not answer")
    p.add_argument("--json", action="store_true", help="print the boards found as JSON")
    p.set_defaults(func=_cmd_devices)
