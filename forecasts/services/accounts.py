"""Accounts as the web UI sees them: registering, logging in, changing a password."""
from __future__ import annotations

from sqlalchemy.orm import Session

from forecasts.errors import AuthenticationRequired, InvalidInput
from forecasts.models import User
from forecasts.passwords import Passwords
from forecasts.services.users import authenticate, check_password, create_user, set_password


def register(session: Session, username: str, password: str, confirm: str, *,
             passwords: Passwords) -> User:
    """A new forecaster account; the password must be typed the same twice."""
    check_password(password)
    if password != confirm:
        raise InvalidInput("the two passwords differ", where="confirm")
    return create_user(session, username.strip(), password=password, role="forecaster",
                       passwords=passwords)


def log_in(session: Session, username: str, password: str, *, passwords: Passwords) -> User:
    """The user these credentials belong to; one vague error otherwise, so that a failed
    login does not reveal which usernames exist."""
    user = authenticate(session, username.strip(), password, passwords) if username else None
    if user is None:
        raise AuthenticationRequired("unknown username or wrong password", where="password")
    if passwords.needs_rehash(user.password_hash or ""):
        # The hashing cost was raised since this hash was made: upgrade it now that we
        # have the password, without ending the session being started.
        user.password_hash = passwords.hash(password)
        session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str, confirm: str, *,
                    passwords: Passwords) -> None:
    """Replace the password after checking the current one; ends the user's other sessions."""
    if not passwords.verify(user.password_hash, current):
        raise InvalidInput("is not your current password", where="current")
    check_password(new, where="new")
    if new != confirm:
        raise InvalidInput("the two new passwords differ", where="confirm")
    set_password(session, user, new, passwords)


def end_sessions(session: Session, user: User) -> None:
    """Void every session of the user (logging out everywhere)."""
    user.session_epoch += 1
    session.flush()
