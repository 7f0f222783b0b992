"""/api/v1/questions/{slug}/comments and /api/v1/comments/{id}: list (hidden-crowd aware),
post, edit, delete; every answer in the documented shape (the api fixture checks)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forecasts import timeutil
from forecasts.models import Comment, Notification, Question
from tests.api.conftest import read
from tests.test_markdown import PAYLOADS

URL = "/api/v1/questions/strike-open/comments"


def _hide(session, slug, hide):
    session.execute(update(Question).where(Question.slug == slug)
                    .values(hide_crowd_until_forecast=hide))
    session.commit()


def test_post_reply_list_edit_delete(api, world, database):
    alice, bob = world.tokens["alice"], world.tokens["bob"]
    posted = api.post(URL, token=alice, json={"body": "A *new* point"})
    assert posted.status_code == 201
    top = posted.body
    assert (top["user"], top["body"], top["parent_id"], top["deleted"]) == \
        ("alice", "A *new* point", None, False)
    assert top["html_url"].endswith(f"/questions/strike-open/comments/{top['id']}")
    reply = api.post(URL, token=bob, json={"body": "agreed", "parent_id": top["id"]})
    assert reply.status_code == 201 and reply.body["parent_id"] == top["id"]
    assert read(database, select(Notification.key).where(Notification.comment_id == reply.body["id"])) \
        == f"reply:{reply.body['id']}"
    listed = api.get(URL).body
    assert [c["body"] for c in listed["items"][:2]] == ["agreed", "A *new* point"]
    edited = api.request("PATCH", f"/api/v1/comments/{top['id']}", token=alice,
                         json={"body": "A better point"})
    assert edited.status_code == 200 and edited.body["edited_at"] is not None
    assert api.request("PATCH", f"/api/v1/comments/{top['id']}", token=bob,
                       json={"body": "mine"}).status_code == 403
    gone = api.request("DELETE", f"/api/v1/comments/{top['id']}", token=alice)
    assert gone.status_code == 200 and gone.body["deleted"] and gone.body["body"] is None
    listed = api.get(URL).body["items"]
    kept = next(c for c in listed if c["id"] == top["id"])
    assert kept["deleted"] and kept["body"] is None  # kept: it has a reply
    assert api.request("DELETE", f"/api/v1/comments/{top['id']}", token=alice).status_code == 409
    lone = api.request("DELETE", f"/api/v1/comments/{reply.body['id']}", token=bob)
    assert lone.status_code == 200
    ids = {c["id"] for c in api.get(URL).body["items"]}
    assert top["id"] not in ids and reply.body["id"] not in ids


def test_writes_need_a_token_and_good_input(api, world):
    alice = world.tokens["alice"]
    assert api.post(URL, json={"body": "x"}).status_code == 401
    assert api.request("DELETE", "/api/v1/comments/1").status_code == 401
    for body, where in (({"body": ""}, "comment.body"), ({"body": "   "}, "body"),
                        ({"body": "x" * 10_001}, "comment.body"), ({}, "comment"),
                        ({"body": "x", "extra": 1}, "body"),
                        ({"body": "x", "parent_id": 999_999}, "parent_id"),
                        ({"body": "x", "parent_id": 2 ** 40}, "parent_id")):
        response = api.post(URL, token=alice, json=body)
        assert response.status_code == 422, (body, response.body)
        assert response.body["error"]["where"].startswith(where), (body, response.body)
    for raw in ("0", "abc", "99999999999", "999999"):
        assert api.request("PATCH", f"/api/v1/comments/{raw}", token=alice,
                           json={"body": "x"}).status_code == 404
    assert api.post("/api/v1/questions/no-such/comments", token=alice,
                    json={"body": "x"}).status_code == 404


def test_the_edit_window_is_15_minutes(api, world, session):
    posted = api.post(URL, token=world.tokens["alice"], json={"body": "first"}).body
    session.execute(update(Comment).where(Comment.id == posted["id"])
                    .values(created_at=timeutil.now() - timedelta(minutes=15, seconds=1)))
    session.commit()
    late = api.request("PATCH", f"/api/v1/comments/{posted['id']}", token=world.tokens["alice"],
                       json={"body": "second"})
    assert late.status_code == 409 and "15 minutes" in late.body["error"]["message"]


def test_paging_beyond_50_with_a_cursor(api, world, session):
    from forecasts.services import comments, questions
    from forecasts.services.users import find_user
    q, alice = questions.get_question(session, "strike-open"), find_user(session, "alice")
    start = timeutil.now() - timedelta(hours=1)
    for i in range(60):
        comments.post_comment(session, q, alice, f"n{i}", now=start + timedelta(seconds=i))
    session.commit()
    first = api.get(URL).body
    assert len(first["items"]) == 50 and first["next_cursor"]
    second = api.get(f"{URL}?cursor={first['next_cursor']}").body
    seen = [c["id"] for c in first["items"] + second["items"]]
    assert len(seen) == len(set(seen)) == 62 and second["next_cursor"] is None
    assert api.get(f"{URL}?limit=5&offset=58").body["items"][-1]["body"] == "n0"


def test_hidden_crowd_honours_the_token(api, world, session):
    _hide(session, "strike-resolved", False)
    _hide(session, "strike-open", True)
    bob = world.tokens["bob"]
    api.post("/api/v1/questions/strike-open/forecasts", token=bob,
             json={"probability": 0.3, "rationale": "bob's secret why"})
    anonymous = api.get(URL).body["items"]
    assert all(c["forecast"] is None for c in anonymous)
    assert "bob's secret why" not in str(anonymous)
    assert "bob's secret why" not in str(api.get(URL, token=world.tokens["alice"]).body)
    own = api.get(URL, token=bob).body["items"]
    mine = next(c for c in own if c["body"] == "bob's secret why")
    assert mine["forecast"]["probability"] == 0.3
    assert api.get(URL, token="fct_not-a-token").status_code == 401
    settled = api.get("/api/v1/questions/strike-resolved/comments").body["items"]
    assert {c["forecast"]["probability"] for c in settled} == {0.8, 0.3, 0.9}


@pytest.mark.parametrize("payload", PAYLOADS[:6])
def test_xss_payloads_come_back_as_text(api, world, payload):
    posted = api.post(URL, token=world.tokens["alice"], json={"body": payload})
    assert posted.status_code == 201 and posted.body["body"] == payload
    assert posted.headers["Content-Type"] == "application/json"
