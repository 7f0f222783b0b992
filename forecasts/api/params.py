"""Reading requests: the query string and JSON bodies, strictly, by their declarations.

Each operation's parameters and body are declared once in forecasts.api.operations; this
module enforces exactly those declarations. 400 (MalformedRequest) when the request
cannot be read at all; 422 (InvalidInput) when it can be read but a value is wrong.
"""
from __future__ import annotations

import json
import re
from typing import Any

from flask import current_app, request

from forecasts import timeutil
from forecasts.api import validate
from forecasts.api.errors import MalformedRequest
from forecasts.api.operations import BODY, QUERY, Param
from forecasts.api.schemas import SCHEMAS
from forecasts.errors import InvalidInput

MAX_BODY = 256 * 1024
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}


def _raw_query(allowed: tuple[str, ...]) -> dict[str, str]:
    # Unknown, repeated or NUL-bearing parameters: a typo such as `limt=5` must not pass.
    args = request.args
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        expected = ", ".join(allowed) if allowed else "none"
        raise MalformedRequest(f"unknown parameter(s) {', '.join(map(repr, unknown))} "
                               f"(expected: {expected})", where="query")
    values = {}
    for name in args:
        given = args.getlist(name)
        if len(given) > 1:
            raise MalformedRequest("is given more than once", where=name)
        if "\x00" in given[0]:
            raise MalformedRequest("contains a NUL character", where=name)
        values[name] = given[0]
    return values


def _convert(param: Param, raw: str) -> Any:
    """The typed value of one parameter's text, checked against its schema."""
    schema, name = param.schema, param.name
    kind = schema["type"]
    value: Any = raw
    if kind == "integer":
        if not _INTEGER.match(raw.strip()):
            raise InvalidInput(f"{raw[:40]!r} is not a whole number", where=name)
        value = int(raw.strip())
    elif kind == "boolean":
        lowered = raw.strip().lower()
        if not lowered:
            raise InvalidInput("is empty (give true or false)", where=name)
        if lowered not in _TRUE + _FALSE:
            raise InvalidInput(f"{raw[:40]!r} is not true or false", where=name)
        value = lowered in _TRUE
    validate.check(value, schema, where=name)
    if schema.get("format") == "date-time":
        return timeutil.parse(value, where=name)
    return value.strip() if isinstance(value, str) else value


def query(operation: str) -> dict[str, Any]:
    """The operation's declared query parameters, checked and typed: {name: value}, the
    declared default (or None) for each one not given."""
    declared = QUERY[operation]
    raw = _raw_query(tuple(p.name for p in declared))
    return {p.name: _convert(p, raw[p.name]) if p.name in raw else p.schema.get("default")
            for p in declared}


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys; a client that repeats one meant something.
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise MalformedRequest(f"repeats the key {key[:40]!r}", where="body")
        data[key] = value
    return data


def _resolve(reference: str) -> dict[str, Any]:
    return SCHEMAS[reference.removeprefix("#/components/schemas/")]


def json_body(operation: str) -> dict[str, Any]:
    """The request's JSON object: content type, encoding, syntax, repeated keys, then the
    operation's declared body schema (fields named as `forecast.probability`)."""
    schema_name, where = BODY[operation]
    if not request.is_json:
        raise MalformedRequest(f"send a JSON body with Content-Type: application/json, not "
                               f"{request.mimetype or 'nothing'!r}", where="Content-Type")
    # A larger body is refused with 413 (the app's own limit still applies if lower).
    app_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    request.max_content_length = min(app_limit, MAX_BODY) if app_limit else MAX_BODY
    try:
        data = json.loads(request.get_data(cache=False).decode("utf-8"),
                          parse_constant=_no_constants, object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise MalformedRequest("is not UTF-8 text", where="body") from None
    except RecursionError:
        raise MalformedRequest("is nested too deeply", where="body") from None
    except ValueError as error:  # JSONDecodeError, NaN/Infinity, a number too long to read
        raise MalformedRequest(f"is not valid JSON ({error})", where="body") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"must be a JSON object, not {_JSON_TYPES[type(data)]}", where="body")
    schema = SCHEMAS[schema_name]
    # Unknown fields are the body's fault as a whole, the rest the named field's.
    validate.check(data, {"additionalProperties": False,
                          "properties": {name: {} for name in schema["properties"]}},
                   where="body")
    validate.check(data, schema, where=where, resolve=_resolve)
    return data
