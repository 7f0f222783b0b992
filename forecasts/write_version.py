"""The write version: the "writes" counter, bumped by every transaction that wrote anything.

The anonymous page cache (forecasts/web/page_cache.py) keys pages on it, so no page is
served from before the last committed change, whichever process or command made it.

`install` hooks a Database: its engine notes on the connection that a statement wrote
(INSERT, UPDATE, DELETE, COPY, or a CTE that does), and a session about to commit such a
transaction bumps the counter as its last statement, in the same transaction: the bump
commits or rolls back with the change. The row lock that takes on PostgreSQL is held only
between that statement and the commit.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from forecasts import counters

NAME = "writes"
_WROTE = "forecasts_wrote"  # connection.info: a statement of this transaction wrote
_WRITES = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|COPY|WITH\b.*\b(?:INSERT|UPDATE|DELETE)\b)",
                     re.IGNORECASE | re.DOTALL)


def current(session: Session) -> int:
    """The write version; 0 while nothing has been written."""
    return counters.current(session, NAME)


def mark(session: Session) -> None:
    """Count the session's transaction as a write (for writes that bypass SQLAlchemy's
    cursor, such as PostgreSQL COPY through the driver)."""
    session.connection().info[_WROTE] = True


def install(engine: Any, makers: tuple[sessionmaker, ...]) -> None:
    """Track writes on `engine` and bump the counter in sessions made by `makers`."""

    @event.listens_for(engine, "before_cursor_execute")
    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        if _WRITES.match(statement):
            conn.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def forget(conn) -> None:
        conn.info.pop(_WROTE, None)

    @event.listens_for(engine, "reset")
    def forget_on_return(dbapi_connection, record, reset_state) -> None:
        record.info.pop(_WROTE, None)  # back in the pool, whatever ended the transaction

    for maker in makers:
        event.listen(maker, "before_commit", _bump_if_written)


def _bump_if_written(session: Session) -> None:
    if not session.in_transaction():
        return
    session.flush()  # commit flushes after this hook: see its writes first
    conn = session.connection()
    if conn.info.pop(_WROTE, False):
        counters.bump(session, NAME)
        conn.info.pop(_WROTE, None)  # the bump's own UPDATE is no further write
