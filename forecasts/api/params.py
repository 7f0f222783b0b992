"""Reading requests: the query string and JSON bodies, strictly.

400 (MalformedRequest) when the request cannot be read at all; 422 (InvalidInput)
when it can be read but a value is wrong.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Iterable

from flask import current_app, request

from forecasts import timeutil
from forecasts.api.errors import MalformedRequest
from forecasts.errors import InvalidInput

MAX_BODY = 256 * 1024
MAX_TEXT = 200
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_TRUE = ("", "1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "a boolean", type(None): "null"}


def query(*allowed: str) -> dict[str, str]:
    """The query string as {name: value}; unknown, repeated or NUL-bearing parameters are
    rejected (a typo such as `limt=5` must not pass silently)."""
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


def text(args: dict[str, str], name: str, *, limit: int = MAX_TEXT) -> str | None:
    """A text parameter, stripped; None when absent or empty."""
    value = args.get(name, "").strip()
    if len(value) > limit:
        raise InvalidInput(f"is longer than {limit} characters", where=name)
    return value or None


def integer(args: dict[str, str], name: str, *, default: int, low: int, high: int) -> int:
    """A whole-number parameter within [low, high]."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not _INTEGER.match(raw):
        raise InvalidInput(f"{raw[:40]!r} is not a whole number", where=name)
    value = int(raw)
    if not low <= value <= high:
        raise InvalidInput(f"{value} is not between {low} and {high}", where=name)
    return value


def boolean(args: dict[str, str], name: str, *, default: bool) -> bool:
    """true/false, 1/0, yes/no, on/off; a bare `?name` means true."""
    if name not in args:
        return default
    raw = args[name].strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InvalidInput(f"{args[name][:40]!r} is not true or false", where=name)


def timestamp(args: dict[str, str], name: str) -> datetime | None:
    """An ISO 8601 parameter in UTC; None when absent."""
    raw = text(args, name, limit=40)
    if raw is None:
        return None
    return timeutil.parse(raw, where=name)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def json_body(fields: Iterable[str]) -> dict[str, Any]:
    """The request's JSON object: content type, encoding, syntax and field names checked."""
    fields = tuple(fields)
    if not request.is_json:
        raise MalformedRequest(f"send a JSON body with Content-Type: application/json, not "
                               f"{request.mimetype or 'nothing'!r}", where="Content-Type")
    # A larger body is refused with 413 (the app's own limit still applies if lower).
    app_limit = current_app.config.get("MAX_CONTENT_LENGTH")
    request.max_content_length = min(app_limit, MAX_BODY) if app_limit else MAX_BODY
    try:
        data = json.loads(request.get_data(cache=False).decode("utf-8"),
                          parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise MalformedRequest("is not UTF-8 text", where="body") from None
    except RecursionError:
        raise MalformedRequest("is nested too deeply", where="body") from None
    except ValueError as error:  # JSONDecodeError, NaN/Infinity, a number too long to read
        raise MalformedRequest(f"is not valid JSON ({error})", where="body") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"must be a JSON object, not {_JSON_TYPES[type(data)]}", where="body")
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(repr(k[:40]) for k in unknown)} "
                           f"(expected: {', '.join(fields)})", where="body")
    return data
