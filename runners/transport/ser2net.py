"""Export a serial device on loopback with Debian's ser2net, as a board farm does:
rfc2217://127.0.0.1:P (telnet + RFC 2217 line control) and socket://127.0.0.1:P (raw TCP).

ser2net in front of a pseudo-terminal does not answer RFC 2217 SET-CONTROL (flow
control cannot be set on a pty), so the rfc2217 URL carries pyserial's
`ign_set_control`."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from pathlib import Path

from mpconform.runners.base import RunnerError
from mpconform.runners.transport.line import free_port
from mpconform.runners.transport.process import stop_then_kill

START_TIMEOUT_S = 10.0


def ensure_installed() -> str:
    """The ser2net binary; installs the Debian package when missing and we are root."""
    from mpconform.runners.install.runtimes import ensure_debian, ser2net_binary

    found = ser2net_binary()
    if not found and ensure_debian("ser2net"):
        found = ser2net_binary()
    if found:
        return found
    raise RunnerError("ser2net is not installed and could not be installed (needs apt-get as root): mpconform install ser2net")


class Ser2net:
    """One ser2net process exporting `device` on two loopback ports."""

    def __init__(self, device: Path, baudrate: int = 115200):
        self.device = Path(device)
        self.baudrate = baudrate
        self.rfc2217_port = free_port()
        self.tcp_port = free_port()
        self.proc: subprocess.Popen | None = None
        self._tmp: tempfile.TemporaryDirectory | None = None

    @property
    def rfc2217_url(self) -> str:
        return f"rfc2217://127.0.0.1:{self.rfc2217_port}?ign_set_control"

    @property
    def socket_url(self) -> str:
        return f"socket://127.0.0.1:{self.tcp_port}"

    def _config(self) -> str:
        line = f"serialdev,{self.device},{self.baudrate}n81,local"
        return (
            "%YAML 1.1\n---\n"
            f"connection: &rfc2217\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{self.rfc2217_port}\n"
            f"  connector: {line}\n  options:\n    kickolduser: true\n"
            f"connection: &raw\n  accepter: tcp,127.0.0.1,{self.tcp_port}\n"
            f"  connector: {line}\n  options:\n    kickolduser: true\n"
        )

    def start(self) -> None:
        binary = ensure_installed()
        self._tmp = tempfile.TemporaryDirectory(prefix="mpconform-ser2net-")
        config = Path(self._tmp.name) / "ser2net.yaml"
        config.write_text(self._config())
        log = open(Path(self._tmp.name) / "ser2net.log", "wb")  # handed to the process
        # -n: stay in the foreground, -d: no syslog daemon; -P: its own pid file, not /run's
        self.proc = subprocess.Popen([binary, "-n", "-d", "-c", str(config), "-P", str(Path(self._tmp.name) / "pid")],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        for port in (self.rfc2217_port, self.tcp_port):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        text = (Path(self._tmp.name) / "ser2net.log").read_text(errors="replace")
                        self.stop()
                        raise RunnerError(f"ser2net did not start: {text.strip()[-300:]}") from None
                    time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            stop_then_kill(self.proc, self.proc.terminate, timeout_s=5)
            self.proc = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

