"""One read transaction that sees the whole database at a single moment (export, backup)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session

from forecasts.db import Database


@contextmanager
def snapshot(database: Database) -> Iterator[Session]:
    """A read-only session whose every statement sees the same committed state.

    PostgreSQL: REPEATABLE READ, READ ONLY (one snapshot for the whole transaction; at
    READ COMMITTED each statement would see later commits). SQLite: one deferred read
    transaction, whose WAL snapshot is fixed at its first read. Writers are not blocked.
    """
    with database.engine.connect() as conn:
        if not database.is_sqlite:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if not database.is_sqlite:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            with Session(bind=conn) as session:
                yield session
