"""Pagination: `limit` with either `offset` or an opaque `cursor` from the previous page.

A cursor is base64url JSON naming the list it belongs to: questions continue at an
offset, a user's forecasts after the (time, id) of the last row shown, so that new
forecasts never shift a page.
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import request

from forecasts import timeutil
from forecasts.api.operations import MAX_CURSOR, MAX_OFFSET
from forecasts.errors import InvalidInput

# A keyset cursor holds (time in microseconds, id); its time must be a representable date.
_FIRST, _LAST = (timeutil.to_micros(d.replace(tzinfo=timeutil.UTC))
                 for d in (datetime.min, datetime.max))
_MAX_ID = 2 ** 31 - 1  # ids are 32-bit INTEGER columns on PostgreSQL


@dataclass(frozen=True)
class PageRequest:
    """Which page to show: `limit` rows from `offset`, or after the keyset `after`."""

    limit: int
    offset: int = 0
    after: tuple[int, int] | None = None


def encode_cursor(kind: str, **position: Any) -> str:
    """The opaque cursor of the next page of list `kind`."""
    raw = json.dumps({"k": kind, **position}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _int(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _from_cursor(cursor: str, kind: str, limit: int) -> PageRequest:
    bad = InvalidInput("is not a cursor this list gave out; start again without it",
                       where="cursor")
    if len(cursor) > MAX_CURSOR:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw.decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        raise bad from None
    if not isinstance(data, dict) or data.pop("k", None) != kind:
        raise bad
    if set(data) == {"offset"} and _int(data["offset"], 0, MAX_OFFSET):
        return PageRequest(limit, offset=data["offset"])
    after = data.get("after")
    if set(data) == {"after"} and isinstance(after, list) and len(after) == 2 \
            and _int(after[0], _FIRST, _LAST) and _int(after[1], 0, _MAX_ID):
        return PageRequest(limit, after=(after[0], after[1]))
    raise bad


def page_request(args: dict[str, Any], kind: str) -> PageRequest:
    """The page from the checked `limit`, `offset` and `cursor` of params.query."""
    if args["cursor"] is not None:
        if "offset" in request.args:
            raise InvalidInput("give either offset or cursor, not both", where="cursor")
        return _from_cursor(args["cursor"], kind, args["limit"])
    return PageRequest(args["limit"], offset=args["offset"])


def page(items: list[dict[str, Any]], limit: int, next_cursor: str | None) -> dict[str, Any]:
    """The envelope of one page; `next_cursor` is null on the last page."""
    return {"items": items, "limit": limit, "next_cursor": next_cursor}
