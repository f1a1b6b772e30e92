"""The text of json.dumps(value, indent=1, sort_keys=True, ensure_ascii=True), made
about twice as fast: with `indent` set, Python's JSON encoder is its pure-Python
generator chain, and the compiler indents every test entry of every port's manifest.
Strings go through the C escaper the encoder itself uses. Any value outside plain
JSON types (a subclass, a non-string key) takes the standard encoder, so the text is
always the standard one."""

from __future__ import annotations

import json
from json.encoder import INFINITY, encode_basestring_ascii

_standard = json.JSONEncoder(indent=1, sort_keys=True, ensure_ascii=True).encode


class _Unusual(Exception):
    """A value this module leaves to the standard encoder."""


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == INFINITY:
        return "Infinity"
    if value == -INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _text(value: object, pad: str) -> str:
    if type(value) is str:
        return encode_basestring_ascii(value)
    if type(value) is dict:
        if not value:
            return "{}"
        inner = pad + " "
        parts = []
        for key, item in sorted(value.items()):
            if type(key) is not str:
                raise _Unusual
            parts.append(encode_basestring_ascii(key) + ": " + _text(item, inner))
        return "{\n" + inner + (",\n" + inner).join(parts) + "\n" + pad + "}"
    if type(value) is list or type(value) is tuple:
        if not value:
            return "[]"
        inner = pad + " "
        return "[\n" + inner + (",\n" + inner).join([_text(item, inner) for item in value]) + "\n" + pad + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is float:
        return _float(value)
    raise _Unusual


def indented(value: object, pad: str = "") -> str:
    """json.dumps(value, indent=1, sort_keys=True, ensure_ascii=True), with `pad` before
    every line but the first (the value placed at that depth of an enclosing document)."""
    try:
        return _text(value, pad)
    except (_Unusual, TypeError):  # (TypeError: keys sorted that do not compare)
        text = _standard(value)
        return text.replace("\n", "\n" + pad) if pad else text
