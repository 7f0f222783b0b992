"""The API's tournaments: list and detail as documented, the leaderboard against the
question_scores rows, and joining or leaving (yourself, or anyone as an admin)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forecasts.models import QuestionScore, Tournament, TournamentMember, User
from forecasts.services.tokens import create_token
from forecasts.services.users import create_user
from tests.api.conftest import read

MEMBERS = "/api/v1/tournaments/{}/members/{}"


def members(database, slug: str) -> set[str]:
    with database.session() as s:
        return set(s.scalars(select(User.username)
                             .join(TournamentMember, TournamentMember.user_id == User.id)
                             .join(Tournament, Tournament.id == TournamentMember.tournament_id)
                             .where(Tournament.slug == slug)))


@pytest.fixture
def admin_token(world, session) -> str:
    carol = create_user(session, "carol", role="admin")
    token = create_token(session, carol, "tests")[1]
    session.commit()
    return token


def test_list_gives_every_tournament_with_its_counts(api, world):
    body = api.get("/api/v1/tournaments").body
    assert body["next_cursor"] is None and body["limit"] == 50
    by_slug = {item["slug"]: item for item in body["items"]}
    assert set(by_slug) == {"spring-cup", "empty-cup"}
    assert by_slug["spring-cup"] == {
        "slug": "spring-cup", "title": "Spring cup", "description": "", "start": None,
        "end": None, "questions": 2, "members": 2,
        "url": "http://localhost/api/v1/tournaments/spring-cup"}
    assert (by_slug["empty-cup"]["questions"], by_slug["empty-cup"]["members"]) == (0, 0)
    # Newest first: empty-cup was made after spring-cup.
    assert [item["slug"] for item in body["items"]] == ["empty-cup", "spring-cup"]


def test_list_pages_with_offset_and_cursor(api, world):
    first = api.get("/api/v1/tournaments?limit=1").body
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = api.get(f"/api/v1/tournaments?limit=1&cursor={first['next_cursor']}").body
    assert second["next_cursor"] is None
    by_offset = api.get("/api/v1/tournaments?limit=1&offset=1").body
    assert by_offset["items"] == second["items"]
    assert {first["items"][0]["slug"], second["items"][0]["slug"]} == {"spring-cup",
                                                                       "empty-cup"}
    assert api.get("/api/v1/tournaments?offset=5").body["items"] == []
    # Another list's cursor, or one naming a keyset, is refused.
    other = api.get("/api/v1/me/follows?limit=1", token=world.tokens["bob"]).body["next_cursor"]
    for cursor in (other, "eyJrIjoidG91cm5hbWVudHMiLCJhZnRlciI6WzEsMV19"):
        refused = api.get(f"/api/v1/tournaments?cursor={cursor}")
        assert refused.status_code == 422 and refused.body["error"]["where"] == "cursor"


def test_detail_has_the_questions_and_the_leaderboard_of_the_scores(api, world, database):
    body = api.get("/api/v1/tournaments/spring-cup").body
    assert body["questions"] == ["strike-open", "strike-resolved"]
    assert body["members"] == 2 and body["title"] == "Spring cup"
    # Only strike-resolved is scored; the leaderboard from its rows, one by one.
    with database.session() as s:
        names = {u.id: u.username for u in s.scalars(select(User))}
        rows = [r for r in s.scalars(select(QuestionScore)) if names.get(r.user_id) in
                ("alice", "bob")]
    assert len(rows) == 2
    expected = sorted(rows, key=lambda r: -r.peer)
    board = body["leaderboard"]
    assert [row["user"] for row in board] == [names[r.user_id] for r in expected]
    for row, r in zip(board, expected):
        assert row["questions"] == 1
        assert row["peer_total"] == pytest.approx(r.peer, abs=1e-12)
        assert row["brier"] == pytest.approx(r.brier, abs=1e-12)
        assert row["coverage"] == pytest.approx(r.coverage, abs=1e-12)
    assert [row["rank"] for row in board] == [1, 2]
    # alice forecast 0.8 then 0.9 on a yes, bob 0.3: alice leads.
    assert board[0]["user"] == "alice" and board[0]["peer_total"] > 0 > board[1]["peer_total"]
    empty = api.get("/api/v1/tournaments/empty-cup").body
    assert (empty["questions"], empty["leaderboard"], empty["members"]) == ([], [], 0)


@pytest.mark.parametrize("slug", ["no-such-cup", "Spring-Cup", "x", "spring cup", "a" * 81])
def test_unknown_or_malformed_tournament_is_404(api, world, slug):
    response = api.get(f"/api/v1/tournaments/{slug}")
    assert response.status_code == 404 and response.body["error"]["where"] == "tournament"
    response = api.request("PUT", MEMBERS.format(slug, "alice"), token=world.tokens["alice"])
    assert response.status_code == 404 and response.body["error"]["where"] == "tournament"


def test_join_and_leave_yourself_idempotently(api, world, database):
    token = world.tokens["alice"]
    for changed in (True, False):
        response = api.request("PUT", MEMBERS.format("empty-cup", "alice"), token=token)
        assert response.status_code == 200
        assert response.body == {"tournament": "empty-cup", "user": "alice", "member": True,
                                 "changed": changed}
        assert response.headers["Cache-Control"] == "no-store"
        assert members(database, "empty-cup") == {"alice"}
    board = api.get("/api/v1/tournaments/empty-cup").body["leaderboard"]
    assert board == [{"rank": None, "user": "alice", "questions": 0, "peer_total": 0.0,
                      "brier": None, "coverage": None}]
    for changed in (True, False):
        response = api.request("DELETE", MEMBERS.format("empty-cup", "alice"), token=token)
        assert response.status_code == 200
        assert response.body == {"tournament": "empty-cup", "user": "alice", "member": False,
                                 "changed": changed}
        assert members(database, "empty-cup") == set()
    # The name is matched as usernames are, without regard to case.
    response = api.request("DELETE", MEMBERS.format("spring-cup", "ALICE"), token=token)
    assert response.body == {"tournament": "spring-cup", "user": "alice", "member": False,
                             "changed": True}
    assert members(database, "spring-cup") == {"bob"}
    assert [r["user"] for r in api.get("/api/v1/tournaments/spring-cup").body["leaderboard"]] \
        == ["bob"]


def test_another_users_membership_is_refused_and_unchanged(api, world, database):
    for method, slug in (("PUT", "empty-cup"), ("DELETE", "spring-cup")):
        response = api.request(method, MEMBERS.format(slug, "bob"), token=world.tokens["alice"])
        assert response.status_code == 403
        assert response.body["error"]["code"] == "forbidden"
        assert response.body["error"]["where"] == "username"
        assert "'bob'" in response.body["error"]["message"]
    assert members(database, "empty-cup") == set()
    assert members(database, "spring-cup") == {"alice", "bob"}


def test_an_admin_changes_anyones_membership(api, world, database, admin_token):
    response = api.request("PUT", MEMBERS.format("empty-cup", "bob"), token=admin_token)
    assert response.status_code == 200 and response.body["member"] is True
    response = api.request("DELETE", MEMBERS.format("spring-cup", "alice"), token=admin_token)
    assert response.status_code == 200 and response.body["changed"] is True
    assert members(database, "empty-cup") == {"bob"}
    assert members(database, "spring-cup") == {"bob"}
    response = api.request("PUT", MEMBERS.format("empty-cup", "nobody"), token=admin_token)
    assert response.status_code == 404 and response.body["error"]["where"] == "user"


def test_membership_needs_a_token_and_changes_nothing_without_one(api, world, database):
    count = select(func.count()).select_from(TournamentMember)
    before = read(database, count)
    for token in (None, "not-a-token"):
        for method in ("PUT", "DELETE"):
            response = api.request(method, MEMBERS.format("spring-cup", "alice"), token=token)
            assert response.status_code == 401
    for name in ("nobody", "bad name", "x" * 60):
        response = api.request("PUT", MEMBERS.format("empty-cup", name),
                               token=world.tokens["alice"])
        assert response.status_code == 404 and response.body["error"]["where"] == "user"
    response = api.request("PUT", MEMBERS.format("empty-cup", "alice") + "?x=1",
                           token=world.tokens["alice"])
    assert response.status_code == 400 and response.body["error"]["where"] == "query"
    assert read(database, count) == before
