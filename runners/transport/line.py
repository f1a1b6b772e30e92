"""Bytes to and from a board over pyserial: a local device (/dev/ttyACM0), a TCP
socket (socket://host:port) or a remote serial port (rfc2217://host:port, as
ser2net exports it in board farms). Every failure of the line is TransportLost."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import serial

from mpconform.runners.transport.bounded import trim

DEFAULT_BAUDRATE = 115200
POLL_S = 0.02


class TransportLost(Exception):
    """The line is gone (unplugged, connection refused or closed)."""


class ReadTimeout(Exception):
    """The awaited bytes did not come in time; `data` holds what did."""

    def __init__(self, data: bytes):
        super().__init__(f"timed out; got {data[-200:]!r}")
        self.data = data


class SerialTransport:
    def __init__(self, url: str, baudrate: int = DEFAULT_BAUDRATE):
        self.url = url
        self.baudrate = baudrate
        self._port: serial.SerialBase | None = None
        self._buffer = b""  # read but not yet consumed

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        self.close()
        try:
            self._port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=POLL_S)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportLost(f"cannot open {self.url}: {exc}") from None
        self._buffer = b""
        sock = getattr(self._port, "_socket", None)  # socket:// and rfc2217:// backends
        if sock is not None:
            # The raw REPL is small writes awaiting small answers: without this, each
            # waits for Nagle's algorithm (~40 ms on the peer's delayed ACK).
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                pass
            self._port = None

    def _require(self) -> serial.SerialBase:
        if self._port is None:
            raise TransportLost(f"{self.url} is not open")
        return self._port

    def write(self, data: bytes) -> None:
        port = self._require()
        try:
            port.write(data)
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise TransportLost(f"write to {self.url} failed: {exc}") from None

    def _fill(self, wait_s: float) -> bool:
        """Read what has arrived (waiting up to about `wait_s` for the first byte)."""
        port = self._require()
        try:
            # (setting port.timeout would reconfigure the line on every call, so it stays POLL_S)
            waiting = port.in_waiting
            if not waiting and wait_s <= 0:
                return False
            chunk = port.read(max(1, waiting))
        except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
            # TypeError/AttributeError: pyserial's socket and rfc2217 backends on a peer that went away
            self.close()
            raise TransportLost(f"read from {self.url} failed: {exc}") from None
        self._buffer, _ = trim(self._buffer + chunk)  # a port printing without end stays bounded
        return bool(chunk)

    def read_until(self, marker: bytes, timeout_s: float) -> bytes:
        """Bytes up to and including `marker`; ReadTimeout (keeping them unread) if it never comes."""

        def find(buffer: bytes) -> int:
            index = buffer.find(marker)
            return -1 if index < 0 else index + len(marker)

        return self.read_to(find, timeout_s)

    def read_to(self, find, timeout_s: float) -> bytes:
        """Bytes up to the end index `find(buffer)` returns (-1: not yet); ReadTimeout if none in time."""
        deadline = time.monotonic() + timeout_s
        while True:
            end = find(self._buffer)
            if end >= 0:
                data, self._buffer = self._buffer[:end], self._buffer[end:]
                return data
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReadTimeout(self._buffer)
            self._fill(left)

    def poll_byte(self) -> bytes:
        """One byte if one has arrived, else b"" (no waiting)."""
        if not self._buffer:
            self._fill(0)
        data, self._buffer = self._buffer[:1], self._buffer[1:]
        return data

    def read_exactly(self, count: int, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        while len(self._buffer) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReadTimeout(self._buffer)
            self._fill(left)
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def take_buffer(self) -> bytes:
        data, self._buffer = self._buffer, b""
        return data

    def discard_input(self, quiet_s: float = 0.05, max_s: float = 1.0) -> bytes:
        """Drop stale bytes until the line has been quiet for `quiet_s`."""
        dropped = self.take_buffer()
        deadline = time.monotonic() + max_s
        quiet_until = time.monotonic() + quiet_s
        while time.monotonic() < min(deadline, quiet_until):
            if self._fill(quiet_s):
                quiet_until = time.monotonic() + quiet_s
            dropped += self.take_buffer()
        return dropped

    def pulse_reset_lines(self, pulse_s: float = 0.1) -> None:
        """The common auto-reset wiring (EN on RTS, boot pin on DTR): hold EN low, release."""
        port = self._require()
        try:
            port.dtr = False
            port.rts = True
            time.sleep(pulse_s)
            port.rts = False
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise TransportLost(f"cannot toggle DTR/RTS on {self.url}: {exc}") from None


def free_port() -> int:
    """A TCP port free on loopback right now (for an emulator or ser2net to listen on)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool | None:
    """True when something listens on 127.0.0.1:port, read from /proc (connecting would
    take the only client slot of a listener like QEMU's UART); None when /proc cannot tell."""
    try:
        text = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    wanted = f"0100007F:{port:04X}"
    return any(f" {wanted} " in line and line.split()[3] == "0A" for line in text.splitlines()[1:])
