"""POST /questions/<slug>/forecasts and GET /me/forecasts."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from forecasts.api import paging
from forecasts.models import ApiToken, Forecast
from forecasts.services.tokens import TOUCH_EVERY, revoke_token
from tests.api.conftest import read

OPEN = "/api/v1/questions/strike-open/forecasts"
MC = "/api/v1/questions/partner-open/forecasts"


def count(database) -> int:
    return read(database, select(func.count(Forecast.id)))


def test_binary_forecast_is_stored_and_returned(api, world, database):
    before = count(database)
    response = api.post(OPEN, token=world.tokens["alice"],
                        json={"probability": 0.3, "rationale": "Base rates."})
    assert response.status_code == 201
    body = response.body
    assert body["question"] == "strike-open" and body["user"] == "alice"
    assert body["probability"] == 0.3
    assert body["probabilities"] == pytest.approx([0.7, 0.3])
    assert body["rationale"] == "Base rates."
    assert response.headers["Cache-Control"] == "no-store"
    assert count(database) == before + 1
    stored = read(database, select(Forecast.user_id).where(Forecast.id == body["id"]))
    assert stored == world.user_ids["alice"]
    # The crowd now holds both forecasters.
    detail = api.get("/api/v1/questions/strike-open").body
    assert detail["forecasters"] == 2
    assert detail["crowd"][1] == pytest.approx(0.275)


def test_multiple_choice_forecast_is_normalised(api, world):
    response = api.post(MC, token=world.tokens["alice"],
                        json={"probabilities": [0.1, 0.2, 0.3, 0.4000001]})
    assert response.status_code == 201
    assert sum(response.body["probabilities"]) == pytest.approx(1, abs=1e-12)
    assert response.body["probability"] is None and response.body["rationale"] is None


def test_an_update_is_a_new_row(api, world):
    first = api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.3}).body
    second = api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.6}).body
    assert second["id"] != first["id"]
    mine = api.get("/api/v1/me/forecasts?question=strike-open", token=world.tokens["alice"])
    assert [f["probability"] for f in mine.body["items"]] == [0.6, 0.3]


def test_charset_parameter_and_json_suffix_types_are_accepted(api, world):
    for content_type in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = api.post(OPEN, token=world.tokens["alice"], data='{"probability": 0.5}',
                            content_type=content_type)
        assert response.status_code == 201, content_type


BAD_BODIES = [
    # (body as sent, content type, status, where)
    ('{"probability": 0.3', "application/json", 400, "body"),
    ("", "application/json", 400, "body"),
    ('{"probability": NaN}', "application/json", 400, "body"),
    ('{"probability": Infinity}', "application/json", 400, "body"),
    ('{"probability": -Infinity}', "application/json", 400, "body"),
    ('{"probability": 1' + "0" * 5000 + "}", "application/json", 400, "body"),
    ("[" * 100000 + "]" * 100000, "application/json", 400, "body"),
    (b'{"probability": 0.3, "rationale": "\xff"}', "application/json", 400, "body"),
    ('{"probability": 0.3}', "text/plain", 400, "Content-Type"),
    ('{"probability": 0.3}', None, 400, "Content-Type"),
    ("probability=0.3", "application/x-www-form-urlencoded", 400, "Content-Type"),
    ('[0.3]', "application/json", 422, "body"),
    ('"0.3"', "application/json", 422, "body"),
    ("null", "application/json", 422, "body"),
    ('{"probability": "0.3"}', "application/json", 422, "forecast.probability"),
    ('{"probability": true}', "application/json", 422, "forecast.probability"),
    ('{"probability": null}', "application/json", 422, "forecast.probability"),
    ("{}", "application/json", 422, "forecast.probability"),
    ('{"probability": 1e400}', "application/json", 422, "forecast.probability"),
    ('{"probability": 1' + "0" * 400 + "}", "application/json", 422, "forecast.probability"),
    ('{"probability": 0}', "application/json", 422, "forecast.probability"),
    ('{"probability": 1}', "application/json", 422, "forecast.probability"),
    ('{"probability": 0.0009}', "application/json", 422, "forecast.probability"),
    ('{"probability": 0.9991}', "application/json", 422, "forecast.probability"),
    ('{"probability": -0.3}', "application/json", 422, "forecast.probability"),
    ('{"probabilities": [0.3, 0.7]}', "application/json", 422, "forecast"),
    ('{"probability": 0.3, "confidence": 2}', "application/json", 422, "body"),
    ('{"probability": 0.3, "rationale": 5}', "application/json", 422, "forecast.rationale"),
    ('{"probability": 0.3, "rationale": "a\\u0000b"}', "application/json", 422, "rationale"),
    ('{"probability": 0.3, "rationale": "\\ud800"}', "application/json", 422, "rationale"),
    ('{"probability": 0.3, "rationale": "' + "x" * 10001 + '"}', "application/json", 422,
     "forecast.rationale"),
]


@pytest.mark.parametrize("body, content_type, status, where", BAD_BODIES)
def test_bad_binary_bodies_are_rejected_and_change_nothing(api, world, database, body,
                                                           content_type, status, where):
    before = count(database)
    response = api.post(OPEN, token=world.tokens["alice"], data=body, content_type=content_type)
    assert response.status_code == status, response.body
    assert response.body["error"]["where"] == where
    assert response.body["error"]["code"] == ("bad_request" if status == 400 else "invalid_input")
    assert count(database) == before


@pytest.mark.parametrize("payload, where", [
    ({"probabilities": [0.5, 0.5]}, "forecast.probabilities"),
    ({"probabilities": [0.25, 0.25, 0.25, 0.2]}, "forecast.probabilities"),
    ({"probabilities": [0.25, 0.25, 0.25, 0.25, 0.0]}, "forecast.probabilities"),
    ({"probabilities": [0.0005, 0.3, 0.3, 0.3995]}, "forecast.probabilities[0]"),
    ({"probabilities": [0.25, "0.25", 0.25, 0.25]}, "forecast.probabilities[1]"),
    ({"probabilities": [0.25, 0.25, 0.25, None]}, "forecast.probabilities[3]"),
    ({"probabilities": {"Canada": 1}}, "forecast.probabilities"),
    ({"probabilities": "0.25,0.25,0.25,0.25"}, "forecast.probabilities"),
    ({"probability": 0.3}, "forecast"),
    ({}, "forecast.probabilities"),
])
def test_bad_vectors_are_rejected(api, world, database, payload, where):
    before = count(database)
    response = api.post(MC, token=world.tokens["alice"], json=payload)
    assert response.status_code == 422
    assert response.body["error"]["where"] == where
    assert count(database) == before


def test_oversized_body_is_413(api, world):
    response = api.post(OPEN, token=world.tokens["alice"],
                        data=json.dumps({"probability": 0.3, "rationale": "x" * 300_000}),
                        content_type="application/json")
    assert response.status_code == 413
    assert response.body["error"]["code"] == "too_large"


@pytest.mark.parametrize("key, state", [("closed", "closes"), ("upcoming", "opens"),
                                        ("resolved", "resolved"), ("annulled", "annulled")])
def test_settled_closed_or_unopened_question_is_409(api, world, database, key, state):
    before = count(database)
    slug = world.slugs[key]
    response = api.post(f"/api/v1/questions/{slug}/forecasts", token=world.tokens["alice"],
                        json={"probability": 0.3})
    assert response.status_code == 409
    assert response.body["error"]["code"] == "conflict"
    assert state in response.body["error"]["message"]
    assert count(database) == before


def test_unknown_question_is_404(api, world):
    response = api.post("/api/v1/questions/no-such-thing/forecasts", token=world.tokens["alice"],
                        json={"probability": 0.3})
    assert response.status_code == 404


@pytest.mark.parametrize("header, rejected", [
    (None, False),
    ("", False),
    ("Bearer", True),
    ("Bearer ", True),
    ("Basic YWxpY2U6c2VjcmV0", True),
    ("Bearer fct_not-a-real-token", True),
    ("Bearer not-even-the-prefix", True),
    ("Bearer " + "fct_" + "x" * 500, True),
])
def test_missing_or_invalid_token_is_401(api, world, database, header, rejected):
    before = count(database)
    headers = {} if header is None else {"Authorization": header}
    response = api.post(OPEN, headers=headers, json={"probability": 0.3})
    assert response.status_code == 401
    assert response.body["error"]["code"] == "unauthorized"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="forecasts"')
    assert ('error="invalid_token"' in challenge) == rejected
    assert count(database) == before


def test_authentication_comes_before_the_body(api, world):
    response = api.post(OPEN, data="not json", content_type="text/plain")
    assert response.status_code == 401


def test_revoked_token_is_401(api, world, database):
    with database.transaction() as session:
        token = session.scalars(select(ApiToken).where(
            ApiToken.user_id == world.user_ids["alice"])).one()
        revoke_token(session, token.user, token.id)
    response = api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.3})
    assert response.status_code == 401
    assert "revoked" in response.body["error"]["message"]


def test_writes_record_token_use_and_reads_do_not(api, world, database):
    def last_used():
        return read(database, select(ApiToken.last_used_at).where(
            ApiToken.user_id == world.user_ids["alice"]))

    api.get("/api/v1/me/forecasts", token=world.tokens["alice"])
    assert last_used() is None
    api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.3})
    first = last_used()
    assert first is not None
    # Within the minute the recorded time stands; older than that, the next write moves it.
    api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.35})
    assert last_used() == first
    with database.transaction() as session:
        token = session.scalars(select(ApiToken).where(
            ApiToken.user_id == world.user_ids["alice"])).one()
        token.last_used_at = first - TOUCH_EVERY
    api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.4})
    assert last_used() > first


def test_a_token_writes_only_as_its_own_user(api, world):
    api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.42})
    bob = api.get("/api/v1/me/forecasts", token=world.tokens["bob"]).body["items"]
    assert 0.42 not in [f["probability"] for f in bob]
    assert {f["user"] for f in bob} == {"bob"}


def test_my_forecasts_newest_first_with_filter(api, world):
    body = api.get("/api/v1/me/forecasts", token=world.tokens["alice"]).body
    assert [(f["question"], f["probability"]) for f in body["items"]] == \
        [("strike-resolved", 0.9), ("strike-resolved", 0.8)]
    assert body["items"][0]["rationale"] == "alice thinks 0.9"
    assert body["next_cursor"] is None
    bob = api.get("/api/v1/me/forecasts?question=partner-open", token=world.tokens["bob"]).body
    assert [f["probabilities"] for f in bob["items"]] == [[0.4, 0.3, 0.2, 0.1]]
    none = api.get("/api/v1/me/forecasts?question=strike-later", token=world.tokens["bob"])
    assert none.body["items"] == []


def test_my_forecasts_cursor_is_stable_under_new_forecasts(api, world):
    for p in (0.1, 0.2, 0.3, 0.4, 0.5):
        api.post(OPEN, token=world.tokens["alice"], json={"probability": p})
    first = api.get("/api/v1/me/forecasts?limit=3", token=world.tokens["alice"]).body
    assert [f["probability"] for f in first["items"]] == [0.5, 0.4, 0.3]
    # A forecast made between two pages does not shift the next page.
    api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.6})
    rest = api.get(f"/api/v1/me/forecasts?limit=3&cursor={first['next_cursor']}",
                   token=world.tokens["alice"]).body
    assert [f["probability"] for f in rest["items"]] == [0.2, 0.1, 0.9]
    last = api.get(f"/api/v1/me/forecasts?limit=3&cursor={rest['next_cursor']}",
                   token=world.tokens["alice"]).body
    assert [f["probability"] for f in last["items"]] == [0.8]
    assert last["next_cursor"] is None
    offset = api.get("/api/v1/me/forecasts?limit=2&offset=1", token=world.tokens["alice"]).body
    assert [f["probability"] for f in offset["items"]] == [0.5, 0.4]


@pytest.mark.parametrize("query, status", [("question=no-such-question", 404),
                                           ("question=%00", 400), ("limit=0", 422),
                                           ("cursor=e30", 422), ("user=bob", 400)])
def test_my_forecasts_bad_parameters(api, world, query, status):
    response = api.get(f"/api/v1/me/forecasts?{query}", token=world.tokens["alice"])
    assert response.status_code == status


@pytest.mark.parametrize("position", [
    {"after": [2 ** 62, 1]}, {"after": [-(2 ** 62), 1]}, {"after": [0, -1]},
    {"after": [0, 2 ** 31]}, {"after": [0]}, {"after": [0, 1, 2]}, {"after": ["0", 1]},
    {"after": [0.5, 1]}, {"after": [True, 1]}, {"after": None}, {"offset": -2},
    {"after": [0, 1], "offset": 2}, {},
])
def test_forged_cursors_are_rejected(api, world, position):
    cursor = paging.encode_cursor("forecasts", **position)
    response = api.get(f"/api/v1/me/forecasts?cursor={cursor}", token=world.tokens["alice"])
    assert response.status_code == 422
    assert response.body["error"]["where"] == "cursor"


def test_cursors_at_the_ends_of_time_are_fine(api, world):
    for position in ((paging._FIRST, 1), (paging._LAST, paging._MAX_ID)):
        cursor = paging.encode_cursor("forecasts", after=list(position))
        response = api.get(f"/api/v1/me/forecasts?cursor={cursor}", token=world.tokens["alice"])
        assert response.status_code == 200
    assert len(response.body["items"]) == 2


def test_my_forecasts_needs_a_token(api, world):
    assert api.get("/api/v1/me/forecasts").status_code == 401
    assert api.get("/api/v1/me/forecasts", token="fct_nope").status_code == 401


def _due_question(session, *, crossed: bool, slug: str = "tariff-due") -> None:
    """An open threshold question (with an any_of reading it); `crossed`: an observation
    two days ago already meets the threshold."""
    from datetime import timedelta

    from forecasts import timeutil
    from forecasts.services import observations, questions
    from tests.api.conftest import window
    from tests.builders import question_data

    rule = {"type": "threshold", "series": "us-mx-rate", "op": ">=", "value": 0.25, "when": "any"}
    questions.create_question(session, question_data(slug=slug, rule=rule, **window(-30, 300)))
    questions.create_question(session, question_data(
        slug=f"{slug}-either", rule={"type": "any_of", "questions": [slug]}, **window(-30, 300)))
    observations.record(session, "us-mx-rate", 0.3 if crossed else 0.1,
                        timeutil.now() - timedelta(days=2), source="https://example.org/r",
                        new_series=True)
    session.commit()


def _current(database, slug):
    from forecasts.models import Question, Resolution

    with database.session() as s:
        return s.execute(select(Resolution.outcome, Resolution.source, Resolution.actor)
                         .join(Question, Question.id == Resolution.question_id)
                         .where(Question.slug == slug, Resolution.superseded_at.is_(None))
                         ).one_or_none()


def test_a_forecast_on_a_question_its_rule_can_decide_is_refused_and_settles_it(
        api, world, database, session):
    from forecasts.models import QuestionScore

    _due_question(session, crossed=True)
    before = count(database)
    path = "/api/v1/questions/tariff-due/forecasts"
    response = api.post(path, token=world.tokens["alice"], json={"probability": 0.4})
    assert response.status_code == 409
    error = response.body["error"]
    assert error["code"] == "conflict" and error["where"] == "question"
    assert "just resolved YES by its rule" in error["message"]
    assert "us-mx-rate = 0.3" in error["message"] and ">= 0.25" in error["message"]
    assert count(database) == before
    # The settlement was committed although the forecast was refused, cascade included.
    assert tuple(_current(database, "tariff-due")) == ("yes", "rule", "rule")
    assert tuple(_current(database, "tariff-due-either")) == ("yes", "rule", "rule")
    assert read(database, select(func.count()).select_from(QuestionScore)) >= 1
    again = api.post(path, token=world.tokens["bob"], json={"probability": 0.4})
    assert again.status_code == 409 and "is resolved" in again.body["error"]["message"]
    assert api.get("/api/v1/questions/tariff-due").body["status"] == "resolved"


def test_a_forecast_is_taken_while_the_rule_cannot_decide(api, world, database, session):
    _due_question(session, crossed=False)
    response = api.post("/api/v1/questions/tariff-due/forecasts", token=world.tokens["alice"],
                        json={"probability": 0.4})
    assert response.status_code == 201
    assert _current(database, "tariff-due") is None


def test_bad_input_on_a_due_question_settles_nothing(api, world, database, session):
    _due_question(session, crossed=True)
    response = api.post("/api/v1/questions/tariff-due/forecasts", token=world.tokens["alice"],
                        json={"probability": 1.5})
    assert response.status_code == 422
    assert _current(database, "tariff-due") is None


@pytest.mark.parametrize("state", ["draft", "rejected"])
def test_unpublished_questions_take_no_forecasts(api, world, database, session, state):
    from forecasts.models import Question

    row = session.scalars(select(Question).where(Question.slug == "strike-open")).one()
    row.review_state = state
    session.commit()
    before = count(database)
    response = api.post(OPEN, token=world.tokens["alice"], json={"probability": 0.3})
    assert response.status_code in (404, 409)
    assert count(database) == before


@pytest.mark.parametrize("body", [{"probability": 2.0}, {"probabilities": [0.5, 0.5]}])
def test_a_refused_forecast_does_not_queue_for_the_write_lock(api, world, database, body):
    """Who asks, which question and whether the input is valid are checked before the
    write transaction: while another connection holds SQLite's write lock, a bad forecast
    is refused at once instead of waiting for it."""
    if not database.is_sqlite:
        pytest.skip("SQLite's single write lock")
    before = count(database)
    with database.session(write=True) as other:
        other.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock
        try:
            response = api.post(OPEN, token=world.tokens["alice"], json=body)
        finally:
            other.rollback()
    assert response.status_code == 422
    assert count(database) == before


def test_a_window_edited_after_the_question_was_read_is_the_one_checked(session, world):
    """record_forecast reads the question's window again under its lock: a question
    loaded before its close was moved into the past takes no forecast."""
    from sqlalchemy import update

    from forecasts import timeutil
    from forecasts.errors import Conflict
    from forecasts.models import Question, User
    from forecasts.services import forecasts

    question = session.scalars(select(Question).where(Question.slug == "strike-open")).one()
    alice = session.scalars(select(User).where(User.username == "alice")).one()
    checked = forecasts.check_forecast(question, probability=0.4)
    session.execute(update(Question).where(Question.id == question.id)
                    .values(close_at=timeutil.now() - timedelta(hours=1)),
                    execution_options={"synchronize_session": False})
    assert question.close_at > timeutil.now()  # the loaded object still has the old window
    with pytest.raises(Conflict, match="not before the question closes"):
        forecasts.record_forecast(session, question, alice, checked)
    session.rollback()
