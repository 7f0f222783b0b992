"""The score version: the "scores" counter, bumped by every transaction that changes scores.

Caches and leaderboard snapshots are keyed on it, so a process that reads the current
version from the database can never serve figures from before the last score change.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from forecasts.models import Counter

NAME = "scores"
BUMPED = "score_version_bumped"  # session.info: the version this session bumped to


def current(session: Session) -> int:
    """The score version; 0 while no transaction has bumped it."""
    value = session.scalar(select(Counter.value).where(Counter.name == NAME))
    return int(value or 0)


def for_cache(session: Session) -> int:
    """The version to key shared caches on, or 0 for "do not cache": before any bump, and
    in a session that bumped it itself (what it sees may yet be rolled back)."""
    version = current(session)
    return 0 if session.info.get(BUMPED) == version else version


def bump(session: Session) -> int:
    """Advance the score version in the caller's transaction (a row lock on PostgreSQL,
    so concurrent score changes take turns) and return the new value."""
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)
    # The first value is random, so two databases sharing one cache server (a restore, a
    # fresh copy) never share a version; after it, plain increments.
    stmt = insert(Counter).values(name=NAME, value=secrets.randbits(40) + 1)
    stmt = stmt.on_conflict_do_update(index_elements=[Counter.name],
                                      set_={"value": Counter.value + 1})
    value = int(session.execute(stmt.returning(Counter.value)).scalar_one())
    session.info[BUMPED] = value
    return value
