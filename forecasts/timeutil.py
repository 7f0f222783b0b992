"""UTC timestamps: parsing, formatting and the integer microseconds the database stores."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from forecasts.errors import InvalidInput

UTC = timezone.utc
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def parse(value: object, *, where: str) -> datetime:
    """An aware UTC datetime from ISO 8601 text (naive text is taken as UTC)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not _ISO.match(value.strip()):
        raise InvalidInput(f"expected an ISO 8601 timestamp such as 2026-01-31T12:00:00Z, "
                           f"got {value!r}", where=where)
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
        return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:  # e.g. month 13, or past year 9999 in UTC
        raise InvalidInput(f"{value!r} is not a valid timestamp ({exc})", where=where) from None


def parse_optional(value: object, *, where: str) -> datetime | None:
    """Like `parse`, but None and empty text give None."""
    if value is None or value == "":
        return None
    return parse(value, where=where)


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z; microseconds only when present."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    spec = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(spec)


def to_micros(value: datetime) -> int:
    """Integer microseconds since the epoch (exact)."""
    delta = value.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """The inverse of `to_micros`."""
    seconds, micros = divmod(int(value), 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)
