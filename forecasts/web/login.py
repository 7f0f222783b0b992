"""Login sessions with Flask-Login.

The session cookie carries "<user id>:<session epoch>". The user is loaded from the
database on every request, so a role change takes effect at once, and a session
whose epoch is older than the user's (after a logout or a password change) is void, as
is every session of a deactivated user.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from forecasts.db import get_session
from forecasts.errors import ConfigError
from forecasts.models import User
from forecasts.passwords import Passwords
from forecasts.services.users import Lockout


class Account(UserMixin):
    """The logged-in user as Flask-Login sees it; `user` is the request's User row."""

    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}:{self.user.session_epoch}"

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin


def _load(session_id: str) -> Account | None:
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None
    user = get_session().get(User, int(user_id))
    if (user is None or user.session_epoch != int(epoch) or not user.password_hash
            or not user.active):
        return None
    return Account(user)


def init_app(app: Flask) -> None:
    """Attach the login manager; pages that need a login redirect to /login?next=..."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Log in to continue."
    manager.login_message_category = "info"
    manager.user_loader(_load)
    manager.init_app(app)
    app.extensions["forecasts_passwords"] = Passwords(fast=bool(app.config["PASSWORD_HASH_FAST"]))
    app.extensions["forecasts_lockout"] = _lockout(app.config)


def _lockout(config) -> Lockout:
    after, base, cap = (config["LOGIN_LOCKOUT_AFTER"], config["LOGIN_LOCKOUT_BASE_S"],
                        config["LOGIN_LOCKOUT_MAX_S"])
    if not isinstance(after, int) or after < 1:
        raise ConfigError(f"LOGIN_LOCKOUT_AFTER: expected a whole number, at least 1, got {after!r}")
    if not isinstance(base, (int, float)) or not 0 < base:
        raise ConfigError(f"LOGIN_LOCKOUT_BASE_S: expected seconds above 0, got {base!r}")
    if not isinstance(cap, (int, float)) or cap < base:
        raise ConfigError(f"LOGIN_LOCKOUT_MAX_S: expected seconds, at least LOGIN_LOCKOUT_BASE_S "
                          f"({base}), got {cap!r}")
    return Lockout(after=after, base_s=float(base), cap_s=float(cap))


def lockout() -> Lockout:
    """The app's lockout policy for failed logins (settings LOGIN_LOCKOUT_*)."""
    return current_app.extensions["forecasts_lockout"]


def passwords() -> Passwords:
    """The app's password hasher (cheap only under the testing configuration)."""
    return current_app.extensions["forecasts_passwords"]


def start_session(user: User) -> None:
    """Log the user in on a fresh session: nothing from before the login survives,
    including the CSRF token."""
    session.clear()
    login_user(Account(user))


def end_session() -> None:
    """Forget the login in this browser (the caller voids the user's other sessions)."""
    logout_user()
    session.clear()


def safe_next(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return default
    return target


def admin_required(view: Callable) -> Callable:
    """Only admins (by the role stored now, not when they logged in) may open the view."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
