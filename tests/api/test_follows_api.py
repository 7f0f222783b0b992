"""The API's follows and reaffirm: with and without a token, answers as documented."""
from __future__ import annotations

from sqlalchemy import func, select

from forecasts.models import Comment, Follow, Forecast
from tests.api.conftest import read


def test_follow_unfollow_and_list(api, world, database):
    token = world.tokens["alice"]
    # alice forecast strike-resolved: she follows it without asking.
    listed = api.get("/api/v1/me/follows", token=token).body["items"]
    assert [item["question"] for item in listed] == ["strike-resolved"]
    api.request("DELETE", "/api/v1/questions/strike-resolved/follow", token=token)
    for _ in range(2):  # idempotent
        response = api.request("PUT", "/api/v1/questions/strike-open/follow", token=token)
        assert response.status_code == 200
        assert response.body == {"question": "strike-open", "following": True}
    api.request("PUT", "/api/v1/questions/strike-closed/follow", token=token)
    listed = api.get("/api/v1/me/follows", token=token).body
    assert {item["question"] for item in listed["items"]} == {"strike-open", "strike-closed"}
    assert {item["status"] for item in listed["items"]} == {"open", "closed"}
    first = api.get("/api/v1/me/follows?limit=1", token=token).body
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = api.get(f"/api/v1/me/follows?limit=1&cursor={first['next_cursor']}", token=token)
    assert second.body["next_cursor"] is None
    assert {first["items"][0]["question"], second.body["items"][0]["question"]} == \
        {"strike-open", "strike-closed"}
    response = api.request("DELETE", "/api/v1/questions/strike-open/follow", token=token)
    assert response.status_code == 200 and response.body["following"] is False
    listed = api.get("/api/v1/me/follows", token=token).body
    assert [item["question"] for item in listed["items"]] == ["strike-closed"]
    # The unfollow sticks through a later forecast.
    api.post("/api/v1/questions/strike-open/forecasts", token=token, json={"probability": 0.4})
    listed = api.get("/api/v1/me/follows", token=token).body
    assert [item["question"] for item in listed["items"]] == ["strike-closed"]
    # bob forecast strike-open and partner-open: he follows them without asking.
    bob = api.get("/api/v1/me/follows", token=world.tokens["bob"]).body
    assert {item["question"] for item in bob["items"]} == {"strike-open", "partner-open",
                                                           "strike-resolved"}


def test_follows_need_a_token_and_a_question(api, world, database):
    assert api.request("PUT", "/api/v1/questions/strike-open/follow").status_code == 401
    assert api.request("DELETE", "/api/v1/questions/strike-open/follow").status_code == 401
    assert api.get("/api/v1/me/follows").status_code == 401
    assert api.request("PUT", "/api/v1/questions/strike-open/follow",
                       token="not-a-token").status_code == 401
    assert api.request("PUT", "/api/v1/questions/no-such/follow",
                       token=world.tokens["alice"]).status_code == 404
    assert read(database, select(func.count()).select_from(Follow)
                .where(Follow.user_id == world.user_ids["alice"])) == 1  # strike-resolved


def test_reaffirm(api, world, database):
    token = world.tokens["bob"]
    comments = read(database, select(func.count(Comment.id)))
    response = api.post("/api/v1/questions/partner-open/reaffirm", token=token)
    assert response.status_code == 201
    assert response.body["probabilities"] == [0.4, 0.3, 0.2, 0.1]
    assert response.body["user"] == "bob" and response.body["question"] == "partner-open"
    response = api.post("/api/v1/questions/strike-open/reaffirm", token=token)
    assert response.status_code == 201 and response.body["probability"] == 0.25
    assert read(database, select(func.count(Comment.id))) == comments
    assert read(database, select(func.count(Forecast.id))
                .where(Forecast.user_id == world.user_ids["bob"])) == 5


def test_reaffirm_refusals(api, world, database):
    before = read(database, select(func.count(Forecast.id)))
    assert api.post("/api/v1/questions/strike-open/reaffirm").status_code == 401
    response = api.post("/api/v1/questions/strike-open/reaffirm", token=world.tokens["alice"])
    assert response.status_code == 409 and "nothing to reaffirm" in response.body["error"]["message"]
    response = api.post("/api/v1/questions/strike-resolved/reaffirm", token=world.tokens["alice"])
    assert response.status_code == 409 and "resolved" in response.body["error"]["message"]
    assert api.post("/api/v1/questions/nope-nope/reaffirm",
                    token=world.tokens["alice"]).status_code == 404
    assert read(database, select(func.count(Forecast.id))) == before
