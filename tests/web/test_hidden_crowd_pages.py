"""The hidden crowd on the site: the question page, its chart and the list send no crowd
figure to a viewer who has not forecast an open question that hides it; the forms set it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from forecasts import timeutil
from forecasts.models import Question
from forecasts.services import questions
from forecasts.services.forecasts import submit_forecast
from tests.builders import SHOW_CROWD, question_data
from tests.test_query_budget import counting
from tests.web.conftest import Web, add_user, around_now

HIDDEN_TEXT = "Hidden until you forecast; shown to everyone once the question closes."


@pytest.fixture
def crowd_world(session):
    """bob forecast `veiled` (new: hides its crowd) 37% and `open-book` (shows it) 61%;
    alice forecast nothing; carol always hides the crowd; `was-veiled` has closed."""
    now = timeutil.now()
    users = {name: add_user(session, name) for name in ("alice", "bob", "carol")}
    users["carol"].hide_crowd = True
    veiled = questions.create_question(session, question_data(slug="veiled", **around_now()))
    book = questions.create_question(session, question_data(slug="open-book", title="Shown?",
                                                            **SHOW_CROWD, **around_now()))
    closed = questions.create_question(session, question_data(
        slug="was-veiled", open_at=timeutil.iso(now - timedelta(days=30)),
        close_at=timeutil.iso(now - timedelta(days=1))))
    submit_forecast(session, veiled, users["bob"], probability=0.37, at=now - timedelta(days=2))
    submit_forecast(session, book, users["bob"], probability=0.61, at=now - timedelta(days=2))
    submit_forecast(session, closed, users["bob"], probability=0.23, at=now - timedelta(days=3))
    session.commit()


def assert_hidden(web, slug: str, percent: str) -> None:
    page = web.get(f"/questions/{slug}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and HIDDEN_TEXT in body
    assert percent not in body and "crowd.svg" not in body and "Crowd forecast as a table" not in body
    for size in ("", "?size=small"):
        chart = web.get(f"/questions/{slug}/crowd.svg{size}")
        assert chart.status_code == 404 and b"<polyline" not in chart.data
        assert chart.mimetype != "image/svg+xml"


def assert_shown(web, slug: str, percent: str) -> None:
    body = web.get(f"/questions/{slug}").get_data(as_text=True)
    assert HIDDEN_TEXT not in body and percent in body and "crowd.svg" in body
    chart = web.get(f"/questions/{slug}/crowd.svg")
    assert chart.status_code == 200 and b"<polyline" in chart.data


def test_withheld_from_who_has_not_forecast_until_they_do(app, web, crowd_world):
    # bob's view comes first and fills the caches; they must not reach the others.
    web.login("bob")
    assert_shown(web, "veiled", "37.0%")
    anonymous, alice = Web(app.test_client()), Web(app.test_client())
    assert_hidden(anonymous, "veiled", "37.0%")
    alice.login("alice")
    assert_hidden(alice, "veiled", "37.0%")
    assert "This question keeps its crowd" in alice.get("/questions/veiled").get_data(as_text=True)
    saved = alice.post("/questions/veiled", {"probability": "41"}, form_page="/questions/veiled")
    assert saved.status_code == 303
    shown = alice.get(saved.headers["Location"]).get_data(as_text=True)
    assert HIDDEN_TEXT not in shown and "39.0%" in shown  # the median of 37% and 41%
    assert_shown(alice, "veiled", "39.0%")
    assert_hidden(anonymous, "veiled", "39.0%")


def test_everyone_sees_it_once_closed(web, crowd_world):
    assert_shown(web, "was-veiled", "23.0%")


def test_the_users_own_switch_hides_it_for_them_only(web, crowd_world):
    assert_shown(web, "open-book", "61.0%")
    web.login("carol")
    assert_hidden(web, "open-book", "61.0%")
    assert "Your own setting hides the crowd" in web.get("/questions/open-book").get_data(as_text=True)


def test_the_list_says_hidden_without_the_figure(web, crowd_world):
    def card(slug: str) -> str:
        body = web.get("/").get_data(as_text=True)
        return body[body.index(f'href="/questions/{slug}"'):].split('<li class="question-card')[0]

    assert "hidden" in card("veiled") and "37%" not in card("veiled")
    assert "61%" in card("open-book") and "23%" in card("was-veiled")
    web.login("bob")
    assert "37%" in card("veiled")
    web.login("carol")
    assert "61%" not in card("open-book") and "hidden" in card("open-book")


def test_the_list_runs_no_more_statements_when_rows_are_hidden(app, web, session):
    add_user(session, "alice")
    for i in range(6):
        questions.create_question(session, question_data(slug=f"q-{i}", **around_now()))
    session.commit()
    web.login("alice")

    def statements() -> int:
        web.get("/")  # warm
        with counting(app) as seen:
            body = web.get("/").get_data(as_text=True)
        return len(seen), body.count('crowd-value muted">hidden')

    hidden = statements()
    session.execute(update(Question).values(hide_crowd_until_forecast=False))
    session.commit()
    shown = statements()
    assert (hidden[1], shown[1]) == (6, 0) and hidden[0] <= shown[0]


# --- the forms ----------------------------------------------------------------------

def stored(database, slug: str) -> Question:
    with database.session() as s:
        return s.scalars(select(Question).where(Question.slug == slug)).first()


def new_question(**changes) -> dict[str, str]:
    now = timeutil.now()
    data = {"title": "Will the form work?", "kind": "binary", "rule_type": "manual",
            "open_at": now.strftime("%Y-%m-%dT%H:%M"),
            "close_at": (now + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"), "action": "save"}
    data.update(changes)
    return data


def test_forms_set_it_checked_by_default(web, session, database):
    add_user(session, "root", role="admin")
    add_user(session, "alice")
    session.commit()
    web.login("root")
    blank = web.get("/propose").get_data(as_text=True)
    assert 'id="hide_crowd_until_forecast" name="hide_crowd_until_forecast" value="1" checked' in blank
    # A browser sends the marker, and the box only when ticked.
    made = web.post("/propose", new_question(slug="unticked", hide_crowd_field="1"),
                    form_page="/propose")
    assert made.status_code == 303 and stored(database, "unticked").hide_crowd_until_forecast is False
    web.post("/propose", new_question(slug="ticked", hide_crowd_field="1",
                                      hide_crowd_until_forecast="1"), form_page="/propose")
    assert stored(database, "ticked").hide_crowd_until_forecast is True
    web.post("/propose", new_question(slug="no-marker"), form_page="/propose")
    assert stored(database, "no-marker").hide_crowd_until_forecast is True
    # A proposal carries it to the review page.
    web.login("alice")
    web.post("/propose", new_question(slug="proposed", hide_crowd_field="1"), form_page="/propose")
    web.login("root")
    review = web.get("/review/proposed").get_data(as_text=True)
    assert '<dd id="crowd-setting">shown to everyone</dd>' in review


def test_edit_changes_it_after_forecasts_and_the_page_lists_the_edit(web, session, database):
    add_user(session, "root", role="admin")
    bob = add_user(session, "bob")
    q = questions.create_question(session, question_data(slug="edited", **around_now()))
    submit_forecast(session, q, bob, probability=0.3)
    session.commit()
    web.login("root")
    edit = web.get("/questions/edited/edit").get_data(as_text=True)
    assert 'name="hide_crowd_until_forecast" value="1" checked' in edit
    saved = web.post("/questions/edited/edit",
                     {"title": q.title, "description": q.description, "tags": "security",
                      "hide_crowd_field": "1"}, form_page="/questions/edited/edit")
    assert saved.status_code == 303
    assert stored(database, "edited").hide_crowd_until_forecast is False
    page = web.get("/questions/edited").get_data(as_text=True)
    assert 'id="edits"' in page and "hide_crowd_until_forecast" in page
