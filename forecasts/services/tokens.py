"""API tokens: shown once, stored as SHA-256 hashes, revocable."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from forecasts import timeutil
from forecasts.errors import AuthenticationRequired, InvalidInput, NotFound
from forecasts.models import ApiToken, User

PREFIX = "fct_"
MAX_LABEL = 80


def _digest(token: str) -> str:
    # Tokens are 256 random bits, so a fast unsalted hash is enough: there is
    # nothing to brute-force, and lookups stay a single indexed equality.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, label: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`; the plain text is returned once and never stored."""
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"is longer than {MAX_LABEL} characters", where="label")
    plain = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, token_hash=_digest(plain), label=label)
    session.add(token)
    session.flush()
    return token, plain


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id.desc())))


def revoke_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id} of yours", where="token")
    if token.revoked_at is None:
        token.revoked_at = timeutil.now()
        session.flush()
    return token


# How stale a token's recorded time of last use may be.
TOUCH_EVERY = timedelta(minutes=1)


def touch_token(token: ApiToken) -> None:
    """Record the token's use, kept to the minute (`TOUCH_EVERY`): a token writing many
    times a minute does not also rewrite its own row every time."""
    now = timeutil.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now


def live_token(session: Session, plain: str) -> ApiToken:
    """The live (known, unrevoked) token `plain`, with its user; AuthenticationRequired
    otherwise."""
    if not plain or not plain.startswith(PREFIX) or len(plain) > 200:
        raise AuthenticationRequired("a valid API token is required", where="Authorization")
    token = session.scalars(select(ApiToken).options(joinedload(ApiToken.user))
                            .where(ApiToken.token_hash == _digest(plain))).first()
    if token is None or token.revoked_at is not None:
        raise AuthenticationRequired("the API token is unknown or revoked", where="Authorization")
    return token
