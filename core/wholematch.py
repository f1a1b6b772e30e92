"""JSON Schema validation as the project's schemas mean it: a `pattern` written ^...$
matches the whole string. In the schema language (ECMA-262 regexes, as jsonschema_rs
reads them) `$` ends the text; Python's `re` also lets `$` match before a final
newline, so "zz.first\\n" would pass as a behaviour id and reach a file name, a
Makefile or C. Every schema check here goes through this module.

A file is checked by jsonschema_rs first, which answers "valid?" many times faster;
jsonschema, which words the errors, is imported only for a file that is not valid
(importing it costs every compile about a tenth of a second)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any


def _whole(pattern: str) -> bool:
    return pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")


def full_match(pattern: str, text: str) -> bool:
    """`pattern` over `text` as the schema means it: the whole text when anchored ^...$."""
    return (re.fullmatch(pattern[1:-1], text) if _whole(pattern) else re.search(pattern, text)) is not None


@functools.cache
def wording_validator_class() -> Any:
    """jsonschema's Draft 2020-12 validator with whole-string patterns."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def pattern(validator: Any, pattern: str, instance: object, schema: object) -> Iterator[ValidationError]:
        if isinstance(instance, str) and not full_match(pattern, instance):
            yield ValidationError(f"{instance!r} does not match {pattern!r}")

    return validators.extend(Draft202012Validator, {"pattern": pattern})  # type: ignore[no-untyped-call]


def inline_refs(node: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    """The schema with each local `{"$ref": "#/$defs/x"}` replaced by x itself: the same
    checks and messages, without resolving a reference for every value of a large spec.
    (The spec schema is not recursive; a deep chain is left as a reference.)"""
    if isinstance(node, list):
        return [inline_refs(item, defs, depth) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1 and depth < 16:
        target = defs.get(ref.removeprefix("#/$defs/"))
        if target is not None:
            return inline_refs(target, defs, depth + 1)
    return {key: inline_refs(value, defs, depth) for key, value in node.items()}


class SchemaChecker:
    """A JSON Schema checked with both validators (see the module's docstring). A schema
    jsonschema_rs refuses is checked by jsonschema, which says why."""

    def __init__(self, schema: dict[str, Any]):
        self.schema = schema
        self.fast = None
        try:
            import jsonschema_rs

            self.fast = jsonschema_rs.Draft202012Validator(schema)  # checks the schema itself first
        except ImportError:
            pass
        except Exception:  # a schema it refuses (or cannot read): jsonschema says why, below
            self.fast = None
        if self.fast is None:
            wording_validator_class().check_schema(schema)

    @functools.cached_property
    def validator(self) -> Any:
        """The wording validator (jsonschema), built when first needed."""
        return wording_validator_class()(inline_refs(self.schema, self.schema.get("$defs", {})))

    def iter_errors(self, data: object) -> Iterator[Any]:
        if self.fast is not None and self.fast.is_valid(data):
            return iter(())
        errors: Iterator[Any] = self.validator.iter_errors(data)
        return errors
