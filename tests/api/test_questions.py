"""GET /questions, /questions/<slug> and /questions/<slug>/scores."""
from __future__ import annotations

import pytest

from forecasts.services import questions, scores
from tests.builders import question_data

ALL = ["strike-open", "partner-open", "tariff-bins", "strike-later", "strike-closed",
       "strike-resolved", "strike-annulled"]


def slugs(response) -> list[str]:
    return [item["slug"] for item in response.body["items"]]


def test_list_shows_every_question_with_state_and_crowd(api, world):
    response = api.get("/api/v1/questions?limit=200")
    assert response.status_code == 200
    items = {item["slug"]: item for item in response.body["items"]}
    assert sorted(items) == sorted(ALL)
    assert [items[s]["status"] for s in ("strike-open", "strike-later", "strike-closed",
                                         "strike-resolved", "strike-annulled")] == \
        ["open", "upcoming", "closed", "resolved", "annulled"]
    assert items["strike-open"]["crowd"] == pytest.approx([0.75, 0.25])
    assert items["strike-open"]["forecasters"] == 1
    assert items["partner-open"]["crowd"] == pytest.approx([0.4, 0.3, 0.2, 0.1])
    assert items["strike-later"]["crowd"] is None and items["strike-later"]["forecasters"] == 0
    assert items["strike-resolved"]["forecasters"] == 2
    assert items["strike-resolved"]["resolution"]["outcome"] == "yes"
    assert items["strike-annulled"]["resolution"] == {"outcome": "annulled", "known_at": None}
    assert items["strike-open"]["resolution"] is None
    assert items["tariff-bins"]["options"] == ["low", "mid", "high"]
    assert items["tariff-bins"]["ordered"] is True
    assert items["strike-open"]["options"] == ["no", "yes"]
    assert items["strike-open"]["tags"] == ["security", "trade"]
    assert items["strike-open"]["url"] == "http://localhost/api/v1/questions/strike-open"
    assert items["strike-open"]["html_url"] == "http://localhost/questions/strike-open"
    assert "description" not in items["strike-open"]


@pytest.mark.parametrize("query, expected", [
    ("status=open", ["tariff-bins", "partner-open", "strike-open"]),
    ("status=closed", ["strike-closed"]),
    ("status=resolved", ["strike-resolved"]),
    ("status=annulled", ["strike-annulled"]),
    ("status=upcoming", ["strike-later"]),
    ("tag=trade", ["tariff-bins", "strike-open"]),
    ("tag=TRADE&status=open", ["tariff-bins", "strike-open"]),
    ("q=later", ["strike-later"]),
    ("q=ANNULLED", ["strike-annulled"]),
    ("q=100%25", []),
    ("tag=none-such", []),
])
def test_filters(api, world, query, expected):
    response = api.get(f"/api/v1/questions?{query}")
    assert response.status_code == 200
    assert slugs(response) == expected


def test_sorts(api, world):
    closing = slugs(api.get("/api/v1/questions?status=open&sort=closing"))
    assert closing == ["tariff-bins", "partner-open", "strike-open"]
    most = slugs(api.get("/api/v1/questions?sort=forecasters"))
    assert most[0] == "strike-resolved" and set(most[1:3]) == {"strike-open", "partner-open"}
    newest = slugs(api.get("/api/v1/questions?sort=newest"))
    assert newest[0] == "strike-later"


def test_offset_pagination(api, world):
    everything = slugs(api.get("/api/v1/questions"))
    first = api.get("/api/v1/questions?limit=3")
    second = api.get("/api/v1/questions?limit=3&offset=3")
    third = api.get("/api/v1/questions?limit=3&offset=6")
    assert slugs(first) + slugs(second) + slugs(third) == everything
    assert first.body["limit"] == 3 and first.body["next_cursor"]
    assert third.body["next_cursor"] is None


def test_cursor_pagination_walks_every_question_once(api, world):
    seen, cursor = [], None
    for _ in range(10):
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = api.get(f"/api/v1/questions?{query}").body
        seen += [item["slug"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == slugs(api.get("/api/v1/questions"))
    assert len(seen) == len(ALL)


def test_default_limit_is_50(api, session):
    for i in range(53):
        questions.create_question(session, question_data(slug=f"bulk-{i:03d}"))
    session.commit()
    first = api.get("/api/v1/questions")
    assert len(first.body["items"]) == 50 and first.body["limit"] == 50
    rest = api.get(f"/api/v1/questions?cursor={first.body['next_cursor']}")
    assert len(rest.body["items"]) == 3 and rest.body["next_cursor"] is None


@pytest.mark.parametrize("query, status, where", [
    ("limit=0", 422, "limit"),
    ("limit=201", 422, "limit"),
    ("limit=abc", 422, "limit"),
    ("limit=1.5", 422, "limit"),
    ("offset=-1", 422, "offset"),
    ("offset=99999999999999999999999", 422, "offset"),
    ("offset=1&cursor=abc", 422, "cursor"),
    ("cursor=not-a-cursor", 422, "cursor"),
    ("cursor=eyJrIjoiZm9yZWNhc3RzIiwiYWZ0ZXIiOlsxLDJdfQ", 422, "cursor"),  # another list's
    ("status=pending", 422, "status"),
    ("sort=random", 422, "sort"),
    ("q=" + "x" * 201, 422, "q"),
    ("limt=5", 400, "query"),
    ("limit=5&limit=6", 400, "limit"),
    ("tag=a%00b", 400, "tag"),
])
def test_bad_query_parameters(api, world, query, status, where):
    response = api.get(f"/api/v1/questions?{query}")
    assert response.status_code == status
    assert response.body["error"]["where"] == where
    assert where in response.body["error"]["message"]


def test_detail(api, world):
    response = api.get("/api/v1/questions/tariff-bins")
    assert response.status_code == 200
    body = response.body
    assert body["slug"] == "tariff-bins" and body["kind"] == "multiple_choice"
    assert body["description"] == ""
    assert body["rule"] == {"type": "manual"}
    assert body["status"] == "open" and body["crowd"] is None
    listed = {i["slug"]: i for i in api.get("/api/v1/questions").body["items"]}["tariff-bins"]
    assert {k: v for k, v in body.items() if k in listed} == listed
    from forecasts import rules

    if hasattr(rules, "describe"):  # the rules engine puts the rule in words
        assert body["rule_text"].strip()


def test_detail_describes_the_rule_when_the_rules_can(api, world, monkeypatch):
    from forecasts import rules

    monkeypatch.setattr(rules, "describe", lambda rule, question: f"{rule['type']} of "
                        f"{question.slug}", raising=False)
    body = api.get("/api/v1/questions/strike-open").body
    assert body["rule_text"] == "manual of strike-open"
    assert body["description"] == "Resolves yes if it happens."


@pytest.mark.parametrize("slug", ["no-such-question", "UPPER", "a", "x" * 81, "%00abc"])
def test_unknown_question_is_404(api, world, slug):
    for path in (f"/api/v1/questions/{slug}", f"/api/v1/questions/{slug}/scores"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.body["error"]["code"] == "not_found"


def test_scores_match_the_service_document(api, world, database):
    response = api.get("/api/v1/questions/strike-resolved/scores")
    assert response.status_code == 200
    with database.session() as session:
        expected = scores.question_scores(session, questions.get_question(session,
                                                                          "strike-resolved"))
    assert response.body == expected
    assert set(response.body["users"]) == {"alice", "bob"}
    assert response.body["outcome"] == "yes" and response.body["crowd"] is not None


def test_scores_agree_with_the_cli(api, world, runner):
    import json

    result = runner("scores", "strike-resolved", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert api.get("/api/v1/questions/strike-resolved/scores").body == json.loads(result.stdout)


@pytest.mark.parametrize("slug", ["strike-open", "strike-closed", "strike-later"])
def test_scores_of_an_unsettled_question_are_409(api, world, slug):
    response = api.get(f"/api/v1/questions/{slug}/scores")
    assert response.status_code == 409
    assert response.body["error"]["code"] == "conflict"
    assert "not resolved" in response.body["error"]["message"]


def test_annulled_question_has_no_scores(api, world):
    body = api.get("/api/v1/questions/strike-annulled/scores").body
    assert body == {"question": "strike-annulled", "outcome": "annulled", "users": {},
                    "crowd": None}


# --- the default order, full-text search and the token user's own filters --------------

def test_default_order_is_forecastable_first(api, world):
    expected = ["tariff-bins", "partner-open", "strike-open", "strike-later", "strike-closed",
                "strike-annulled", "strike-resolved"]  # annulled now, resolved 9 days ago
    assert slugs(api.get("/api/v1/questions")) == expected
    assert slugs(api.get("/api/v1/questions?sort=default")) == expected


def test_drafts_are_never_listed(api, world, session):
    from forecasts.models import DRAFT, REJECTED

    for slug, state in (("strike-draft", DRAFT), ("strike-rejected", REJECTED)):
        questions.create_question(session, question_data(slug=slug)).review_state = state
    session.commit()
    for query in ("", "?q=strike", "?status=open", "?sort=newest&limit=200"):
        assert not {"strike-draft", "strike-rejected"} & set(slugs(api.get(f"/api/v1/questions{query}")))


@pytest.mark.parametrize("query, expected", [
    ("q=strikes", ["strike-open", "strike-later", "strike-closed", "strike-annulled",
                   "strike-resolved"]),  # in the slug and the description
    ("q=closed+questions", ["strike-closed"]),
    ("q=later+closed", []),
    ("q=question&sort=closing", ["strike-resolved", "strike-closed", "strike-later"]),
    ('q=%22(NEAR*%3A', []),
    ("q=%22later%22+-question", ["strike-later"]),
])
def test_full_text_search(api, world, query, expected):
    response = api.get(f"/api/v1/questions?{query}")
    assert response.status_code == 200
    if "sort" in query or len(expected) < 2:
        assert slugs(response) == expected
    else:
        assert sorted(slugs(response)) == sorted(expected)


@pytest.fixture
def stale_alice(world, session):
    """alice forecast tariff-bins long ago: her only open question, and a stale one."""
    from datetime import timedelta

    from forecasts import timeutil
    from forecasts.models import Question, User
    from forecasts.services.forecasts import submit_forecast
    from forecasts.services.question_list import DEFAULT_STALE_DAYS as STALE_DAYS

    question = session.query(Question).filter_by(slug="tariff-bins").one()
    alice = session.get(User, world.user_ids["alice"])
    question.open_at = timeutil.now() - timedelta(days=STALE_DAYS + 10)  # opened 30 days ago
    submit_forecast(session, question, alice, probabilities=[0.2, 0.5, 0.3],
                    at=timeutil.now() - timedelta(days=STALE_DAYS + 1))
    session.commit()
    return world


@pytest.mark.parametrize("user, query, expected", [
    ("alice", "mine=true", ["tariff-bins", "strike-resolved"]),
    ("alice", "stale=1", ["tariff-bins"]),
    ("alice", "unforecast=true", ["partner-open", "strike-open", "strike-later", "strike-closed",
                             "strike-annulled"]),
    ("bob", "mine=yes", ["partner-open", "strike-open", "strike-resolved"]),
    ("bob", "stale=true", []),  # bob's forecasts are days old
    ("bob", "mine=false&stale=false", ["tariff-bins", "partner-open", "strike-open",
                                       "strike-later", "strike-closed", "strike-annulled",
                                       "strike-resolved"]),
    ("alice", "mine=true&q=tariff&limit=1", ["tariff-bins"]),
])
def test_own_forecast_filters(api, stale_alice, user, query, expected):
    response = api.get(f"/api/v1/questions?{query}", token=stale_alice.tokens[user])
    assert response.status_code == 200
    assert slugs(response) == expected


@pytest.mark.parametrize("query, token, status, where", [
    ("mine=true", None, 401, "Authorization"),
    ("stale=1", "not-a-token", 401, "Authorization"),
    ("mine=true&unforecast=true", "alice", 422, "unforecast"),
    ("mine=maybe", "alice", 422, "mine"),
])
def test_own_forecast_filters_need_a_token_and_one_choice(api, world, query, token, status,
                                                          where):
    token = world.tokens.get(token, token)
    response = api.get(f"/api/v1/questions?{query}", token=token)
    assert response.status_code == status
    assert response.body["error"]["where"] == where


def test_pages_of_the_default_order_are_stable_and_complete(api, session):
    from datetime import timedelta

    from forecasts import timeutil

    now = timeutil.now()
    for i in range(23):  # pairs closing at the same instant: only the id breaks the tie
        questions.create_question(session, question_data(
            slug=f"tie-{i:02d}", open_at=timeutil.iso(now - timedelta(days=1)),
            close_at=timeutil.iso(now + timedelta(days=1 + i // 2))))
    session.commit()
    seen, cursor = [], None
    while True:
        body = api.get("/api/v1/questions?limit=4" + (f"&cursor={cursor}" if cursor else "")).body
        seen += [item["slug"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"tie-{i:02d}" for i in range(23)]
