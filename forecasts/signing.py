"""Signed, expiring tokens for links in mails (verification, password reset, unsubscribe).

itsdangerous with the site's SECRET_KEY; each purpose has its own salt, so a token made
for one purpose is refused by every other. A token carries only what its purpose needs:
ids, a fingerprint of the password hash (never the hash), and for verification the
address being verified (signed, not encrypted: readable by whoever holds the link,
who is the address's owner).
"""
from __future__ import annotations

from typing import Any, Mapping

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from forecasts.errors import InvalidInput

PURPOSES = ("verify-email", "reset-password", "unsubscribe")


def _serializer(config: Mapping[str, Any], purpose: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    return URLSafeTimedSerializer(config["SECRET_KEY"], salt=f"forecasts:{purpose}")


def sign(config: Mapping[str, Any], purpose: str, payload: Any) -> str:
    """A URL-safe token carrying `payload` (JSON-serialisable) for `purpose`."""
    return _serializer(config, purpose).dumps(payload)


def unsign(config: Mapping[str, Any], purpose: str, token: str, *,
           max_age_s: float | None = None, where: str = "token") -> Any:
    """The payload of a token made by `sign` for this purpose, no older than `max_age_s`;
    InvalidInput (naming `where`) for one that is forged, altered, for another purpose,
    or expired."""
    try:
        return _serializer(config, purpose).loads(token, max_age=max_age_s)
    except SignatureExpired:
        raise InvalidInput("this link has expired; ask for a new one", where=where) from None
    except BadSignature:
        raise InvalidInput("this link is not valid (altered, or made for something else)",
                           where=where) from None
