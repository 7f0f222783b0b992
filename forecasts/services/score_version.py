"""The score version: the "scores" counter, bumped by every transaction that changes scores.

Caches and leaderboard snapshots are keyed on it, so a process that reads the current
version from the database can never serve figures from before the last score change.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from forecasts import counters

NAME = "scores"
BUMPED = "score_version_bumped"  # session.info: the version this session bumped to


def current(session: Session) -> int:
    """The score version; 0 while no transaction has bumped it."""
    return counters.current(session, NAME)


def for_cache(session: Session) -> int:
    """The version to key shared caches on, or 0 for "do not cache": before any bump, and
    in a session that bumped it itself (what it sees may yet be rolled back)."""
    version = current(session)
    return 0 if session.info.get(BUMPED) == version else version


def bump(session: Session) -> int:
    """Advance the score version in the caller's transaction (see forecasts.counters)."""
    value = counters.bump(session, NAME)
    session.info[BUMPED] = value
    return value
