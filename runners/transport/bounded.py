"""Output kept per test is bounded: a port may print without end (a runaway loop) or
megabytes on one line. The head and the tail are kept, with a line saying how much
was dropped between them, so memory stays flat and results files stay small."""

from __future__ import annotations

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 64 * 1024


def cut_marker(dropped: int) -> bytes:
    return f"\n[mpconform: {dropped} bytes of output dropped here]\n".encode()


class BoundedOutput:
    """Bytes appended as they are read; at most HEAD_BYTES + TAIL_BYTES are kept."""

    def __init__(self, head: int = HEAD_BYTES, tail: int = TAIL_BYTES):
        self.head_limit, self.tail_limit = head, tail
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self.tail += chunk
        extra = len(self.tail) - self.tail_limit
        if extra > 0:
            del self.tail[:extra]
            self.dropped += extra

    def getvalue(self) -> bytes:
        if not self.dropped:
            return bytes(self.head + self.tail)
        return bytes(self.head) + cut_marker(self.dropped) + bytes(self.tail)


def trim(buffer: bytes, head: int = HEAD_BYTES, tail: int = TAIL_BYTES) -> tuple[bytes, int]:
    """A serial buffer grown past its bound: (the buffer with its middle replaced by a
    cut marker, bytes dropped). The tail stays whole, as the end-of-run markers are there."""
    if len(buffer) <= head + tail + 256:
        return buffer, 0
    dropped = len(buffer) - head - tail
    return buffer[:head] + cut_marker(dropped) + buffer[-tail:], dropped


def clip_text(text: str, limit: int) -> str:
    """A result's detail kept under `limit` characters, head and tail, saying what went."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters dropped ...]\n{text[-half:]}"
