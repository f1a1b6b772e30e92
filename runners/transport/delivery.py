"""Getting a test program onto a board intact: what the board runs is checked before
it runs, so a byte lost or changed on the line is never judged as the port's doing.

The raw REPL compiles and runs what it received at once, with no check. So the runner
sends a small *loader* by the raw REPL instead, and the program after it as data on
the console. The loader reads exactly the program's length, computes a checksum over
what it read, and runs it only when length and checksum are those the runner sent;
otherwise it says what it got, and the runner sends the whole again.

What the program observes is kept: it is compiled from the received bytes with the
file name "<stdin>" (where the firmware has compile(); MicroPython 1.9.2 on the
micro:bit has only exec(), whose code is named "<string>"), runs in the __main__
globals (the loader's own function is removed from them before the program starts,
so `__name__`, globals() and const folding are as in a direct run), and the source
is held once (no copy embedded in the loader). The loader's frame, which an uncaught
exception passes through, is taken out of the traceback again. What differs: the
program runs one call deeper (exec), so it has that much less stack - on the micro:bit
464 of its 1800 bytes, more than stack_use.deeper_recursion_uses_more can spare (it
reaches 1624 run directly). That is why the harness runs a test directly first and
asks for a checked run only to judge one that did not pass (runners/harness.py): a
damaged program does not give the expected output, so a pass needs no check.

Once per session a PROBE asks the firmware how its console is read (CONSOLE_READERS)
and whether it has compile(); the loader is then written for that firmware alone
(a shorter loader is a faster one on a slow line).

The loader's markers, on the console before the program's output:
  READY     the loader is reading
  ACK       after each full window of the data: the runner sends the next window only
            then, so no more than a window ever waits in the board's receive buffer (on
            the micro:bit, 32 bytes: a fixed pace overran it whenever the emulator was
            starved)
  RECEIVED  it has read the program's length (its checksum comes next)
  INTACT    length and checksum agree: the program runs now
  DAMAGED   "<length> <checksum>" follow, and the program does not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

READY = ACK = RECEIVED = INTACT = b"\x06"
DAMAGED = b"\x15"
MODULUS = 65536

# How the loader reads raw bytes from its console, tried in order: sys.stdin.buffer
# (any firmware with MICROPY_PY_SYS_STDIO_BUFFER), else the micro:bit's console
# UART (its MicroPython 1.9.2 has no sys.stdin; uart.read returns None when empty).
CONSOLE_READERS = (
    "__import__('sys').stdin.buffer.read",
    "__import__('microbit').uart.read",
)

# Answers "<reader index or -1> <1 if compile() exists>" and binds no global.
PROBE = ("def _p():\n"
         " try:compile;c=1\n"
         " except NameError:c=0\n"
         " for i,r in enumerate((" + ",".join(repr(r) for r in CONSOLE_READERS) + ",)):\n"
         "  try:eval(r);return i,c\n"
         "  except Exception:pass\n"
         " return -1,c\n"
         "print('\\x06%d %d'%globals().pop('_p')())\n").encode()


@dataclass(frozen=True)
class Console:
    """What the probe found: how to read the console, and whether compile() exists."""

    reader: str | None  # None: the firmware has none of CONSOLE_READERS
    compiles: bool

    @classmethod
    def parse(cls, output: bytes) -> Console | None:
        """From the probe's output; None when it is not the probe's answer."""
        m = re.fullmatch(rb"\x06(-1|\d+) ([01])\r?\n", output)
        if not m or int(m[1]) >= len(CONSOLE_READERS):
            return None
        index = int(m[1])
        return cls(CONSOLE_READERS[index] if index >= 0 else None, m[2] == b"1")


# Bytes a console may act on instead of passing them (Ctrl-C interrupts, a pty's
# Ctrl-Z and Ctrl-\ stop or kill, Ctrl-A..D steer a raw REPL) go as ESCAPE followed by
# the byte xor 0x40. 0xff never occurs in UTF-8 source, so escaping it too keeps this
# lossless for any bytes.
ESCAPE = 0xFF
_PLAIN = frozenset({9, 10, 13, *range(0x20, 0x7F), *range(0x80, 0xFF)})

_LOADER = """def _m(n,w,s):
 r={reader};o=print;o(end='\\x06');p=[];k=0
 while k<n:
  c=r(min(w-k%w,n-k))
  if c:
   p+=[c];k+=len(c)
   if k%w<1:o(end='\\x06')
 o(end='\\x06');b=b''.join(p);p=x=0
{unescape} for c in b:x=(x*31+c)%{modulus}
 if(len(b),x)!=({length},s):o('\\x15',len(b),x);return''
 o(end='\\x06');return b
exec({run})
"""
_UNESCAPE = " b=b.split(b'\\xff');b=b[0]+b''.join(bytes([q[0]^64])+q[1:]for q in b[1:])\n"


def checksum(data: bytes) -> int:
    """The loader's checksum, position-sensitive: a lost, changed or extra byte shows."""
    x = 0
    for c in data:
        x = (x * 31 + c) % MODULUS
    return x


def escape(code: bytes) -> bytes:
    if all(c in _PLAIN for c in code):
        return code
    out = bytearray()
    for c in code:
        if c in _PLAIN:
            out.append(c)
        else:
            out += bytes((ESCAPE, c ^ 0x40))
    return bytes(out)


@dataclass(frozen=True)
class Delivery:
    """One program made ready to go: the loader (sent by the raw REPL) and the data."""

    loader: bytes
    data: bytes  # the program as it goes on the line (escaped where needed)
    window: int  # bytes sent before waiting for the loader's ACK
    length: int  # of the program itself
    checksum: int
    frame: bytes  # the loader's line in an uncaught exception's traceback

    @classmethod
    def of(cls, code: bytes, window: int, console: Console) -> Delivery:
        data = escape(code)
        total = checksum(code)
        call = f"globals().pop('_m')({len(data)},{window},{total})"
        loader = _LOADER.format(
            reader=console.reader, modulus=MODULUS, unescape=_UNESCAPE if data != code else "",
            length=len(code), run=f"compile({call},'<stdin>','exec')" if console.compiles else call)
        frame = b'  File "<stdin>", line %d, in <module>' % loader.count("\n")
        return cls(loader.encode(), data, window, len(code), total, frame)

    def damage(self, report: bytes) -> str:
        """Why the board refused the program, from its DAMAGED line."""
        fields = report.split()
        try:
            got_length, got_sum = int(fields[0]), int(fields[1])
        except (IndexError, ValueError):
            return f"the board's check of the program was unreadable: {report!r}"
        return (f"sent {self.length} bytes (checksum {self.checksum}), "
                f"the board received {got_length} (checksum {got_sum})")

    def strip_frame(self, errors: bytes) -> bytes:
        """An uncaught exception's traceback as a direct run prints it: the loader's
        frame (its exec line, the outermost) taken out."""
        head = re.match(rb"Traceback \(most recent call last\):\r?\n", errors)
        if head and errors[head.end():].startswith(self.frame):
            rest = errors[head.end() + len(self.frame):]
            return errors[:head.end()] + rest[rest.find(b"\n") + 1:]
        return errors
