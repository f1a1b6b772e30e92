"""JSON Schema validation as the project's schemas mean it: a `pattern` written ^...$
matches the whole string. In the schema language (ECMA-262 regexes, as jsonschema_rs
reads them) `$` ends the text; Python's `re` also lets `$` match before a final
newline, so "zz.first\\n" would pass as a behaviour id and reach a file name, a
Makefile or C. Every schema check here goes through this validator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators


def _whole(pattern: str) -> bool:
    return pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")


def full_match(pattern: str, text: str) -> bool:
    """`pattern` over `text` as the schema means it: the whole text when anchored ^...$."""
    return (re.fullmatch(pattern[1:-1], text) if _whole(pattern) else re.search(pattern, text)) is not None


def _pattern(validator: Any, pattern: str, instance: object, schema: object) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not full_match(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})  # type: ignore[no-untyped-call]
