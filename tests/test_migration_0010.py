"""Migration 0010 (numeric scores): existing scores and blocks survive, re-packed with a
NaN crps; Brier becomes optional; the downgrade drops only the numeric scores and
restores the NOT NULL, on either database."""
from __future__ import annotations

import numpy as np
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from forecasts import migrate
from forecasts.queries import SCORE_RECORD
from tests.test_migration_0007 import empty_db  # noqa: F401  (a database of its own)
from tests.test_migration_0009 import QUESTION, US, _downgrade

OLD = np.dtype([("user_id", "<i8"), ("brier", "<f8"), ("log", "<f8"), ("peer", "<f8"),
                ("coverage", "<f8")])


def _rows_at_0009(conn) -> bytes:
    conn.execute(text("INSERT INTO users (id, username, role, session_epoch, created_at, "
                      "failed_logins) VALUES (1, 'ana', 'forecaster', 0, :t, 0), "
                      "(2, 'ben', 'forecaster', 0, :t, 0)"), {"t": US})
    conn.execute(text(QUESTION.format(cols="", vals="")),
                 {"id": 1, "slug": "rain", "title": "Rain?", "kind": "binary", "o": US,
                  "c": US + 10**12})
    conn.execute(text(QUESTION.format(cols=", range_min, range_max", vals=", 0, 10")),
                 {"id": 2, "slug": "much", "title": "How much?", "kind": "numeric", "o": US,
                  "c": US + 10**12})
    conn.execute(text("INSERT INTO question_scores (question_id, user_id, brier, log, rps, "
                      "peer, coverage) VALUES (1, 1, 0.18, 0.35, NULL, 4.5, 0.75), "
                      "(1, 2, 0.5, 0.69, NULL, -4.5, 0.5)"))
    conn.execute(text("INSERT INTO crowd_scores (question_id, brier, log, rps) "
                      "VALUES (1, 0.3, 0.5, NULL)"))
    block = np.array([(1, 0.18, 0.35, 4.5, 0.75), (2, 0.5, 0.69, -4.5, 0.5)], OLD).tobytes()
    conn.execute(text("INSERT INTO question_score_blocks (question_id, data) VALUES (1, :d)"),
                 {"d": block})
    return block


def _block(db, qid):
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT data FROM question_score_blocks WHERE question_id = :q"),
                            {"q": qid}).scalar()


def _refused(db, sql) -> bool:
    try:
        with db.engine.begin() as conn:
            conn.execute(text(sql))
    except IntegrityError:
        return True
    return False


def test_upgrade_repacks_blocks_and_allows_numeric_scores_then_downgrades(empty_db):  # noqa: F811
    db = empty_db
    migrate.upgrade(db, "0009")
    with db.engine.begin() as conn:
        old_block = _rows_at_0009(conn)
    migrate.upgrade(db, "0010")
    assert migrate.current_revision(db) == "0010"
    new = np.frombuffer(bytes(_block(db, 1)), SCORE_RECORD)
    old = np.frombuffer(old_block, OLD)
    for name in OLD.names:
        assert new[name].tolist() == old[name].tolist()
    assert np.isnan(new["crps"]).all()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT brier, crps FROM question_scores ORDER BY user_id")
                            ).all() == [(0.18, None), (0.5, None)]
    # A numeric question's scores: a CRPS and no Brier, on both tables.
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO question_scores (question_id, user_id, brier, log, peer, "
                          "coverage, crps) VALUES (2, 1, NULL, 3.1, 0.0, 1.0, 0.07)"))
        conn.execute(text("INSERT INTO crowd_scores (question_id, brier, log, crps) "
                          "VALUES (2, NULL, 3.1, 0.07)"))
        conn.execute(text("INSERT INTO question_score_blocks (question_id, data) VALUES (2, :d)"),
                     {"d": np.zeros(1, SCORE_RECORD).tobytes()})
    assert _refused(db, "INSERT INTO question_scores (question_id, user_id, brier, log, peer, "
                        "coverage) VALUES (1, 1, 0.1, NULL, 0, 1)")  # log stays required

    _downgrade(db, "0009")
    assert migrate.current_revision(db) == "0009"
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT question_id, user_id, brier FROM question_scores "
                                 "ORDER BY user_id")).all() == [(1, 1, 0.18), (1, 2, 0.5)]
        assert conn.execute(text("SELECT question_id FROM crowd_scores")).scalars().all() == [1]
        assert conn.execute(text("SELECT question_id FROM question_score_blocks")
                            ).scalars().all() == [1]
    assert bytes(_block(db, 1)) == old_block
    for table in ("question_scores", "crowd_scores"):
        assert "crps" not in {c["name"] for c in inspect(db.engine).get_columns(table)}
    assert _refused(db, "INSERT INTO question_scores (question_id, user_id, brier, log, peer, "
                        "coverage) VALUES (2, 2, NULL, 1, 0, 1)")
    assert _refused(db, "INSERT INTO crowd_scores (question_id, brier, log) VALUES (2, NULL, 1)")
    migrate.upgrade(db, "0010")  # and up again
    assert migrate.current_revision(db) == "0010"
    assert np.isnan(np.frombuffer(bytes(_block(db, 1)), SCORE_RECORD)["crps"]).all()
