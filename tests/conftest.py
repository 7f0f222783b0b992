"""Fixtures: a fresh database per test (SQLite file copy, or truncated PostgreSQL),
and the Flask tutorial's app / client / runner trio."""
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


@pytest.fixture
def db_url(_template, tmp_path) -> str:
    if PG_URL:
        db = Database(PG_URL)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.dispose()
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
            "RATELIMIT_ENABLED": "0"}


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
