"""GET /leaderboard: the same rows as `forecasts leaderboard --format json`."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from forecasts import timeutil
from forecasts.services import questions, resolution
from forecasts.services.forecasts import submit_forecast
from forecasts.services.users import create_user, get_user
from tests.api.conftest import window
from tests.builders import question_data


@pytest.fixture
def scored(world, database):
    """A second resolved question, tagged trade, that only bob and carol forecast."""
    now = timeutil.now()
    with database.transaction() as session:
        carol = create_user(session, "carol")
        question = questions.create_question(session, question_data(
            slug="tariff-resolved", tags=["trade"], **window(-50, -5)))
        for user, p in ((get_user(session, "bob"), 0.7), (carol, 0.4)):
            submit_forecast(session, question, user, probability=p, at=now - timedelta(days=45))
        resolution.resolve(session, question, "no", actor="root", now=now - timedelta(days=4))
    return world


@pytest.mark.parametrize("query, cli", [
    ("", []),
    ("metric=peer_global", []),
    ("metric=brier", ["--metric", "brier"]),
    ("metric=log", ["--metric", "log"]),
    ("metric=peer&with_crowd=true", ["--metric", "peer", "--with-crowd"]),
    ("metric=peer_total", ["--metric", "peer_total"]),
    ("with_crowd=1", ["--with-crowd"]),
    ("with_crowd=on", ["--with-crowd"]),
    ("with_crowd=false", []),
    ("tag=trade", ["--tag", "trade"]),
    ("min_questions=2", ["--min-questions", "2"]),
    ("min_questions=3", ["--min-questions", "3"]),
    ("from=2000-01-01&to=2100-01-01", ["--from", "2000-01-01", "--to", "2100-01-01"]),
    ("to=2000-01-01", ["--to", "2000-01-01"]),
])
def test_rows_equal_the_cli(api, scored, runner, query, cli):
    result = runner("leaderboard", "--format", "json", *cli)
    assert result.exit_code == 0, result.stderr
    response = api.get(f"/api/v1/leaderboard?{query}")
    assert response.status_code == 200
    assert response.body == json.loads(result.stdout)


def test_rows_rank_forecasters(api, scored):
    rows = api.get("/api/v1/leaderboard?with_crowd=yes").body
    assert [r["user"] for r in rows][-1] == "crowd"
    assert rows[-1]["rank"] is None
    ranked = rows[:-1]
    assert {r["user"] for r in ranked} == {"alice", "bob", "carol"}
    assert [r["rank"] for r in ranked] == sorted(r["rank"] for r in ranked)
    # Ranked by global peer by default, highest first.
    assert [r["peer_global"] for r in ranked] == sorted((r["peer_global"] for r in ranked),
                                                        reverse=True)
    by_brier = api.get("/api/v1/leaderboard?metric=brier").body
    assert [r["brier"] for r in by_brier] == sorted(r["brier"] for r in by_brier)
    bob = next(r for r in ranked if r["user"] == "bob")
    assert bob["questions"] == 2
    assert set(bob) == {"rank", "user", "questions", "brier", "log", "peer", "peer_total",
                        "peer_global", "relative_brier", "coverage", "interval", "crps"}
    assert bob["crps"] is None  # no numeric question here
    assert bob["peer_global"] == pytest.approx(bob["peer_total"] / 30)  # coverage sum < 30
    assert len(bob["interval"]) == 2 and bob["interval"][0] < bob["interval"][1]
    # One question: no interval at all.
    assert all(r["interval"] is None for r in ranked if r["questions"] == 1)
    assert rows[-1]["relative_brier"] == 0 and rows[-1]["peer_global"] is None
    assert rows[-1]["interval"] is None  # the crowd has no peer score to draw one of
    assert [r["user"] for r in api.get("/api/v1/leaderboard?min_questions=2").body] == ["bob"]


def test_empty_leaderboard(api, world):
    assert api.get("/api/v1/leaderboard?tag=nothing-here").body == []


@pytest.mark.parametrize("query, status, where", [
    ("metric=accuracy", 422, "metric"),
    ("min_questions=0", 422, "min_questions"),
    ("min_questions=lots", 422, "min_questions"),
    ("min_questions=99999999999999999999", 422, "min_questions"),
    ("with_crowd=maybe", 422, "with_crowd"),
    ("from=yesterday", 422, "from"),
    ("to=9999-12-31T23:59:59-23:59", 422, "to"),
    ("from=0001-01-01T00:00:00%2B05:00", 422, "from"),
    ("tag=" + "t" * 300, 422, "tag"),
    ("metric=brier&metric=log", 400, "metric"),
    ("sort=brier", 400, "query"),
])
def test_bad_parameters(api, world, query, status, where):
    response = api.get(f"/api/v1/leaderboard?{query}")
    assert response.status_code == status
    assert response.body["error"]["where"] == where
