"""Free text the database must be able to store on SQLite and PostgreSQL alike."""
from __future__ import annotations

from forecasts.errors import InvalidInput


def check_storable(value: str, *, where: str) -> str:
    """`value` unchanged, or InvalidInput if PostgreSQL's text type cannot hold it:
    a NUL character, or a lone surrogate (JSON and Python strings can carry both)."""
    if "\x00" in value:
        raise InvalidInput("contains a NUL character", where=where)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("contains an unpaired surrogate character", where=where) from None
    return value
