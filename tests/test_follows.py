"""Following questions: by hand (web forms with CSRF), automatically on forecasting, and
an unfollow that a later forecast does not undo."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.models import Follow
from forecasts.services import follows, questions
from forecasts.services.forecasts import submit_forecast
from tests.builders import question_data
from tests.web.conftest import Web, add_user, around_now


@pytest.fixture
def web(client) -> Web:
    return Web(client)


@pytest.fixture
def arranged(session):
    alice = add_user(session, "alice")
    open_q = questions.create_question(session, question_data(slug="strike-open", **around_now()))
    closed = questions.create_question(session, question_data(
        slug="strike-closed", title="Closed question", **around_now(
            open_at=timeutil.iso(timeutil.now() - timedelta(days=60)),
            close_at=timeutil.iso(timeutil.now() - timedelta(days=1)))))
    session.commit()
    return {"alice": alice, "open": open_q, "closed": closed}


def following(database, username: str) -> dict[str, bool]:
    """{slug: following} of the user's follow rows, read in a session of its own."""
    from forecasts.models import Question, User

    with database.session() as s:
        rows = s.execute(select(Question.slug, Follow.following)
                         .join(Follow, Follow.question_id == Question.id)
                         .join(User, User.id == Follow.user_id)
                         .where(User.username == username)).all()
    return dict(rows)


def test_forecasting_follows_and_an_unfollow_survives_a_later_forecast(session, arranged):
    alice, question = arranged["alice"], arranged["open"]
    assert not follows.is_following(session, alice, question)
    submit_forecast(session, question, alice, probability=0.3)
    assert follows.is_following(session, alice, question)
    follows.set_following(session, alice, question, False)
    assert not follows.is_following(session, alice, question)
    submit_forecast(session, question, alice, probability=0.4)
    assert not follows.is_following(session, alice, question)
    follows.set_following(session, alice, question, True)
    follows.set_following(session, alice, question, True)  # idempotent
    assert follows.is_following(session, alice, question)
    assert session.scalar(select(Follow.following)) is True
    assert len(list(session.scalars(select(Follow)))) == 1


def test_follow_and_unfollow_on_the_question_page(web, database, arranged):
    web.login("alice")
    page = web.get("/questions/strike-open")
    assert 'action="/questions/strike-open/follow"' in page.text
    response = web.post("/questions/strike-open/follow", form_page="/questions/strike-open")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/questions/strike-open#follow")
    assert following(database, "alice") == {"strike-open": True}
    page = web.get("/questions/strike-open")
    assert 'action="/questions/strike-open/unfollow"' in page.text and "You follow" in page.text
    listed = web.get("/following")
    assert listed.status_code == 200 and "Will a strike happen before 2027?" in listed.text
    # A closed question can be followed too (it may still resolve).
    web.post("/questions/strike-closed/follow", form_page="/questions/strike-closed")
    response = web.post("/questions/strike-open/unfollow", {"back": "following"},
                        form_page="/following")
    assert response.headers["Location"].endswith("/following")
    assert following(database, "alice") == {"strike-open": False, "strike-closed": True}
    listed = web.get("/following")
    assert 'href="/questions/strike-closed"' in listed.text
    assert 'href="/questions/strike-open"' not in listed.text


def test_follow_needs_login_csrf_and_a_published_question(web, client, database, session,
                                                          arranged):
    response = client.post("/questions/strike-open/follow")
    assert response.status_code in (302, 303, 400)  # to the login page (or CSRF first)
    assert following(database, "alice") == {}
    web.login("alice")
    response = client.post("/questions/strike-open/follow")  # no CSRF token
    assert response.status_code == 400
    assert following(database, "alice") == {}
    assert web.post("/questions/no-such-question/follow").status_code == 404
    assert web.get("/following").status_code == 200
    assert web.get("/following?page=x").status_code == 422


def test_anonymous_visitors_see_no_follow_button(web, arranged):
    page = web.get("/questions/strike-open")
    assert "/follow" not in page.text
    assert web.get("/following").status_code in (302, 303)
