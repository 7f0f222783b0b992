"""Accounts as the web UI sees them: registering, logging in, changing a password."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from sqlalchemy.orm import Session

from forecasts.errors import AuthenticationRequired, InvalidInput
from forecasts.models import User
from forecasts.passwords import Passwords
from forecasts.services import email
from forecasts.services.users import Lockout, attempt_login, check_password, create_user, set_password

# Failed logins and lockouts, with the username tried and the client's address.
log = logging.getLogger("forecasts.auth")
REFUSED = "unknown username or wrong password"


def register(session: Session, username: str, password: str, confirm: str, *,
             passwords: Passwords, address: str = "",
             settings: Mapping[str, Any] | None = None) -> User:
    """A new forecaster account; the password must be typed the same twice. With an
    address, a verification link is mailed to it (the account has no address until the
    link is followed), which needs the `settings`."""
    check_password(password, username=username.strip())
    if password != confirm:
        raise InvalidInput("the two passwords differ", where="confirm")
    address = email.check_address(address) if address.strip() else ""
    user = create_user(session, username.strip(), password=password, role="forecaster",
                       passwords=passwords)
    if address:
        if settings is None:
            raise ValueError("register with an address needs the settings")
        email.request_verification(session, settings, user, address)
    return user


def log_in(session: Session, username: str, password: str, *, passwords: Passwords,
           lockout: Lockout = Lockout(), client: str = "-") -> User:
    """The user these credentials belong to; one vague error otherwise (also for a locked
    account), so that a failed login reveals neither which usernames exist nor a lockout.

    The caller commits on failure too: the failure count must be kept.
    """
    username = username.strip()
    attempt = attempt_login(session, username, password, passwords, lockout=lockout) \
        if username else None
    if attempt is None or attempt.user is None:
        if attempt is not None and attempt.locked:
            log.warning("login refused, account locked: user=%r address=%s failures=%d",
                        username, client, attempt.failures)
        else:
            log.warning("failed login: user=%r address=%s known=%s failures=%d", username,
                        client, bool(attempt and attempt.known), attempt.failures if attempt else 0)
        raise AuthenticationRequired(REFUSED, where="password")
    user = attempt.user
    if passwords.needs_rehash(user.password_hash or ""):
        # The hashing cost was raised since this hash was made: upgrade it now that we
        # have the password, without ending the session being started.
        user.password_hash = passwords.hash(password)
        session.flush()
    return user


def change_password(session: Session, user: User, current: str, new: str, confirm: str, *,
                    passwords: Passwords) -> int:
    """Replace the password after checking the current one; ends the user's other sessions
    and revokes their API tokens (the number revoked)."""
    if not passwords.verify(user.password_hash, current):
        raise InvalidInput("is not your current password", where="current")
    check_password(new, username=user.username, where="new")
    if new != confirm:
        raise InvalidInput("the two new passwords differ", where="confirm")
    return set_password(session, user, new, passwords)


def end_sessions(session: Session, user: User) -> None:
    """Void every session of the user (logging out everywhere)."""
    user.session_epoch += 1
    session.flush()
