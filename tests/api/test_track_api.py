"""GET /api/v1/users/{username}/track-record: the service's numbers as JSON (checked
against the OpenAPI document by the api fixture), filters and errors."""
from __future__ import annotations


import pytest

from forecasts import timeutil
from forecasts.api.track import document
from forecasts.services.track_record import track_record
from tests.track_world import TOURNAMENT, build


@pytest.fixture
def tw(session):
    return build(session)


def boot(app):
    return {"n_boot": app.config["LEADERBOARD_BOOTSTRAP"], "seed": app.config["LEADERBOARD_SEED"]}


def test_the_track_record_is_the_services(api, app, session, tw):
    response = api.get("/api/v1/users/alice/track-record")
    assert response.status_code == 200, response.body
    body = response.body
    record = track_record(session, "alice", **boot(app))
    assert body == document(record)
    assert body["questions"] == len(tw.slugs) == len(body["series"])
    assert [p["question"] for p in body["series"]] == [p.question for p in record.series]
    times = [timeutil.parse(p["time"], where="time") for p in body["series"]]
    assert times == sorted(times)
    assert body["rolling_days"] == 90 and len(body["horizons"]) == 4
    d = body["discrimination"]
    assert d["interval"][0] <= d["auc"] <= d["interval"][1]
    assert len(body["calibration"]) == 10
    assert sum(b["forecasts"] for b in body["calibration"]) == d["forecasts"]


def test_filters(api, app, session, tw):
    body = api.get("/api/v1/users/alice/track-record?tag=TRACKED").body
    assert {p["question"] for p in body["series"]} == tw.tagged
    assert body["filters"] == {"tag": "tracked", "tournament": None, "from": None, "to": None}
    body = api.get(f"/api/v1/users/alice/track-record?tournament={TOURNAMENT}").body
    assert {p["question"] for p in body["series"]} == tw.in_tournament
    whole = track_record(session, "alice", **boot(app)).series
    start, end = whole[2].time, whole[8].time
    url = (f"/api/v1/users/alice/track-record?from={timeutil.iso(start)}"
           f"&to={timeutil.iso(end)}")
    body = api.get(url).body
    assert [p["question"] for p in body["series"]] == [p.question for p in whole[2:8]]
    assert body["filters"]["from"] == timeutil.iso(start)


def test_a_user_without_scores(api, tw):
    body = api.get("/api/v1/users/dora/track-record").body
    assert body["series"] == [] and body["discrimination"] is None and body["questions"] == 0


@pytest.mark.parametrize("query, status, where", [
    ("?tag=no-such-tag", 422, "tag"),
    ("?tag=", 422, "tag"),
    ("?tournament=no-such-cup", 404, "tournament"),
    ("?from=soon", 422, "from"),
    ("?from=2026-05-01&to=2026-01-01", 422, "from"),
    ("?since=2026-01-01", 400, "query"),
])
def test_errors(api, tw, query, status, where):
    response = api.get("/api/v1/users/alice/track-record" + query)
    assert response.status_code == status, response.body
    assert response.body["error"]["where"] == where


def test_an_unknown_user(api, tw):
    response = api.get("/api/v1/users/nobody/track-record")
    assert response.status_code == 404 and response.body["error"]["where"] == "user"
