"""One warm `node` process running MicroPython's WebAssembly port (runners/webassembly/
host.mjs): test after test, each in a fresh MicroPython instance.

Requests go as one JSON line per test on the host's stdin; answers come back as frames
(a type byte, a 4-byte big-endian length, the payload): "R" ready, "O" output bytes,
"E" end ({"status", "aborted"}). A test that does not end in time, or a host that dies,
costs the host: it is killed with its process group and the next test starts a new one."""

from __future__ import annotations

import json
import os
import selectors
import struct
import subprocess
import time
from pathlib import Path

from mpconform.runners.base import Execution, RunnerError
from mpconform.runners.transport.process import kill_group, signal_name

HEADER = struct.Struct(">cI")
READ_CHUNK = 65536
#: Output kept per test; what a runaway test prints beyond it is counted, not kept.
OUTPUT_LIMIT = 1 << 20
STARTUP_S = 30.0
ABORT_MARKER = "mpconform-webassembly: runtime aborted:"
EXIT_RUNTIME_ABORT = 70


class BoundedOutput:
    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit = limit
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        self.data += chunk[:max(room, 0)]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        text = bytes(self.data).decode("utf-8", "backslashreplace")
        if self.dropped:
            text += f"\n[mpconform: {self.dropped} more bytes of output not kept]\n"
        return text


class HostLost(Exception):
    """The host process ended or broke the protocol."""


class NodeHost:
    def __init__(self, command: list[str], cwd: Path):
        self.command = command
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self._buffer = bytearray()
        self._stderr = bytearray()  # what node itself printed (the runtime's console.error)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        try:
            self.proc = subprocess.Popen(
                self.command, cwd=self.cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, start_new_session=True,  # so a kill takes its whole group
            )
        except OSError as exc:
            raise RunnerError(f"cannot start {self.command[0]}: {exc.strerror}") from None
        self._buffer.clear()
        self._stderr.clear()
        os.set_blocking(self.proc.stdout.fileno(), False)
        os.set_blocking(self.proc.stderr.fileno(), False)
        try:
            kind, payload = self._next_frame(time.monotonic() + STARTUP_S)
        except (HostLost, TimeoutError):
            why = bytes(self._stderr).decode("utf-8", "backslashreplace").strip()[-2000:]
            self.kill()
            raise RunnerError(f"the WebAssembly host did not start: {why or 'no answer'}") from None
        if kind != b"R":
            self.kill()
            raise RunnerError(f"the WebAssembly host answered {kind!r} instead of ready")

    def kill(self) -> None:
        if self.proc is None:
            return
        kill_group(self.proc)
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
        self.proc = None

    def run(self, script: Path, timeout_s: float) -> Execution:
        if not self.alive:
            self.start()
        start = time.monotonic()
        deadline = start + timeout_s
        out = BoundedOutput()
        self._stderr.clear()
        try:
            self.proc.stdin.write(json.dumps({"script": str(script.resolve())}).encode() + b"\n")
            self.proc.stdin.flush()
            while True:
                kind, payload = self._next_frame(deadline)
                if kind == b"O":
                    out.add(payload)
                elif kind == b"E":
                    break
                else:
                    raise HostLost(f"unexpected frame {kind!r}")
        except TimeoutError:
            self.kill()
            return Execution(out.text(), None, time.monotonic() - start, timed_out=True)
        except (HostLost, BrokenPipeError, OSError):
            status = self._reap()
            out.add(bytes(self._stderr))
            why = f"killed by {signal_name(-status)}" if status < 0 else f"the node host exited with status {status}"
            return Execution(out.text(), status, time.monotonic() - start, crashed=why)
        end = json.loads(payload)
        out.add(bytes(self._stderr))
        if end.get("aborted"):
            out.add(f"{ABORT_MARKER} {end['aborted']}\n".encode("utf-8", "backslashreplace"))
            self._reap()
            return Execution(out.text(), EXIT_RUNTIME_ABORT, time.monotonic() - start,
                             crashed="the WebAssembly runtime aborted")
        return Execution(out.text(), int(end["status"]), time.monotonic() - start)

    def _reap(self) -> int:
        proc = self.proc
        try:
            proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        return proc.returncode

    def _next_frame(self, deadline: float) -> tuple[bytes, bytes]:
        """The next frame from stdout; what node prints on stderr meanwhile is kept aside."""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ, "out")
            sel.register(self.proc.stderr, selectors.EVENT_READ, "err")
            while True:
                frame = self._parse()
                if frame is not None:
                    return frame
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                for key, _ in sel.select(left):
                    chunk = os.read(key.fd, READ_CHUNK)
                    if not chunk:
                        if key.data == "out":
                            raise HostLost("end of output")
                        sel.unregister(key.fileobj)
                    elif key.data == "out":
                        self._buffer += chunk
                    elif len(self._stderr) < OUTPUT_LIMIT:
                        self._stderr += chunk

    def _parse(self) -> tuple[bytes, bytes] | None:
        if len(self._buffer) < HEADER.size:
            return None
        kind, length = HEADER.unpack_from(self._buffer)
        if len(self._buffer) < HEADER.size + length:
            return None
        payload = bytes(self._buffer[HEADER.size:HEADER.size + length])
        del self._buffer[:HEADER.size + length]
        return kind, payload
