"""Named counters (the `counters` table): versions that caches are keyed on.

`bump` advances one in the caller's transaction (a row lock on PostgreSQL, so concurrent
bumps take turns); a process that reads the current value from the database can then
never use an entry cached before the last bump.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from forecasts.models import Counter


def current(session: Session, name: str) -> int:
    """The counter's value; 0 while no transaction has bumped it."""
    value = session.scalar(select(Counter.value).where(Counter.name == name))
    return int(value or 0)


def bump(session: Session, name: str) -> int:
    """Advance the counter in the caller's transaction and return the new value."""
    insert = (postgresql.insert if session.get_bind().dialect.name == "postgresql"
              else sqlite.insert)
    # The first value is random, so two databases sharing one cache server (a restore, a
    # fresh copy) never share a version; after it, plain increments.
    stmt = insert(Counter).values(name=name, value=secrets.randbits(40) + 1)
    stmt = stmt.on_conflict_do_update(index_elements=[Counter.name],
                                      set_={"value": Counter.value + 1})
    return int(session.execute(stmt.returning(Counter.value)).scalar_one())
