"""Migration 0009 (numeric and date questions) keeps every existing row and the search
index, enforces the new constraints on either database, and downgrades cleanly."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from forecasts import cdf, migrate
from tests.test_migration_0007 import empty_db  # noqa: F401  (a database of its own)

US = 1_800_000_000_000_000
QUESTION = ("INSERT INTO questions (id, slug, title, description, kind, ordered, open_at, "
            "close_at, rule_json, created_at, review_state, hide_crowd_until_forecast{cols}) "
            "VALUES (:id, :slug, :title, '', :kind, FALSE, :o, :c, '{{\"type\": \"manual\"}}', "
            ":o, 'published', FALSE{vals})")
FORECAST = ("INSERT INTO forecasts (question_id, user_id, at, probability, probabilities_json"
            "{cols}, created_at) VALUES (:q, 1, :at, :p, :pj{vals}, :at)")


def _old_rows(conn) -> None:
    conn.execute(text("INSERT INTO users (id, username, role, session_epoch, created_at, "
                      "failed_logins) VALUES (1, 'ana', 'forecaster', 0, :t, 0)"), {"t": US})
    for qid, slug, title, kind in ((1, "rain", "Rain in Lisbon?", "binary"),
                                   (2, "party", "Which party wins?", "multiple_choice")):
        conn.execute(text(QUESTION.format(cols="", vals="")),
                     {"id": qid, "slug": slug, "title": title, "kind": kind, "o": US,
                      "c": US + 10**12})
    conn.execute(text(FORECAST.format(cols="", vals="")),
                 {"q": 1, "at": US + 1, "p": 0.3, "pj": None})
    conn.execute(text(FORECAST.format(cols="", vals="")),
                 {"q": 2, "at": US + 2, "p": None, "pj": "[0.2, 0.8]"})
    conn.execute(text("INSERT INTO resolutions (question_id, outcome, note, actor, source, "
                      "created_at) VALUES (1, 'yes', '', 'admin', 'manual', :t)"), {"t": US + 5})


def _numeric(conn, qid, kind="numeric", lo=0.0, hi=10.0) -> None:
    conn.execute(text(QUESTION.format(cols=", range_min, range_max, open_lower, unit",
                                      vals=", :lo, :hi, TRUE, 'mm'")),
                 {"id": qid, "slug": f"q-{qid}", "title": "How much?", "kind": kind, "o": US,
                  "c": US + 10**12, "lo": lo, "hi": hi})


def _refused(database, sql, params) -> bool:
    try:
        with database.engine.begin() as conn:
            conn.execute(text(sql), params)
    except IntegrityError:
        return True
    return False


def _downgrade(database, revision) -> None:
    config = migrate.alembic_config(database)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _search(database, word) -> list[int]:
    with database.engine.connect() as conn:
        if database.is_sqlite:
            sql = "SELECT rowid FROM question_search WHERE question_search MATCH :w ORDER BY rowid"
        else:
            sql = ("SELECT id FROM questions WHERE search_vector @@ to_tsquery('english', :w) "
                   "ORDER BY id")
        return list(conn.execute(text(sql), {"w": word}).scalars())


def test_upgrade_keeps_rows_and_search_and_enforces_the_new_rules(empty_db):  # noqa: F811
    db = empty_db
    migrate.upgrade(db, "0008")
    with db.engine.begin() as conn:
        _old_rows(conn)
    migrate.upgrade(db, "0009")
    assert migrate.current_revision(db) == "0009"
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT question_id, probability, probabilities_json, cdf "
                                 "FROM forecasts ORDER BY id")).all()
        questions = conn.execute(text("SELECT kind, range_min, range_max, open_lower, "
                                      "open_upper, unit FROM questions ORDER BY id")).all()
        resolution = conn.execute(text("SELECT outcome, value FROM resolutions")).one()
    assert [tuple(r) for r in rows] == [(1, 0.3, None, None), (2, None, "[0.2, 0.8]", None)]
    assert [(k, lo, hi, bool(a), bool(b), u) for k, lo, hi, a, b, u in questions] == [
        ("binary", None, None, False, False, None),
        ("multiple_choice", None, None, False, False, None)]
    assert tuple(resolution) == ("yes", None)
    assert _search(db, "lisbon") == [1]

    stored = cdf.encode(cdf.quantiles_to_cdf({0.1: 2.0, 0.9: 8.0}, 0.0, 10.0, True, False))
    with db.engine.begin() as conn:
        _numeric(conn, 3)
        _numeric(conn, 4, kind="date", lo=1.7e9, hi=1.8e9)
        conn.execute(text(FORECAST.format(cols=", cdf", vals=", :cdf")),
                     {"q": 3, "at": US + 3, "p": None, "pj": None, "cdf": stored})
        conn.execute(text("INSERT INTO resolutions (question_id, outcome, note, actor, source, "
                          "created_at, value) VALUES (3, '4.5', '', 'admin', 'manual', :t, 4.5)"),
                     {"t": US + 6})
    with db.engine.connect() as conn:
        back = conn.execute(text("SELECT cdf FROM forecasts WHERE question_id = 3")).scalar()
    assert bytes(back) == stored
    # The search triggers (SQLite) and the generated column (PostgreSQL) still work.
    assert _search(db, "much") == [3, 4]

    q = {"o": US, "c": US + 10**12, "title": "T"}
    bad_questions = [
        ({**q, "id": 10, "slug": "no-range", "kind": "numeric", "lo": None, "hi": None}),
        ({**q, "id": 11, "slug": "empty-range", "kind": "date", "lo": 5.0, "hi": 5.0}),
        ({**q, "id": 12, "slug": "upside-down", "kind": "numeric", "lo": 6.0, "hi": 5.0}),
        ({**q, "id": 13, "slug": "half-range", "kind": "numeric", "lo": 1.0, "hi": None}),
        ({**q, "id": 14, "slug": "binary-range", "kind": "binary", "lo": 0.0, "hi": 1.0}),
        ({**q, "id": 15, "slug": "unknown-kind", "kind": "ranking", "lo": None, "hi": None})]
    sql = QUESTION.format(cols=", range_min, range_max", vals=", :lo, :hi")
    for params in bad_questions:
        assert _refused(db, sql, params), params["slug"]
    sql = FORECAST.format(cols=", cdf", vals=", :cdf")
    f = {"q": 3, "at": US + 9}
    for params in ({**f, "p": None, "pj": None, "cdf": stored[:-4]},
                   {**f, "p": 0.5, "pj": None, "cdf": stored},
                   {**f, "p": None, "pj": "[0.5, 0.5]", "cdf": stored},
                   {**f, "p": None, "pj": None, "cdf": None},
                   {**f, "p": 0.5, "pj": "[0.5, 0.5]", "cdf": None}):
        assert _refused(db, sql, params), params
    assert _refused(db, "INSERT INTO resolutions (question_id, outcome, note, actor, source, "
                    "created_at, value) VALUES (2, 'annulled', '', 'a', 'manual', 1, 1.0)", {})
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM forecasts")).scalar() == 3
        if db.is_sqlite:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_downgrade_refuses_numeric_questions_then_restores_0008(empty_db):  # noqa: F811
    db = empty_db
    migrate.upgrade(db, "0008")
    with db.engine.begin() as conn:
        _old_rows(conn)
    migrate.upgrade(db, "0009")
    with db.engine.begin() as conn:
        _numeric(conn, 3)
    with pytest.raises(RuntimeError, match="1 numeric or date question"):
        _downgrade(db, "0008")
    assert migrate.current_revision(db) == "0009"
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM questions WHERE id = 3"))
    _downgrade(db, "0008")
    assert migrate.current_revision(db) == "0008"
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM forecasts")).scalar() == 2
        assert conn.execute(text("SELECT COUNT(*) FROM resolutions")).scalar() == 1
    assert _search(db, "lisbon") == [1]
    # 0008's rules are back: no numeric kind, exactly one of the two forms.
    assert _refused(db, QUESTION.format(cols="", vals=""),
                    {"id": 5, "slug": "num", "title": "T", "kind": "numeric", "o": US,
                     "c": US + 10**12})
    assert _refused(db, FORECAST.format(cols="", vals=""),
                    {"q": 1, "at": US + 7, "p": None, "pj": None})
    migrate.upgrade(db)
    assert migrate.is_current(db)
    assert _search(db, "lisbon") == [1]


def test_the_models_map_numeric_questions_and_cdf_forecasts(database):
    from datetime import timedelta

    from forecasts import timeutil
    from forecasts.models import Forecast, Question, Resolution
    from tests.builders import make_user

    values = cdf.quantiles_to_cdf({0.25: 3.0, 0.5: 4.0, 0.75: 6.0}, 0.0, 10.0, False, True)
    start = timeutil.now()
    with database.transaction() as session:
        user = make_user(session, "ana")
        question = Question(slug="rainfall", title="Rainfall?", kind="numeric",
                            open_at=start, close_at=start + timedelta(days=9),
                            range_min=0.0, range_max=10.0, open_upper=True, unit="mm")
        session.add(question)
        session.flush()
        session.add(Forecast(question_id=question.id, user_id=user.id, at=start,
                             cdf=cdf.encode(values)))
        session.add(Resolution(question_id=question.id, outcome="12.5", value=12.5,
                               actor="admin"))
    with database.session() as session:
        question = session.query(Question).one()
        forecast = session.query(Forecast).one()
        resolution = session.query(Resolution).one()
        assert question.continuous and question.options == []
        assert (question.range_min, question.range_max, question.open_lower,
                question.open_upper, question.unit) == (0.0, 10.0, False, True, "mm")
        assert forecast.probability is None and forecast.probabilities_json is None
        assert forecast.cdf_values.tolist() == cdf.canonical(values).tolist()
        assert resolution.value == 12.5
