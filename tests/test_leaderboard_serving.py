"""Leaderboards served from snapshots and the shared cache are the rows a fresh computation
gives, and every transaction that changes scores bumps the score version (issue #10)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from forecasts import create_app
from forecasts.errors import ConfigError
from forecasts.models import LeaderboardSnapshot, Question
from forecasts.services import calibration, corrections, leaderboard, score_version
from forecasts.services.question_edits import edit_question
from forecasts.services.users import get_user
from forecasts.timeutil import now as utc_now
from tests.test_resolve_due import NOW, load, scenario

PARAMS = (leaderboard.DEFAULT_BOOTSTRAP, leaderboard.DEFAULT_SEED, leaderboard.DEFAULT_PEER_PRIOR)
QUERIES = [
    {},
    {"with_crowd": True},
    {"metric": "brier", "with_crowd": True},
    {"metric": "peer_total"},
    {"tag": "security"},
    {"metric": "log", "tag": "diplomacy", "with_crowd": True},
    {"min_questions": 2, "with_crowd": True},
    {"resolved_from": datetime(2025, 7, 1, tzinfo=timezone.utc)},
]


def fresh(session, metric: str = leaderboard.DEFAULT_METRIC, tag=None, resolved_from=None,
          resolved_to=None, min_questions: int = 1, with_crowd: bool = False):
    """The board recomputed from the stored scores, bypassing snapshots and the cache."""
    chosen = leaderboard.question_filter(tag, resolved_from, resolved_to)
    return leaderboard.compute(session, chosen, metric, min_questions, with_crowd, *PARAMS)


def check_served(app, database) -> int:
    """Every query served twice (snapshot or cache miss, then hit) equals a fresh
    computation; the snapshots are at the current version. Returns that version."""
    with app.app_context(), database.session() as s:
        version = score_version.current(s)
        assert version > 0
        keys = set(s.scalars(select(LeaderboardSnapshot.key)
                             .where(LeaderboardSnapshot.score_version == version)))
        assert keys == {leaderboard.snapshot_key(m, *PARAMS) for m in leaderboard.SNAPSHOT_METRICS}
        for query in QUERIES:
            expected = fresh(s, **query)
            assert leaderboard.leaderboard(s, **query) == expected, query
            assert leaderboard.leaderboard(s, **query) == expected, query
        for name in ("alice", "bob", calibration.CROWD):
            assert calibration.calibration(s, name) == calibration._calibration(s, name)
            assert calibration.calibration(s, name) == calibration._calibration(s, name)
    return version


@pytest.fixture
def app(env):
    app = create_app({**env, "TESTING": True})  # one app, one in-process cache, all steps
    yield app
    app.extensions["forecasts_db"].dispose()


def test_every_score_change_bumps_the_version_and_served_boards_stay_fresh(
        runner, tmp_path, app, database):
    versions = []
    doc = scenario()
    by_hand = next(q for q in doc["questions"] if q["slug"] == "by-hand")
    by_hand["resolution"] = {"outcome": "yes", "known_at": "2025-04-01T00:00:00Z"}
    load(runner, tmp_path, doc)  # an import with a resolution
    versions.append(check_served(app, database))
    steps = [("resolve-due", "--now", NOW),                        # rules settle
             ("resolve", "later", "yes"),                          # a resolution
             ("resolve", "tariff-any", "no", "--force"),           # correction + cascade
             ("annul", "strike", "--reason", "unclear", "--force"),  # annulment
             ("rescore",)]
    boards = []
    for args in steps:
        result = runner(*args)
        assert result.exit_code == 0, (args, result.stderr)
        versions.append(check_served(app, database))
        with database.session() as s:
            boards.append(fresh(s, metric="brier", with_crowd=True))
    assert versions == sorted(set(versions)), versions  # each step bumped it
    # The steps changed what the board shows, so serving the old one would have failed.
    assert boards[0] != boards[1] != boards[2] and boards[2] != boards[3]


def test_cascade_bumps_the_version(runner, tmp_path, app, database):
    load(runner, tmp_path)
    assert runner("resolve-due", "--now", NOW).exit_code == 0
    before = check_served(app, database)
    with database.transaction() as s:
        question = s.scalars(select(Question).where(Question.slug == "tariff-any")).one()
        outcome = corrections.resolve(s, question, "no", actor="test", force=True)
    assert [c.slug for c in outcome.changes] == ["either"]
    assert check_served(app, database) > before


def test_a_tag_edit_on_a_settled_question_is_seen_by_filtered_boards(
        runner, tmp_path, app, database):
    load(runner, tmp_path)
    assert runner("resolve-due", "--now", NOW).exit_code == 0
    version = check_served(app, database)
    with database.transaction() as s:
        question = s.scalars(select(Question).where(Question.slug == "tariff-never")).one()
        edit_question(s, question, {"tags": ["diplomacy"]}, actor="test", now=utc_now())
    with app.app_context(), database.session() as s:
        assert score_version.current(s) == version  # no score changed
        for query in ({"tag": "security"}, {"tag": "diplomacy", "with_crowd": True}):
            assert leaderboard.leaderboard(s, **query) == fresh(s, **query)


def test_an_uncommitted_score_change_never_reaches_the_cache(runner, tmp_path, app, database):
    load(runner, tmp_path)
    assert runner("resolve-due", "--now", NOW).exit_code == 0
    version = check_served(app, database)
    query = {"metric": "brier", "min_questions": 2}
    with app.app_context():
        with database.session(write=True) as s:
            question = s.scalars(select(Question).where(Question.slug == "tariff-any")).one()
            corrections.resolve(s, question, "no", actor="test", force=True)
            inside = leaderboard.leaderboard(s, **query)
            assert inside == fresh(s, **query)
            s.rollback()
        with database.session() as s:
            assert score_version.current(s) == version
            after = leaderboard.leaderboard(s, **query)
            assert after == fresh(s, **query) and after != inside


def test_the_profile_reads_its_standing_from_the_default_board(runner, tmp_path, app, database):
    load(runner, tmp_path)
    assert runner("resolve-due", "--now", NOW).exit_code == 0
    with app.app_context(), database.session() as s:
        board = fresh(s)
        for row in board:
            mine, ranked = leaderboard.standing(s, get_user(s, row["user"]))
            assert mine == row and ranked == len(board)
    page = app.test_client().get("/users/alice")
    assert page.status_code == 200
    alice = next(r for r in board if r["user"] == "alice")
    assert f"{alice['rank']}<small> of {len(board)}</small>" in page.text


def test_cache_settings(env):
    with pytest.raises(ConfigError, match="CACHE_URL"):
        create_app({**env, "TESTING": True, "CACHE_URL": "memcached://127.0.0.1"})


def test_an_unreachable_cache_server_costs_only_the_computation(runner, tmp_path, env, database):
    load(runner, tmp_path)
    assert runner("resolve-due", "--now", NOW).exit_code == 0
    app = create_app({**env, "TESTING": True, "CACHE_URL": "redis://127.0.0.1:1/0"})
    try:
        client = app.test_client()
        assert client.get("/leaderboard?tag=security").status_code == 200
        assert client.get("/users/alice").status_code == 200
    finally:
        app.extensions["forecasts_db"].dispose()


def test_a_users_calibration_reads_their_questions_only_and_is_unchanged(
        runner, tmp_path, database, monkeypatch):
    doc = scenario()
    doc["users"].append({"username": "carol"})
    doc["forecasts"].append({"question": "strike", "user": "carol",
                             "at": "2025-02-01T00:00:00Z", "probability": 0.35})
    load(runner, tmp_path, doc)
    assert runner("resolve-due", "--now", NOW).exit_code == 0
    with database.session() as s:
        carol = get_user(s, "carol")
        strike = s.scalars(select(Question.id).where(Question.slug == "strike")).one()
        assert calibration._resolved_binary_ids(s, carol.id) == [strike]
        own = {n: calibration._calibration(s, n) for n in ("alice", "bob", "carol")}
        assert own["carol"]["questions"] == 1
        every = calibration._resolved_binary_ids  # the former reading: every question
        monkeypatch.setattr(calibration, "_resolved_binary_ids",
                            lambda session, user_id=None: every(session))
        assert {n: calibration._calibration(s, n) for n in own} == own
