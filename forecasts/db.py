"""Engine and sessions. SQLite gets WAL, a busy timeout, foreign keys and
BEGIN IMMEDIATE for write transactions; PostgreSQL goes through psycopg 3."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

WRITE = "forecasts_write"
SQLITE_MMAP_BYTES = 1 << 30  # address space, not memory; SQLite caps it at its build's limit


def normalise_url(url: str) -> str:
    """Route plain postgresql:// URLs to psycopg 3 (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite's
        # implicit BEGIN is deferred, which loses concurrent writers).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA cache_size = -65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE, False)
        # Read transactions map the file instead of copying each page into a fresh
        # cache (a new process reads the packed leaderboard scores twice as fast);
        # write transactions, which copy every page they change anyway, are faster
        # without the map.
        conn.exec_driver_sql(f"PRAGMA mmap_size = {0 if immediate else SQLITE_MMAP_BYTES}")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine, and sessions that the caller commits."""

    def __init__(self, url: str, *, busy_timeout_ms: int = 15000, echo: bool = False):
        self.url = normalise_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": busy_timeout_ms / 1000, "check_same_thread": False}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, busy_timeout_ms)
        self._write_engine = self.engine.execution_options(**{WRITE: True})
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._write = sessionmaker(bind=self._write_engine, expire_on_commit=False)
        from forecasts import write_version  # imports the models, which import nothing of this

        write_version.install(self.engine, (self._read, self._write))

    def session(self, *, write: bool = False) -> Session:
        """A new session; `write=True` takes SQLite's write lock at BEGIN."""
        return (self._write if write else self._read)()

    def begin_writing(self, session: Session) -> None:
        """End a read session's transaction, keeping what it loaded, and make its next one
        a write transaction (SQLite: BEGIN IMMEDIATE, the one write lock).

        A write request can so find and check what it needs (who asks, which question,
        whether the input is valid) before it queues for the lock, and then holds the lock
        only for its writes. What it read may have changed meanwhile: what must not have
        (a question's window, its resolution) the writes read again under their locks.
        The read transaction must have changed nothing. PostgreSQL has no such lock (its
        writers lock rows): there the transaction simply goes on, saving its round trips."""
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_writing: the read transaction has unsaved changes")
        if not self.is_sqlite:
            return
        session.commit()
        session.bind = self._write_engine

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write unit of work: commit on success, roll back on any error."""
        with self.session(write=True) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def statements(self) -> Iterator[list[str]]:
        """The SQL statements run on this engine inside the block, in order (for query
        budgets and benchmarks)."""
        seen: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany) -> None:
            seen.append(statement)

        event.listen(self.engine, "before_cursor_execute", count)
        try:
            yield seen
        finally:
            event.remove(self.engine, "before_cursor_execute", count)

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Any) -> None:
    """Attach a Database to the Flask app and close the request's session at teardown."""
    from flask import g

    app.extensions["forecasts_db"] = Database(
        app.config["DATABASE_URL"], busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def get_db() -> Database:
    from flask import current_app

    return current_app.extensions["forecasts_db"]


def get_session(*, write: bool | None = None) -> Session:
    """The request's session; POST, PUT, PATCH and DELETE requests get a write session
    unless `write=False` (a view that reads first, then `Database.begin_writing`)."""
    from flask import g, request

    if "db_session" not in g:
        if write is None:
            write = request.method not in ("GET", "HEAD", "OPTIONS")
        g.db_session = get_db().session(write=write)
    return g.db_session
