"""Typing at a port's friendly REPL (the `>>> ` prompt a person sees), from the raw REPL.

A behaviour's `repl` lines run here once its program has ended at the raw prompt, with
no reset between, so what the program left behind (a locked heap, say) is what the
prompt meets. Facts of the REPL this leans on: Ctrl-B at the raw prompt leaves for the
friendly REPL, which prints its banner and `>>> `; each typed character is echoed and
Enter ends the line with "\\r\\n"; what the line prints follows, then the next `>>> `;
Ctrl-A at that prompt enters the raw REPL again."""

from __future__ import annotations

import time

from mpconform.runners.transport.line import ReadTimeout

PROMPT = b"\n>>> "  # after "\r\n", or a bare "\n" where the port prints a traceback
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"


def type_lines(transport, lines: tuple[str, ...], deadline: float) -> bytes:
    """What each line printed (the echo left out), one after another; back at the raw
    prompt afterwards. ReadTimeout when the prompt does not come back in time."""

    def left() -> float:
        return max(0.05, deadline - time.monotonic())

    transport.write(b"\x02")
    transport.read_until(b">>> ", left())
    out = b""
    for line in lines:
        sent = line.encode("ascii")
        transport.write(sent + b"\r")
        seen = transport.read_until(PROMPT, left())
        body = seen[: -len(PROMPT)].replace(b"\r\n", b"\n")
        # the echo is the typed line itself; what follows its line end is the output
        if body.startswith(sent):
            printed = body[len(sent):]
        else:
            end = body.find(b"\n")
            printed = body[end:] if end >= 0 else b""
        printed = printed[1:] if printed.startswith(b"\n") else printed
        printed = printed.rstrip(b"\r")
        out += printed + (b"\n" if printed else b"")
    transport.write(b"\x01")
    try:
        transport.read_until(RAW_BANNER, left())
    except ReadTimeout:
        pass  # the next test's recovery enters the raw REPL again, as after any test
    return out
