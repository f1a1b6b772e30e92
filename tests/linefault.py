"""A line that damages bytes: a TCP relay between the board runner and a board's line
(a pty device or QEMU's UART socket) that drops or flips one byte on the way to the
board wherever a marker completes, for the occurrences chosen."""

from __future__ import annotations

import select
import socket
import threading

import serial


class FaultyLine:
    """Listens on 127.0.0.1 (its `url` is what the runner opens) and relays to `upstream`
    (a pyserial URL). The `damage`-th occurrences (1-based) of `marker` on the way to the
    board lose their last byte (`mode` "drop") or get it changed ("flip")."""

    def __init__(self, upstream: str, marker: bytes, damage: set[int], mode: str = "drop"):
        self.upstream = upstream
        self.marker = marker
        self.damage = set(damage)
        self.mode = mode
        self.seen = 0  # occurrences of the marker so far
        self.damaged = 0
        self._history = b""
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"socket://127.0.0.1:{self._server.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _to_board(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            out.append(byte)
            self._history = (self._history + bytes((byte,)))[-len(self.marker):]
            if self._history == self.marker:
                self.seen += 1
                if self.seen in self.damage:
                    self.damaged += 1
                    if self.mode == "drop":
                        out.pop()
                    else:
                        out[-1] ^= 0x20
        return bytes(out)

    def _serve(self) -> None:
        self._server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            board = serial.serial_for_url(self.upstream, timeout=0)
            try:
                while not self._stop.is_set():
                    ready, _, _ = select.select([client, board], [], [], 0.1)
                    if client in ready:
                        data = client.recv(4096)
                        if not data:
                            break
                        board.write(self._to_board(data))
                    if board in ready:
                        client.sendall(board.read(4096))  # (a closed socket raises: the board is gone)
            except (OSError, serial.SerialException):
                pass
            finally:
                client.close()
                board.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()
