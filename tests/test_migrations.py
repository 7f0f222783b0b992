"""The Alembic migrations build exactly the schema the models declare, on either database."""
from __future__ import annotations

import os

import pytest

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from forecasts import migrate
from forecasts.db import SQLITE_MMAP_BYTES
from forecasts.models import Base


def _not_search(name, type_, parent_names) -> bool:
    """Migration 0004's full-text search lives outside the models (the database keeps it
    in step by itself): SQLite's FTS5 table `question_search` with its shadow tables
    (question_search_data, _idx, _docsize, _config), PostgreSQL's generated column
    questions.search_vector and its GIN index."""
    if type_ == "table":
        return not (name == "question_search" or name.startswith("question_search_"))
    if type_ == "column":
        return not (parent_names.get("table_name") == "questions" and name == "search_vector")
    return not (type_ == "index" and name == "ix_questions_search_vector")


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrations_match_models(database):
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False,
                                                         "include_name": _not_search})
        diff = compare_metadata(context, Base.metadata)
    if database.is_sqlite:  # SQLite cannot reflect the expression index on lower(username)
        diff = [d for d in diff if not (d[0] == "add_index" and d[1].name == "uq_users_username_lower")]
    assert diff == []


def test_schema_is_current_and_upgrade_is_a_no_op(database):
    assert migrate.HEAD == migrate.head_revision(database)
    assert migrate.is_current(database)
    migrate.upgrade(database)
    assert migrate.is_current(database)


def test_tests_run_on_the_requested_backend(database):
    """CI sets REQUIRE_POSTGRES on its second pass: then this must be PostgreSQL."""
    expected = "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"
    assert database.engine.dialect.name == expected
    if os.environ.get("REQUIRE_POSTGRES"):
        assert database.engine.dialect.name == "postgresql"
    assert "forecasts" in inspect(database.engine).get_table_names()


def test_sqlite_pragmas(database):
    if not database.is_sqlite:
        return
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 15000


def test_sqlite_maps_the_file_for_read_transactions_only(database):
    if not database.is_sqlite:
        return
    for write, expected in ((False, SQLITE_MMAP_BYTES), (True, 0), (False, SQLITE_MMAP_BYTES)):
        with database.session(write=write) as session:  # one pooled connection throughout
            assert session.execute(text("PRAGMA mmap_size")).scalar() == expected


def test_the_latest_state_is_stored_uncompressed_on_postgresql(database):
    """question_stats.latest is rewritten by every forecast: PostgreSQL must not compress
    it (migration 0012)."""
    if database.is_sqlite:
        pytest.skip("PostgreSQL's TOAST storage")
    with database.engine.connect() as conn:
        storage = conn.exec_driver_sql(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = 'question_stats'::regclass "
            "AND attname = 'latest'").scalar()
    assert storage == "e"
