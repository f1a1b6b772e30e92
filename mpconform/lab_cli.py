"""`mpconform lab up|status|down`: a local labgrid board farm of emulated boards."""

from __future__ import annotations

import sys
from pathlib import Path

DEFAULT_STATE = ".mpconform-lab"


def _up(args) -> int:
    import signal

    from mpconform.runners.lab.farm import Lab, Stopped, parse_boards

    lab = Lab(Path(args.state))
    try:
        coordinator = lab.up(args.root, parse_boards(args.boards), args.coordinator)
    except Stopped as stop:
        print(f"mpconform: lab up stopped by {signal.Signals(stop.signum).name}; what it had started is stopped",
              file=sys.stderr)
        return 128 + stop.signum
    for name in lab.read()["places"]:
        print(f"mpconform: place {name}", file=sys.stderr)
    print(f"LG_COORDINATOR={coordinator}")
    return 0


def _status(args) -> int:
    from mpconform.runners.lab.farm import Lab
    from mpconform.runners.lab.place import LabClient, coordinator_address

    coordinator = args.coordinator
    if coordinator is None and Path(args.state, "lab.json").exists():
        coordinator = Lab(Path(args.state)).read()["coordinator"]
    client = LabClient.get(coordinator_address(coordinator))
    try:
        places = client.places()
        for name in sorted(places):
            place = places[name]
            tags = ",".join(f"{k}={v}" for k, v in sorted(place.tags.items())) or "-"
            serial = [res for _, res in client.resources_of(place) if res.cls == "NetworkSerialPort"]
            state = "available" if serial and all(r.avail for r in serial) else "no serial port" if not serial else "offline"
            print(f"{name:20} {tags:24} {'held by ' + place.acquired if place.acquired else 'free':28} {state}")
        if not places:
            print("mpconform: no places")
    finally:
        client.release_user()
    return 0


def _down(args) -> int:
    from mpconform.runners.lab.farm import Lab

    stopped = Lab(Path(args.state)).down()
    print(f"mpconform: stopped {', '.join(stopped) if stopped else 'nothing (already gone)'}")
    return 0


def register(sub) -> None:
    lab = sub.add_parser("lab", help="a local labgrid board farm of emulated boards")
    actions = lab.add_subparsers(dest="lab_action", required=True)
    up = actions.add_parser("up", help="start a coordinator, emulated boards and an exporter; create their places")
    up.add_argument("--boards", required=True, metavar="PROFILE:N[,PROFILE:N]", help="e.g. unix-pty:2,qemu-microbit:1")
    up.add_argument("--coordinator", metavar="HOST:PORT", help="use this coordinator instead of starting one")
    status = actions.add_parser("status", help="places, their tags and who holds them")
    status.add_argument("--coordinator", metavar="HOST:PORT", help="default: the lab's, else $LG_COORDINATOR")
    down = actions.add_parser("down", help="stop exactly what `lab up` started")
    for p in (up, status, down):
        p.add_argument("--state", default=DEFAULT_STATE, metavar="DIR", help=f"the lab's records (default {DEFAULT_STATE})")
    up.set_defaults(func=_up)
    status.set_defaults(func=_status)
    down.set_defaults(func=_down)
