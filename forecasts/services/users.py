"""Users: creation, lookup, passwords, and their administration (roles, deactivation)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import ApiToken, Forecast, User
from forecasts.passwords import Passwords

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,39}$")
# "crowd" names the crowd's row in leaderboards and score output.
RESERVED = frozenset({"crowd", "admin-cli", "rule", "import"})
ROLES = ("admin", "forecaster")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
COMMON_PASSWORDS = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


def check_username(username: object, *, where: str = "username") -> str:
    """The username if it is well formed, else InvalidInput."""
    if not isinstance(username, str) or not USERNAME.match(username):
        raise InvalidInput(f"{username!r} is not a valid username (2-40 letters, digits, "
                           "'.', '_' or '-', starting with a letter or digit)", where=where)
    if username.lower() in RESERVED:
        raise InvalidInput(f"{username!r} is reserved", where=where)
    return username


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the 10,000 most common passwords (lower case; see its header)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def check_password(password: object, *, username: str | None = None,
                   where: str = "password") -> str:
    """The password if it follows the rules, else InvalidInput: 10 to 1024 characters, not
    only whitespace, not containing the username, not one of the 10,000 most common."""
    if not isinstance(password, str):
        raise InvalidInput("must be text", where=where)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"must be at least {MIN_PASSWORD} characters", where=where)
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"must be at most {MAX_PASSWORD} characters", where=where)
    if not password.strip():
        raise InvalidInput("must not be only spaces", where=where)
    if username and username.strip().lower() in password.lower():
        raise InvalidInput("must not contain the username", where=where)
    if password.strip().lower() in common_passwords():
        raise InvalidInput("is one of the 10,000 most common passwords; choose another",
                           where=where)
    return password


def find_user(session: Session, username: str) -> User | None:
    """The user with this name (case-insensitive), or None."""
    return session.scalars(select(User).where(func.lower(User.username) == username.lower())).first()


def get_user(session: Session, username: str) -> User:
    """The user with this name (case-insensitive), else NotFound."""
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
        check_password(password, username=username)
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


def set_password(session: Session, user: User, password: str, passwords: Passwords) -> int:
    """Change the password, end every session of the user and revoke their API tokens
    (whoever learnt the old password may have made one); the number revoked."""
    check_password(password, username=user.username)
    user.password_hash = passwords.hash(password)
    user.session_epoch += 1
    user.failed_logins, user.locked_until = 0, None
    session.flush()
    revoked = session.execute(update(ApiToken)
                              .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                              .values(revoked_at=timeutil.now())
                              .execution_options(synchronize_session="fetch"))
    return revoked.rowcount or 0


@dataclass(frozen=True)
class Lockout:
    """After `after` failed logins in a row an account is locked for base_s * 2^(n - after)
    seconds (n: failures so far), at most cap_s; a success resets the count."""

    after: int = 5
    base_s: float = 30.0
    cap_s: float = 900.0

    def window(self, failures: int) -> timedelta | None:
        """How long `failures` consecutive failures lock the account (None: not locked)."""
        if failures < self.after:
            return None
        # Bounded exponent: 2**n of a huge n would overflow a float.
        seconds = self.base_s * 2.0 ** min(failures - self.after, 64)
        return timedelta(seconds=min(seconds, self.cap_s))


@dataclass(frozen=True)
class LoginAttempt:
    """What a login attempt did: the user on success; `locked` when the account was locked
    (now or already); `failures` the consecutive failures counted after it."""

    user: User | None
    known: bool
    locked: bool = False
    failures: int = 0


def _record_failure(session: Session, user: User, lockout: Lockout, now: datetime) -> int:
    # One atomic increment: concurrent failures each count (the row lock queues them on
    # PostgreSQL; SQLite serialises writers), so a burst cannot undercount.
    failures = session.execute(update(User).where(User.id == user.id)
                               .values(failed_logins=User.failed_logins + 1)
                               .returning(User.failed_logins)
                               .execution_options(synchronize_session=False)).scalar_one()
    window = lockout.window(failures)
    if window is not None:
        session.execute(update(User).where(User.id == user.id)
                        .values(locked_until=now + window)
                        .execution_options(synchronize_session=False))
    session.expire(user, ["failed_logins", "locked_until"])
    return failures


def attempt_login(session: Session, username: str, password: str, passwords: Passwords, *,
                  lockout: Lockout = Lockout(), now: datetime | None = None) -> LoginAttempt:
    """Check credentials, counting failures and locking the account after too many.

    The password hash is verified in every case (a dummy hash for unknown users, the real
    one during a lock), so neither timing nor answer tells a locked, deactivated or
    missing account from a wrong password. Attempts during a lock are refused uncounted,
    so the lock ends when announced and the owner can log in then.
    """
    now = now or timeutil.now()
    user = find_user(session, username)
    if user is None:
        passwords.verify_nothing(password)
        return LoginAttempt(None, known=False)
    matches = passwords.verify(user.password_hash, password)
    if user.locked_until is not None and user.locked_until > now:
        return LoginAttempt(None, known=True, locked=True, failures=user.failed_logins)
    if matches and user.active:
        if user.failed_logins or user.locked_until is not None:
            user.failed_logins, user.locked_until = 0, None
            session.flush()
        return LoginAttempt(user, known=True)
    failures = _record_failure(session, user, lockout, now)
    return LoginAttempt(None, known=True, locked=lockout.window(failures) is not None,
                        failures=failures)


def authenticate(session: Session, username: str, password: str,
                 passwords: Passwords) -> User | None:
    """The active user if the password matches, else None; `attempt_login` with the
    default lockout (failures are counted)."""
    return attempt_login(session, username, password, passwords).user


# --- administration ----------------------------------------------------------

def member_since(user: User, first_forecast: datetime | None) -> datetime:
    """When the account began: its creation, or its first forecast if that is earlier.

    Accounts made by a bundle import (or the demo) are created at import time, but their
    forecasts may be older; an account that forecast in March was a member in March.
    """
    if first_forecast is None:
        return user.created_at
    return min(user.created_at, first_forecast)


@dataclass(frozen=True)
class Member:
    """A row of the user list: the account, its number of forecasts and the first one's time."""

    user: User
    forecasts: int
    first_forecast: datetime | None

    @property
    def since(self) -> datetime:
        return member_since(self.user, self.first_forecast)


def directory(session: Session) -> list[Member]:
    """Every user with their forecast count and first forecast, by username."""
    stats = (select(Forecast.user_id, func.count(Forecast.id).label("n"),
                    func.min(Forecast.at).label("first"))
             .group_by(Forecast.user_id).subquery())
    rows = session.execute(select(User, func.coalesce(stats.c.n, 0), stats.c.first)
                           .outerjoin(stats, stats.c.user_id == User.id)
                           .order_by(func.lower(User.username))).all()
    return [Member(user, int(n), first) for user, n, first in rows]


def _check_not_last_admin(session: Session, user: User, action: str) -> None:
    """Conflict if `user` is the only active admin: someone must be left to administer."""
    if not (user.is_admin and user.active):
        return
    # Lock every active admin's row, in id order (PostgreSQL), so that two admins demoting
    # each other at once queue up and the second sees the first's change instead of both
    # passing; SQLite's write transactions are serialised already.
    admins = session.scalars(select(User.id).where(User.role == "admin",
                                                   User.deactivated_at.is_(None))
                             .order_by(User.id).with_for_update()).all()
    if not [i for i in admins if i != user.id]:
        raise Conflict(f"cannot {action} {user.username!r}: it is the last active admin "
                       "(make another user admin first)", where="user")


def set_role(session: Session, user: User, role: str) -> bool:
    """Give the user `role`; False if they had it already. The last active admin keeps it."""
    if role not in ROLES:
        raise InvalidInput(f"{role!r} is not a role ({', '.join(ROLES)})", where="role")
    if user.role == role:
        return False
    if role != "admin":
        _check_not_last_admin(session, user, "demote")
    user.role = role
    session.flush()
    return True


def deactivate(session: Session, user: User, *, now: datetime | None = None) -> bool:
    """Stop the user logging in or using tokens, ending their sessions; forecasts stay.

    False if the account was deactivated already; the last active admin cannot be."""
    if not user.active:
        return False
    _check_not_last_admin(session, user, "deactivate")
    user.deactivated_at = now or timeutil.now()
    # A later reactivation must not revive the sessions open now.
    user.session_epoch += 1
    session.flush()
    return True


def reactivate(session: Session, user: User) -> bool:
    """Let a deactivated user log in again (with a fresh login); False if already active."""
    if user.active:
        return False
    user.deactivated_at = None
    session.flush()
    return True
