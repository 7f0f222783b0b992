"""Users: creation, lookup, passwords."""
from __future__ import annotations

import re
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import User
from forecasts.passwords import Passwords

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,39}$")
# "crowd" names the crowd's row in leaderboards and score output.
RESERVED = frozenset({"crowd", "admin-cli", "rule", "import"})
ROLES = ("admin", "forecaster")
MIN_PASSWORD = 8


def check_username(username: object, *, where: str = "username") -> str:
    """The username if it is well formed, else InvalidInput."""
    if not isinstance(username, str) or not USERNAME.match(username):
        raise InvalidInput(f"{username!r} is not a valid username (2-40 letters, digits, "
                           "'.', '_' or '-', starting with a letter or digit)", where=where)
    if username.lower() in RESERVED:
        raise InvalidInput(f"{username!r} is reserved", where=where)
    return username


def check_password(password: str, *, where: str = "password") -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"must be at least {MIN_PASSWORD} characters", where=where)
    if len(password) > 1024:
        raise InvalidInput("must be at most 1024 characters", where=where)
    return password


def find_user(session: Session, username: str) -> User | None:
    """The user with this name (case-insensitive), or None."""
    return session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}", where="user")
    return user


def create_user(session: Session, username: str, *, password: str | None = None,
                role: str = "forecaster", passwords: Passwords | None = None) -> User:
    """Add a user; without a password the account cannot log in (bundle users)."""
    check_username(username)
    if role not in ROLES:
        raise InvalidInput(f"{role!r} is not a role ({', '.join(ROLES)})", where="role")
    if find_user(session, username) is not None:
        raise Conflict(f"a user named {username!r} already exists", where="username")
    password_hash = None
    if password is not None:
        check_password(password)
        password_hash = (passwords or Passwords()).hash(password)
    user = User(username=username, password_hash=password_hash, role=role)
    session.add(user)
    session.flush()
    return user


def ensure_users(session: Session, usernames: Iterable[str]) -> dict[str, User]:
    """Existing users by name, creating (without a password) those that are missing."""
    wanted = list(dict.fromkeys(usernames))
    lowered = [name.lower() for name in wanted]
    by_lower = {u.username.lower(): u for u in session.scalars(
        select(User).where(func.lower(User.username).in_(lowered)))}
    return {name: by_lower.get(name.lower()) or create_user(session, name) for name in wanted}


def set_password(session: Session, user: User, password: str, passwords: Passwords) -> None:
    """Change the password and end every existing session of the user."""
    check_password(password)
    user.password_hash = passwords.hash(password)
    user.session_epoch += 1
    session.flush()


def authenticate(session: Session, username: str, password: str,
                 passwords: Passwords) -> User | None:
    """The user if the password matches, else None (same work either way)."""
    user = find_user(session, username)
    if user is None:
        passwords.verify_nothing(password)
        return None
    return user if passwords.verify(user.password_hash, password) else None
