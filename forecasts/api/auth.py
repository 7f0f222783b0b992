"""Bearer-token authentication of API requests."""
from __future__ import annotations

from flask import request
from sqlalchemy.orm import Session

from forecasts.api.errors import TokenRejected
from forecasts.errors import AuthenticationRequired
from forecasts.models import User
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
    token = bearer_token()
    try:
        user = tokens.authenticate_token(session, token, touch=write)
    except AuthenticationRequired as error:
        raise TokenRejected(error.message, where=error.where) from None
    if not user.active:
        # Only the token's holder sees this, and they know whose token it is.
        raise TokenRejected("the API token's account is deactivated", where=HEADER)
    return user
