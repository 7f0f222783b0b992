"""Bearer-token authentication of API requests."""
from __future__ import annotations

from flask import request
from sqlalchemy.orm import Session

from forecasts.api.errors import TokenRejected
from forecasts.errors import AuthenticationRequired
from forecasts.models import ApiToken, User
from forecasts.services import tokens

HEADER = "Authorization"


def bearer_token() -> str:
    """The token of `Authorization: Bearer <token>`; 401 when absent or of another scheme."""
    header = request.headers.get(HEADER, "").strip()
    if not header:
        raise AuthenticationRequired("this endpoint needs the header "
                                     "'Authorization: Bearer <token>'", where=HEADER)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("expected 'Bearer <token>'", where=HEADER)
    return token.strip()


def authenticated_user(session: Session, *, write: bool) -> User:
    """The active user whose live token the request carries; a write records the token's use."""
    token = authenticated_token(session)
    if write:
        tokens.touch_token(token)
    return token.user


def authenticated_token(session: Session) -> ApiToken:
    """The live token the request carries, of an active user (its use not recorded: a
    view that reads before it writes calls `tokens.touch_token` once it writes)."""
    plain = bearer_token()
    try:
        token = tokens.live_token(session, plain)
    except AuthenticationRequired as error:
        raise TokenRejected(error.message, where=error.where) from None
    if not token.user.active:
        # Only the token's holder sees this, and they know whose token it is.
        raise TokenRejected("the API token's account is deactivated", where=HEADER)
    return token
