"""Escape spec text for generated C: string literals and comments.

Spec strings are data written by people; none of them may end a comment, start
a directive, continue a line or form a trigraph in the C we render. Both filters
emit printable ASCII only, so the output is the same on every machine.
"""

from __future__ import annotations

import re

_SIMPLE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def c_string(value) -> str:
    """A C string literal holding the UTF-8 bytes of `value`.

    '?' is escaped so no trigraph (e.g. '??/') can form; bytes outside printable
    ASCII become 3-digit octal escapes, which (unlike hex) never swallow the
    characters after them."""
    out = ['"']
    for byte in str(value).encode("utf-8"):
        ch = chr(byte)
        if ch in _SIMPLE:
            out.append(_SIMPLE[ch])
        elif ch == "?":
            out.append("\\?")
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out) + '"'


# Sequences that would end or nest a comment, or form a trigraph ('??/' is a
# backslash, which continues a // comment onto the next line).
_COMMENT_BREAKERS = re.compile(r"\*/|/\*|//|\?\?")


def _comment_safe(text: str) -> str:
    # A backslash could splice lines ('\\' at the end of a // comment line); it is
    # shown like the non-ASCII characters, by its code point.
    text = "".join(
        ch if 0x20 <= ord(ch) < 0x7F and ch != "\\" else (" " if ch in "\t\r\n\f\v" else f"<U+{ord(ch):04X}>")
        for ch in text
    )
    # Repeat until stable: breaking one pair can never create another, but overlapping runs
    # such as '???' or '*/*/' need more than one pass of a non-overlapping regex.
    while True:
        fixed = _COMMENT_BREAKERS.sub(lambda m: m.group()[0] + " " + m.group()[1], text)
        if fixed == text:
            break
        text = fixed
    return text


def c_comment(value, width: int = 0, prefix: str = "") -> str:
    """Text safe inside a C comment (block or //), on one line, or wrapped to
    `width` columns with every line after the first starting with `prefix`."""
    words = _comment_safe(str(value)).split()
    if not width:
        return " ".join(words)
    lines, line = [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return ("\n" + prefix).join(lines)


C_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A macro value the scaffold may write after #define: an integer or one identifier
# (e.g. MICROPY_FLOAT_IMPL_FLOAT); anything else is refused by the spec checks.
C_MACRO_VALUE = re.compile(r"^(-?[0-9]+|[A-Za-z_][A-Za-z0-9_]*)$")


def c_identifier(value) -> str:
    """Pass a C identifier through, refusing anything else (a template bug, not data)."""
    text = str(value)
    if not C_IDENTIFIER.fullmatch(text):
        raise ValueError(f"not a C identifier: {text!r}")
    return text
