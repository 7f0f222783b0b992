"""Fixtures: a fresh database per test (SQLite file copy, or emptied PostgreSQL),
and the Flask tutorial's app / client / runner trio.

Under pytest-xdist (`make test` runs two workers) each worker on PostgreSQL has a
database of its own, `<TEST_DATABASE_URL's database>_<worker>`, made and dropped here."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from forecasts import create_app, migrate
from forecasts.db import Database
from forecasts.models import Base
from tests.mailserver import smtp_server  # noqa: F401  (a fixture for every test module)

PG_URL = os.environ.get("TEST_DATABASE_URL")
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _admin(url: str, *statements: str) -> None:
    """Run `statements` outside a transaction (CREATE and DROP DATABASE need that) on the
    server of `url`."""
    from sqlalchemy import create_engine

    from forecasts.db import normalise_url

    admin = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    admin.dispose()


def _worker_name(url: str, worker: str) -> str:
    from sqlalchemy.engine import make_url

    return f"{make_url(url).database}_{worker}"


def _worker_database(url: str, worker: str) -> str:
    """A fresh sibling of `url`'s database for one xdist worker."""
    from sqlalchemy.engine import make_url

    name = _worker_name(url, worker)
    # A test database need not wait for the disk at each commit.
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"',
           f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


if PG_URL and WORKER:
    PG_URL = _worker_database(PG_URL, WORKER)


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> str:
    """A migrated database to start each test from."""
    if PG_URL:
        db = Database(PG_URL)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        migrate.upgrade(db)
        db.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db)
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return str(path)


# Children before parents; one round trip. DELETE rather than TRUNCATE: a TRUNCATE of
# every table makes new files and waits for their fsync, 0.1-0.3 s per test on a busy disk.
_DELETE_ALL = "; ".join(f"DELETE FROM {t.name}" for t in reversed(Base.metadata.sorted_tables))
_USED_SEQUENCES = ("SELECT schemaname || '.' || sequencename FROM pg_sequences "
                   "WHERE last_value IS NOT NULL")


def _empty_postgres(url: str) -> None:
    """Every table empty and every sequence back at 1, as in a freshly migrated database."""
    db = Database(url)
    with db.engine.begin() as conn:
        conn.exec_driver_sql(_DELETE_ALL)
        for (sequence,) in conn.exec_driver_sql(_USED_SEQUENCES).all():
            conn.execute(text("SELECT setval(:s, 1, false)"), {"s": sequence})
    db.dispose()


@pytest.fixture
def db_url(_template, tmp_path) -> str:
    if PG_URL:
        _empty_postgres(PG_URL)
        return PG_URL
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def database(db_url):
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def session(database):
    """A session for arranging and checking; tests commit what they arrange."""
    with database.session(write=True) as s:
        yield s


@pytest.fixture
def env(db_url, tmp_path) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "FORECASTS_ENV": "testing", "PASSWORD_HASH_FAST": "1",
            "SECRET_KEY": "test-secret", "FORECASTS_INSTANCE_PATH": str(tmp_path / "instance"),
            # Tests log in and register far faster than people; tests/test_limits.py turns
            # the limits on where they are the subject.
            "RATELIMIT_ENABLED": "0",
            # Pages are measured and compared as rendered; tests/web/test_page_cache.py and
            # tests/test_cache_workers.py turn the anonymous page cache on.
            "PAGE_CACHE_SECONDS": "0"}


@pytest.fixture
def app(env):
    app = create_app({**env, "TESTING": True})
    yield app
    app.extensions["forecasts_db"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Runner:
    """Runs `forecasts ...` in-process with the test database."""

    def __init__(self, env: dict[str, str], cwd: Path):
        self.env, self.cwd = env, cwd

    def __call__(self, *args: str, input: str | None = None):
        from cli import main

        old = os.getcwd()
        os.chdir(self.cwd)
        try:
            return CliRunner(env=self.env).invoke(main, [str(a) for a in args], input=input,
                                                   catch_exceptions=False)
        finally:
            os.chdir(old)


@pytest.fixture
def runner(env, tmp_path) -> Runner:
    return Runner(env, tmp_path)


@pytest.fixture(scope="session")
def reference() -> dict:
    """The hand-checked cases of shared/reference, copied into tests/reference."""
    import json

    return json.loads((Path(__file__).parent / "reference" / "scoring_cases.json").read_text())


def pytest_sessionfinish(session):
    """Drop this worker's PostgreSQL database (see the module docstring)."""
    if PG_URL and WORKER:
        base = os.environ["TEST_DATABASE_URL"]
        _admin(base, f'DROP DATABASE IF EXISTS "{_worker_name(base, WORKER)}" WITH (FORCE)')
