"""Checking a value against the API's own JSON Schemas (the subset the document uses).

The request schemas of forecasts.api.schemas are the contract: the OpenAPI document
publishes them and this module enforces them, so the two cannot drift. A keyword this
module does not know is a programming error (KeyError at the first check), never a
silently skipped rule.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable

from forecasts.errors import InvalidInput

Schema = dict[str, Any]
# Keywords that only document; they constrain nothing.
_NOTES = frozenset({"description", "default", "examples", "title", "format"})
# oneOf of ForecastInput (probability or probabilities) depends on the question's kind,
# which only the forecast service knows; it checks that choice with its own message.
_DECIDED_ELSEWHERE = frozenset({"oneOf"})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    # JSON Schema: an integer is any number without a fraction (1.0 included).
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) in (int, float),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}
_NAMES = {"null": "null", "boolean": "true or false", "integer": "a whole number",
          "number": "a number", "string": "text", "array": "an array", "object": "an object"}


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check(value: Any, schema: Schema, *, where: str,
          resolve: Callable[[str], Schema] | None = None) -> None:
    """Raise InvalidInput naming `where` when `value` breaks `schema` (JSON Schema 2020-12:
    type, enum, bounds, lengths, pattern, items, properties, required, anyOf, $ref)."""
    for key in schema:
        if key not in _NOTES and key not in _DECIDED_ELSEWHERE and key not in _KEYWORDS:
            raise KeyError(f"validate.check does not support the keyword {key!r}")
    if "$ref" in schema:
        if resolve is None:
            raise KeyError(f"no resolver for {schema['$ref']!r}")
        check(value, resolve(schema["$ref"]), where=where, resolve=resolve)
    for key in _ORDER:
        if key in schema:
            _KEYWORDS[key](value, schema, where, resolve)


def _type(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not any(_TYPES[t](value) for t in types):
        raise InvalidInput(f"{_brief(value)} is not {' or '.join(_NAMES[t] for t in types)}",
                           where=where)
    if type(value) is float and not math.isfinite(value):
        raise InvalidInput(f"{value!r} is not a finite number", where=where)


def _enum(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if value not in schema["enum"]:
        raise InvalidInput(f"{_brief(value)} is not one of "
                           f"{', '.join(map(str, schema['enum']))}", where=where)


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _minimum(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if _number(value) and value < schema["minimum"]:
        raise InvalidInput(f"{_brief(value)} is below the minimum {schema['minimum']}",
                           where=where)


def _maximum(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if _number(value) and value > schema["maximum"]:
        raise InvalidInput(f"{_brief(value)} is above the maximum {schema['maximum']}",
                           where=where)


def _min_length(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, str) and len(value) < schema["minLength"]:
        raise InvalidInput("is empty" if not value else
                           f"is shorter than {schema['minLength']} characters", where=where)


def _max_length(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, str) and len(value) > schema["maxLength"]:
        raise InvalidInput(f"is longer than {schema['maxLength']} characters", where=where)


def _pattern(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, str) and not re.search(schema["pattern"], value):
        raise InvalidInput(schema.get("x-pattern-message")
                           or f"does not match the pattern {schema['pattern']}", where=where)


def _min_items(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, list) and len(value) < schema["minItems"]:
        raise InvalidInput(f"has {len(value)} items, fewer than {schema['minItems']}",
                           where=where)


def _max_items(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, list) and len(value) > schema["maxItems"]:
        raise InvalidInput(f"has {len(value)} items, more than {schema['maxItems']}",
                           where=where)


def _items(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, list):
        for i, item in enumerate(value):
            check(item, schema["items"], where=f"{where}[{i}]", resolve=resolve)


def _additional(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, dict) and schema["additionalProperties"] is False:
        known = schema.get("properties", {})
        unknown = sorted(k for k in value if k not in known)
        if unknown:
            raise InvalidInput(f"unknown field(s) {', '.join(repr(k[:40]) for k in unknown)} "
                               f"(expected: {', '.join(known)})", where=where)


def _required(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, dict):
        for name in schema["required"]:
            if name not in value:
                raise InvalidInput("is missing", where=f"{where}.{name}")


def _properties(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    if isinstance(value, dict):
        for name, sub in schema["properties"].items():
            if name in value:
                check(value[name], sub, where=f"{where}.{name}", resolve=resolve)


def _any_of(value: Any, schema: Schema, where: str, resolve: Any) -> None:
    errors = []
    for option in schema["anyOf"]:
        try:
            check(value, option, where=where, resolve=resolve)
            return
        except InvalidInput as error:
            errors.append(error)
    # The most specific complaint: a null alternative explains nothing about the value.
    raise max(errors, key=lambda e: len(e.where or ""))


_KEYWORDS: dict[str, Callable[[Any, Schema, str, Any], None]] = {
    "type": _type, "enum": _enum, "minimum": _minimum, "maximum": _maximum,
    "minLength": _min_length, "maxLength": _max_length, "pattern": _pattern,
    "minItems": _min_items, "maxItems": _max_items, "items": _items,
    "additionalProperties": _additional, "required": _required, "properties": _properties,
    "anyOf": _any_of, "$ref": lambda *_: None, "x-pattern-message": lambda *_: None,
}
# The type first, so that later keywords may rely on it.
_ORDER = ("type", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern",
          "minItems", "maxItems", "items", "additionalProperties", "required", "properties",
          "anyOf")
