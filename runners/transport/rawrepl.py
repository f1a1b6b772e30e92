"""MicroPython's raw REPL, spoken over a SerialTransport - the protocol in one place.

Facts of the protocol (as the firmware implements it):
* Ctrl-A enters the raw REPL; the board answers "raw REPL; CTRL-B to exit\\r\\n>".
* At that ">" the board collects code until Ctrl-D, answers "OK" and runs it.
  Ctrl-D on an empty line is a soft reset.
* After running, it prints the output, "\\x04", the error output (a traceback),
  "\\x04" and the next ">".
* Raw-paste: "\\x05A\\x01" at the prompt. "R\\x01" + a 16-bit little-endian window
  size means yes; the host may then send that many bytes, and each "\\x01" the
  board sends frees another window. A "\\x04" from the board asks the host to stop;
  the host ends its data with "\\x04" and the board acknowledges with "\\x04".
  "R\\x00" means the firmware knows raw-paste but has it disabled; firmware that
  predates it takes the bytes as code and re-enters the raw REPL on the Ctrl-A.
"""

from __future__ import annotations

import re
import time

from mpconform.runners.run.matching import marker_line_end
from mpconform.runners.transport.delivery import ACK, DAMAGED, INTACT, PROBE, READY, RECEIVED, Console, Delivery
from mpconform.runners.transport.line import ReadTimeout, SerialTransport

BANNER = b"raw REPL; CTRL-B to exit\r\n>"
FRIENDLY_PROMPT = b">>> "
RAW_PASTE_REQUEST = b"\x05A\x01"
# A booting port announces itself; seen mid-test it means the board reset.
BOOT_BANNER = re.compile(rb"MicroPython \S+ on \d{4}-\d\d-\d\d; |raw REPL; CTRL-B to exit\r\n>")
PLAIN_CHUNK = 256
PLAIN_CHUNK_DELAY_S = 0.01  # lets a board with a small UART buffer keep up
HANDSHAKE_S = 5.0  # the board's answers to the protocol; a loaded host can starve an emulator for seconds
SETTLE_S = 0.2  # quiet time that confirms the end of a test that printed \x04 itself
SENDS = 3  # a program that arrived damaged is sent up to twice more: a starved emulator can lose a byte of a resend too
PROBE_S = 5.0
STALL_S = 1.0  # no ACK this long: bytes were lost, the loader waits for more
FILL_S = 0.2  # then one Ctrl-C each this often: it interrupts the loader, or fills the gap
MAX_FILL = 16


class ProtocolError(Exception):
    """The board answered, but not as a raw REPL would."""


class Undelivered(Exception):
    """The program did not reach the board intact, even when sent again; it did not run."""


class BoardReset(Exception):
    """The board rebooted while running code; `output` is what it printed before."""

    def __init__(self, output: bytes):
        super().__init__("the board reset while running the test")
        self.output = output


class ExecTimeout(Exception):
    """The code did not finish in time; `output` is what it printed so far."""

    def __init__(self, output: bytes):
        super().__init__("no end of output in time")
        self.output = output


def _end_of_run(buffer: bytes) -> int:
    """Index just past "<output>\\x04<errors>\\x04>", or -1."""
    first = buffer.find(b"\x04")
    if first < 0:
        return -1
    end = buffer.find(b"\x04>", first + 1)
    return -1 if end < 0 else end + 2


def _plausible_end(data: bytes) -> bool:
    """True when `data` can only be the firmware's end: two markers, the error part
    empty or a traceback. Anything else means the test printed markers itself."""
    if data.count(b"\x04") != 2:
        return False
    errors = split_output(data)[1]
    return not errors or errors.startswith(b"Traceback (most recent call last):")


def split_output(data: bytes) -> tuple[bytes, bytes]:
    """(stdout, stderr) from "<output>\\x04<errors>\\x04>". The last marker pair is the
    firmware's, so a test that prints \\x04 itself keeps it in its output."""
    body = data[:-2] if data.endswith(b"\x04>") else data
    cut = body.rfind(b"\x04")
    if cut < 0:
        return body, b""
    return body[:cut], body[cut + 1:]


def _answering(transport, interact: tuple):
    """An end-of-run finder that also sends each step's bytes once its marker has appeared."""
    steps = [(after.encode("utf-8"), send.encode("latin-1")) for after, send in interact]
    searched = 0

    def find(buffer: bytes) -> int:
        nonlocal searched
        while steps:
            end = marker_line_end(buffer, steps[0][0], searched)
            if end < 0:
                break
            searched = end
            transport.write(steps.pop(0)[1])
        return _end_of_run(buffer)

    return find


class RawRepl:
    def __init__(self, transport: SerialTransport, raw_paste: bool = True,
                 chunk: int = PLAIN_CHUNK, chunk_delay_s: float = PLAIN_CHUNK_DELAY_S):
        self.transport = transport
        # None: not yet known; set the first time the board is asked.
        self.raw_paste: bool | None = None if raw_paste else False
        self.chunk = chunk
        self.chunk_delay_s = chunk_delay_s
        # How the firmware's console is read (runners/delivery.py); None: not yet asked.
        self.console: Console | None = None

    def enter(self, timeout_s: float) -> None:
        """Interrupt whatever runs and reach the raw REPL prompt; ReadTimeout if the board won't."""
        t = self.transport
        deadline = time.monotonic() + timeout_s
        while True:
            t.write(b"\r\x03\x03")
            t.discard_input(quiet_s=0.05, max_s=0.5)
            t.write(b"\x01")
            try:
                t.read_until(BANNER, max(0.05, min(0.5, deadline - time.monotonic())))
                t.take_buffer()
                return
            except ReadTimeout:
                if time.monotonic() >= deadline:
                    raise

    def soft_reset(self, timeout_s: float) -> None:
        """Ctrl-D at the raw prompt, then back to the raw prompt. A board reboots and stays
        in the raw REPL; the unix port (whose process ends) comes back to its friendly
        REPL, so that is entered again."""
        t = self.transport
        t.write(b"\x04")

        def find(buffer: bytes) -> int:
            for marker in (BANNER, FRIENDLY_PROMPT):
                at = buffer.find(marker, 2)  # past the "OK"
                if at >= 0:
                    return at + len(marker)
            return -1

        seen = t.read_to(find, timeout_s)
        if seen.endswith(BANNER):
            return
        t.write(b"\x01")  # a fresh friendly REPL: Ctrl-A is all it needs
        try:
            t.read_until(BANNER, min(timeout_s, HANDSHAKE_S))
        except ReadTimeout:
            self.enter(timeout_s)

    def run(self, code: bytes, timeout_s: float, interact: tuple = (), verify: bool = False) -> tuple[bytes, bytes]:
        """Run `code` at the raw prompt; (stdout, stderr). ExecTimeout, BoardReset,
        ProtocolError, ReadTimeout (handshake) or Undelivered say why not.

        `verify`: the program goes through a loader that checks it arrived intact before
        it runs (runners/delivery.py), and is sent again if it did not.

        `interact`: ((after, send), ...) - once the output holds `after`, `send` goes on
        the line as bytes. Such code goes by the plain raw REPL, where the port's console
        is as it is for any running script (the unix port leaves its terminal raw during
        raw-paste, so a Ctrl-C would never become its SIGINT)."""
        # The test's time starts when its code starts going out, as a process's starts at
        # its launch: a board slow to take the code cannot stretch a timeout.
        deadline = time.monotonic() + timeout_s
        console = self._probe() if verify else None
        delivery = Delivery.of(code, self.chunk, console) if console and console.reader else None
        if delivery:
            self._deliver(delivery, interact)
        else:
            self._send(code, interact)
        t = self.transport
        if time.monotonic() >= deadline:
            raise ExecTimeout(t.take_buffer())
        end_of_run = _end_of_run
        if interact:
            end_of_run = _answering(t, interact)
        while True:
            try:
                data = t.read_to(end_of_run, min(0.25, max(0.0, deadline - time.monotonic())))
                out, err = split_output(self._settle(data, deadline))
                return (out, delivery.strip_frame(err)) if delivery else (out, err)
            except ReadTimeout as exc:
                if BOOT_BANNER.search(exc.data):
                    raise BoardReset(t.take_buffer()) from None
                if time.monotonic() >= deadline:
                    raise ExecTimeout(t.take_buffer()) from None

    def _send(self, code: bytes, interact: tuple) -> None:
        if self.raw_paste is not False and not interact:
            self._send_raw_paste(code)
        else:
            self._send_plain(code)

    # -- a checked delivery (runners/delivery.py) ------------------------------------
    @property
    def checkable(self) -> bool | None:
        """Whether programs can be checked on this firmware (None: not yet known)."""
        return None if self.console is None else self.console.reader is not None

    def _probe(self) -> Console:
        """Ask the firmware once how its console is read. "None of them" is believed
        only when said twice: a damaged probe could say it too."""
        if self.console is not None:
            return self.console
        said = []
        for _ in range(SENDS + 1):
            out, err = self.run(PROBE, PROBE_S)
            found = None if err else Console.parse(out)
            if found and (found.reader or said.count(found) >= 1):
                self.console = found
                return found
            said.append(found or (out + err)[-200:])
        raise Undelivered(f"the board's answers to the runner's probe of its console were damaged: {said!r}")

    def _deliver(self, delivery: Delivery, interact: tuple) -> None:
        """Send the loader and the program until the loader finds it intact (it then
        runs); Undelivered after SENDS tries."""
        why = []
        for _ in range(SENDS):
            self._send(delivery.loader, interact)
            problem, ended = self._feed(delivery)
            if problem is None:
                return
            why.append(problem)
            self._abandon(ended)
        raise Undelivered(f"the program did not arrive intact in {SENDS} sends: " + "; ".join(why))

    def _feed(self, delivery: Delivery) -> tuple[str | None, bool]:
        """The loader runs: send it the program. (None, _) once it says intact, else
        (why not, whether the loader's run has ended)."""
        t = self.transport
        data, window = delivery.data, delivery.window
        pieces = [data[i:i + window] for i in range(0, len(data), window)]
        if pieces:  # the first window waits in the board's buffer while the loader compiles
            t.write(pieces[0])
        first = self._start(HANDSHAKE_S)
        if first != READY:
            return f"the loader did not start: {self._rest(first)!r}", True
        for i, piece in enumerate(pieces):
            if i:
                t.write(piece)
            # The loader ACKs each full window and says RECEIVED after the last byte; until
            # then it waits for bytes the line lost.
            if len(piece) == window and (problem := self._await(ACK)):
                return problem, True
        if problem := self._await(RECEIVED):
            return problem, True
        verdict = self._marker(HANDSHAKE_S)
        if verdict == INTACT:
            return None, False
        if verdict == DAMAGED:
            return delivery.damage(t.read_until(b"\n", HANDSHAKE_S)), False
        return f"the loader's check ended unexpectedly: {self._rest(verdict)!r}", True

    def _await(self, marker: bytes) -> str | None:
        """Wait for the loader's `marker`. When the line lost bytes the loader waits for
        more: Ctrl-C interrupts it (or, on a port that does not look for it, fills the
        gap; the checksum then tells). None once the marker came, else what went wrong."""
        fills = 0
        while (got := self._marker(STALL_S if not fills else FILL_S, quiet=True)) is None:
            if fills == MAX_FILL:
                raise ReadTimeout(b"")  # the board takes nothing: the recovery ladder's turn
            self.transport.write(b"\x03")
            fills += 1
        if got == marker:
            return None
        return f"bytes were lost on the line (the loader waited for more): {self._rest(got)!r}"

    def _start(self, timeout_s: float) -> bytes:
        """READY, or the \x04 that ends a loader that failed. Bytes before either are
        no output of the loader (whose first byte is one of them) but strays left on
        the line (a CR LF after a reboot): skipped."""
        def find(buffer: bytes) -> int:
            ends = [at for at in (buffer.find(READY), buffer.find(b"\x04")) if at >= 0]
            return min(ends) + 1 if ends else -1

        try:
            return self.transport.read_to(find, timeout_s)[-1:]
        except ReadTimeout as exc:
            if BOOT_BANNER.search(exc.data):
                raise BoardReset(self.transport.take_buffer()) from None
            raise

    def _marker(self, timeout_s: float, quiet: bool = False) -> bytes | None:
        """The loader's next byte; a reboot seen on the way is BoardReset. `quiet`: None
        when nothing comes in time, else that is ReadTimeout."""
        t = self.transport
        try:
            return t.read_exactly(1, timeout_s)
        except ReadTimeout as exc:
            if BOOT_BANNER.search(exc.data):
                raise BoardReset(t.take_buffer()) from None
            if quiet and not exc.data:
                return None
            raise

    def _rest(self, first: bytes) -> bytes:
        """`first` and what follows it up to the end of the loader's run, to say what
        went wrong; ReadTimeout if the run does not end."""
        def find(buffer: bytes) -> int:
            end = _end_of_run(first + buffer)
            return end - len(first) if end >= 0 else -1

        try:
            seen = first + self.transport.read_to(find, HANDSHAKE_S)
        except ReadTimeout as exc:
            if BOOT_BANNER.search(first + exc.data):
                raise BoardReset(first + self.transport.take_buffer()) from None
            raise
        if BOOT_BANNER.search(seen):
            raise BoardReset(seen)
        return seen[-300:]

    def _abandon(self, ended: bool) -> None:
        """After a failed delivery: let the loader's run end, then empty the raw REPL's
        line (a stray byte there would otherwise join the next code)."""
        t = self.transport
        if not ended:
            try:
                self._rest(b"")
            except ReadTimeout:
                t.write(b"\x03")  # still in the loader: interrupt it
                self._rest(b"")
        t.write(b"\x03")  # at the raw prompt Ctrl-C clears the line, silently
        t.discard_input(quiet_s=0.05, max_s=0.5)

    def _settle(self, data: bytes, deadline: float) -> bytes:
        """A test that printed \x04 itself may have printed "\x04>" too, so the end found
        may be early: the real one is the last, after which the board is quiet."""
        t = self.transport
        while not _plausible_end(data):
            def find(buffer: bytes) -> int:
                at = buffer.find(b"\x04>")
                return -1 if at < 0 else at + 2

            try:
                data += t.read_to(find, max(0.0, min(SETTLE_S, deadline - time.monotonic())))
            except ReadTimeout as exc:
                if not exc.data:
                    return data  # quiet: that was the end
                if time.monotonic() >= deadline:
                    raise ExecTimeout(data + t.take_buffer()) from None
        return data

    def _send_plain(self, code: bytes) -> None:
        t = self.transport
        for i in range(0, len(code), self.chunk):
            t.write(code[i:i + self.chunk])
            if self.chunk_delay_s:
                time.sleep(self.chunk_delay_s)
        t.write(b"\x04")
        answer = t.read_exactly(2, HANDSHAKE_S)
        if answer != b"OK":
            raise ProtocolError(f"expected OK after the code, got {answer + t.take_buffer()!r}")

    def _send_raw_paste(self, code: bytes) -> None:
        t = self.transport
        t.write(RAW_PASTE_REQUEST)
        answer = t.read_exactly(2, HANDSHAKE_S)
        if answer == b"R\x00":  # known but disabled: still at the raw prompt
            t.read_until(b">", HANDSHAKE_S)
            self.raw_paste = False
            return self._send_plain(code)
        if answer != b"R\x01":  # too old to know it: the Ctrl-A re-entered the raw REPL
            # (the 2 bytes just read were the banner's start, so wait for its end)
            t.read_until(BANNER[-len(b"CTRL-B to exit\r\n>"):], HANDSHAKE_S)
            self.raw_paste = False
            return self._send_plain(code)
        self.raw_paste = True
        size = t.read_exactly(2, HANDSHAKE_S)
        window = size[0] | size[1] << 8
        remaining, sent = 0, 0
        while sent < len(code):
            # Take every flow-control byte that has arrived; wait for one when the window is used up.
            while True:
                byte = t.poll_byte() if remaining else t.read_exactly(1, HANDSHAKE_S)
                if not byte:
                    break
                if byte == b"\x01":
                    remaining += window
                elif byte == b"\x04":  # the board wants no more
                    t.write(b"\x04")
                    raise ProtocolError("the board ended raw-paste before the code was sent")
                else:
                    raise ProtocolError(f"unexpected byte {byte!r} during raw-paste")
            n = min(remaining, len(code) - sent)
            t.write(code[sent:sent + n])
            sent += n
            remaining -= n
        t.write(b"\x04")
        t.read_until(b"\x04", HANDSHAKE_S)  # the board has all of it and compiles now
