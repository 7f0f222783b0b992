"""Migration 0007 starts the community features from what is already there: rationales
become comments marked with their forecast, forecasters follow what they forecast,
past resolutions are not news, and existing questions keep showing their crowd."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import text

from forecasts import migrate
from forecasts.db import Database

PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture
def empty_db(tmp_path):
    """A database of its own (the suite's template is at the newest revision)."""
    if not PG_URL:
        db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield db
        db.dispose()
        return
    name = f"forecasts_mig_{uuid.uuid4().hex[:8]}"
    admin = Database(PG_URL)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    db = Database(PG_URL.rsplit("/", 1)[0] + "/" + name)
    try:
        yield db
    finally:
        db.dispose()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


def test_upgrade_from_0006_keeps_and_links_what_exists(empty_db):
    migrate.upgrade(empty_db, "0006")
    us = 1_800_000_000_000_000
    with empty_db.engine.begin() as conn:
        conn.execute(text("INSERT INTO users (id, username, role, session_epoch, created_at, "
                          "failed_logins) VALUES (1, 'ana', 'forecaster', 0, :t, 0), "
                          "(2, 'ben', 'forecaster', 0, :t, 0)"), {"t": us})
        conn.execute(text(
            "INSERT INTO questions (id, slug, title, description, kind, ordered, open_at, "
            "close_at, rule_json, created_at, review_state) VALUES (1, 'q', 'Q?', '', "
            "'binary', FALSE, :o, :c, '{\"type\": \"manual\"}', :o, 'published')"),
            {"o": us, "c": us + 10**12})
        conn.execute(text(
            "INSERT INTO forecasts (id, question_id, user_id, at, probability, rationale, "
            "created_at) VALUES (1, 1, 1, :a, 0.3, 'because', :a), (2, 1, 1, :b, 0.4, NULL, :b), "
            "(3, 1, 2, :b, 0.6, 'other **view**', :b)"), {"a": us + 1, "b": us + 2})
        conn.execute(text(
            "INSERT INTO resolutions (question_id, outcome, note, actor, source, created_at) "
            "VALUES (1, 'yes', '', 'admin', 'manual', :t)"), {"t": us + 5})
    migrate.upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        comments = conn.execute(text(
            "SELECT user_id, forecast_id, body, created_at, parent_id FROM comments "
            "ORDER BY id")).all()
        follows = conn.execute(text(
            "SELECT user_id, question_id, following, created_at FROM follows "
            "ORDER BY user_id")).all()
        notified = conn.execute(text("SELECT notified_at, created_at FROM resolutions")).one()
        hide = conn.execute(text("SELECT hide_crowd_until_forecast FROM questions")).scalar()
        flags = conn.execute(text("SELECT hide_crowd, notify_reply, mail_digest, email "
                                  "FROM users WHERE id = 1")).one()
    assert [tuple(c) for c in comments] == [(1, 1, "because", us + 1, None),
                                            (2, 3, "other **view**", us + 2, None)]
    assert [tuple(f) for f in follows] == [(1, 1, True, us + 1), (2, 1, True, us + 2)]
    assert notified[0] == notified[1]
    assert hide is False or hide == 0
    assert (bool(flags[0]), bool(flags[1]), bool(flags[2]), flags[3]) == (False, True, False, None)
    # And back: the downgrade removes what 0007 added.
    migrate.upgrade(empty_db, "0007")
    from alembic import command

    config = migrate.alembic_config(empty_db)
    with empty_db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    assert migrate.current_revision(empty_db) == "0006"
