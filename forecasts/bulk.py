"""Bulk writes for synth and import: `COPY ... FROM STDIN` on PostgreSQL, the driver's
executemany on SQLite, in the caller's transaction (nothing here commits).

Rows go to the driver as plain tuples: no ORM objects, no per-row dicts and no SQLAlchemy
type processing, so timestamps must already be integer microseconds (as UtcMicros stores
them) and booleans Python bools.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
from sqlalchemy import Table
from sqlalchemy.orm import Session

from forecasts import write_version

# Rows handed to executemany per call: bounds the memory a generator of rows costs.
_CHUNK = 50_000


def _name(table: Table | type | str) -> str:
    if isinstance(table, str):
        return table
    return getattr(table, "__tablename__", None) or table.name  # a model or a Table


def _python(column: Any) -> list:
    """A column as Python scalars (numpy arrays become ints/floats/None the driver knows)."""
    if isinstance(column, np.ndarray):
        return column.tolist()
    return list(column)


def as_rows(columns: Sequence[str], data: Iterable[Sequence[Any]] | Mapping[str, Any]
            ) -> Iterable[tuple]:
    """Tuples from either rows or a mapping of column name to an array (or list)."""
    if isinstance(data, Mapping):
        missing = [c for c in columns if c not in data]
        if missing:
            raise ValueError(f"no values for column(s) {', '.join(missing)}")
        return zip(*(_python(data[c]) for c in columns))
    return data


def insert_rows(session: Session, table: Table | type | str, columns: Sequence[str],
                rows_or_arrays: Iterable[Sequence[Any]] | Mapping[str, Any], *,
                expected: int | None = None) -> int:
    """Insert rows (tuples in `columns` order, or a mapping of column to array) into
    `table` in the session's transaction; returns the number of rows written.

    `expected` (how many rows are coming) lets SQLite drop the table's secondary indexes
    and build them again after the insert when the new rows outnumber the old: sorting
    once is faster than updating each index row by row (about a third of the time).
    """
    rows = as_rows(columns, rows_or_arrays)
    write_version.mark(session)  # the driver's own cursors bypass SQLAlchemy's events
    conn = session.connection()
    name, cols = _name(table), ", ".join(columns)
    driver = conn.connection.driver_connection
    count = 0
    if conn.dialect.name == "sqlite" and expected:
        return _insert_rebuilding(session, name, columns, rows, expected)
    if conn.dialect.name == "postgresql":
        with driver.cursor() as cursor:
            with cursor.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count
    sql = f"INSERT INTO {name} ({cols}) VALUES ({', '.join('?' * len(columns))})"
    cursor = driver.cursor()
    try:
        chunk: list[Sequence[Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= _CHUNK:
                cursor.executemany(sql, chunk)
                count += len(chunk)
                chunk = []
        if chunk:
            cursor.executemany(sql, chunk)
            count += len(chunk)
    finally:
        cursor.close()
    return count


def _insert_rebuilding(session: Session, name: str, columns: Sequence[str],
                       rows: Iterable[Sequence[Any]], expected: int) -> int:
    driver = session.connection().connection.driver_connection
    held = driver.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
    indexes = driver.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                             "AND tbl_name = ? AND sql IS NOT NULL", (name,)).fetchall()
    if expected <= held or not indexes:
        return insert_rows(session, name, columns, rows)
    for index, _ in indexes:  # in the transaction: a failure rolls the drop back too
        driver.execute(f'DROP INDEX "{index}"')
    count = insert_rows(session, name, columns, rows)
    for _, sql in indexes:
        driver.execute(sql)
    return count


def reserve_ids(session: Session, table: Table | type | str, n: int) -> np.ndarray:
    """`n` fresh primary keys for `table`, for rows inserted with explicit ids.

    PostgreSQL draws them from the column's sequence (safe against concurrent writers);
    SQLite continues after the largest id, which is safe because write transactions
    hold the database's write lock from BEGIN IMMEDIATE.
    """
    name = _name(table)
    conn = session.connection()
    if n <= 0:
        return np.empty(0, np.int64)
    if conn.dialect.name == "postgresql":
        ids = conn.exec_driver_sql(
            f"SELECT nextval(pg_get_serial_sequence('{name}', 'id')) "
            f"FROM generate_series(1, {int(n)})").scalars().all()
        return np.sort(np.asarray(ids, np.int64))
    start = conn.exec_driver_sql(f"SELECT coalesce(max(id), 0) + 1 FROM {name}").scalar()
    return np.arange(start, start + n, dtype=np.int64)


def analyze(session: Session, tables: Sequence[Table | type | str]) -> None:
    """Refresh PostgreSQL's planner statistics of tables just bulk-loaded (until autovacuum
    gets to them the planner guesses, e.g. nested loops over 10,000 x 6,000 rows); in the
    transaction, so they take effect with its commit. SQLite keeps its plans (no-op)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {_name(table)}")


def chunks(values: Sequence[Any], size: int = 5000) -> Iterator[Sequence[Any]]:
    """`values` in slices of at most `size`, for IN lists that stay under every driver's
    parameter limit."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _dialect_insert(session: Session):
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def insert_ignore(session: Session, model: type, rows: Sequence[Mapping[str, Any]] | None = None,
                  *, columns: Sequence[str] = (), select: Any = None) -> int:
    """Insert `rows` (or the rows of `select` into `columns`), skipping any that would
    break a unique constraint (ON CONFLICT DO NOTHING, on SQLite and PostgreSQL alike);
    returns how many were inserted. Safe against concurrent writers of the same keys:
    exactly one of them inserts."""
    insert = _dialect_insert(session)
    if select is not None:
        stmt = insert(model).from_select(list(columns), select)
    elif rows:
        stmt = insert(model).values(list(rows))
    else:
        return 0
    # Counted from RETURNING: the drivers' rowcount is -1 here on PostgreSQL.
    key = next(iter(model.__table__.primary_key.columns))
    return len(session.execute(stmt.on_conflict_do_nothing().returning(key)).all())
