"""The local lab's power switch: an HTTP relay board in the form labgrid's
NetworkPowerPort model `simplerest` drives (GET /relay/<index>/<1|0> switches,
GET /relay/<index> answers 1 or 0). Outlet k powers the pty relay whose pid is
given for it: off stops its board (SIGUSR2), on boots it again (SIGHUP).

Run as `python -m mpconform.runners.lab.power --port P PID...` (outlet k is the
k-th pid, from 0); `mpconform lab up` starts one for its pty boards."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(port: int, pids: list[int]) -> None:
    state = [True] * len(pids)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server hook's name
            parts = self.path.strip("/").split("/")
            if len(parts) not in (2, 3) or parts[0] != "relay" or not parts[1].isdigit() or int(parts[1]) >= len(pids):
                self.send_error(404, "expected /relay/<outlet>[/<1|0>]")
                return
            outlet = int(parts[1])
            if len(parts) == 3:
                if parts[2] not in ("0", "1"):
                    self.send_error(400, "the value is 1 (on) or 0 (off)")
                    return
                on = parts[2] == "1"
                try:
                    os.kill(pids[outlet], signal.SIGHUP if on else signal.SIGUSR2)
                except ProcessLookupError:
                    self.send_error(410, "that board is gone")
                    return
                state[outlet] = on
            body = b"1" if state[outlet] else b"0"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # the lab's log stays quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="lab_power", description="An HTTP power switch for pty boards (labgrid simplerest).")
    ap.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    ap.add_argument("pids", type=int, nargs="+", help="the pty relay behind each outlet, from outlet 0")
    args = ap.parse_args(argv)
    serve(args.port, args.pids)
    return 0


if __name__ == "__main__":
    sys.exit(main())
