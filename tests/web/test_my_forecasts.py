"""Reaffirming forecasts (one click, on the question page and in My forecasts) and the
My forecasts page: order, age, staleness and the crowd's move, checked against a crowd
computed here independently."""
from __future__ import annotations

import statistics
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forecasts import timeutil
from forecasts.models import Comment, Forecast, Question, User
from forecasts.services import observations, questions
from forecasts.services.forecasts import submit_forecast
from tests.builders import mc_data, question_data
from tests.test_query_budget import counting
from tests.web.conftest import add_user, around_now


def count(database, model) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def latest_of(database, username: str, slug: str) -> Forecast:
    with database.session() as s:
        f = s.scalars(select(Forecast).join(User, User.id == Forecast.user_id)
                      .join(Question, Question.id == Forecast.question_id)
                      .where(User.username == username, Question.slug == slug)
                      .order_by(Forecast.at.desc(), Forecast.id.desc())).first()
        s.expunge(f)
        return f


def test_reaffirm_binary_repeats_probability_and_rationale_without_a_new_comment(
        web, world, database):
    web.login("bob")
    before = latest_of(database, "bob", "strike-open")
    comments, forecasts = count(database, Comment), count(database, Forecast)
    page = web.get("/questions/strike-open")
    assert 'action="/questions/strike-open/reaffirm"' in page.text
    response = web.post("/questions/strike-open/reaffirm", form_page="/questions/strike-open")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/questions/strike-open#your-forecasts")
    after = latest_of(database, "bob", "strike-open")
    assert after.id != before.id and after.at > before.at
    assert (after.probability, after.rationale) == (0.25, "Bob's reasoning")
    assert count(database, Forecast) == forecasts + 1
    assert count(database, Comment) == comments  # the rationale is in the thread already


def test_reaffirm_multiple_choice(web, world, session, database):
    submit_forecast(session, world["mc"], world["users"]["alice"],
                    probabilities=[0.1, 0.2, 0.3, 0.4], rationale="EU most likely")
    session.commit()
    comments = count(database, Comment)
    web.login("alice")
    response = web.post("/questions/partner-open/reaffirm", {"back": "my"},
                        form_page="/my/forecasts")
    assert response.status_code == 303 and response.headers["Location"].endswith("/my/forecasts")
    after = latest_of(database, "alice", "partner-open")
    assert after.probabilities == pytest.approx([0.1, 0.2, 0.3, 0.4], abs=1e-12)
    assert after.rationale == "EU most likely"
    assert count(database, Comment) == comments
    assert "Your forecast is reaffirmed." in web.get("/my/forecasts").text


def test_reaffirm_refused_on_a_closed_question_with_the_forms_message(web, world, database):
    # alice forecast strike-resolved before it closed; strike-closed she never forecast.
    web.login("alice")
    forecasts = count(database, Forecast)
    response = web.post("/questions/strike-resolved/reaffirm",
                        form_page="/questions/strike-resolved")
    assert response.status_code == 409
    assert 'class="alert" role="alert" id="form-error"' in response.text
    assert "is resolved; it takes no more forecasts" in response.text
    response = web.post("/questions/strike-closed/reaffirm", form_page="/questions/strike-closed")
    assert response.status_code == 409 and "nothing to reaffirm" in response.text
    assert count(database, Forecast) == forecasts


def test_reaffirm_of_a_question_its_rule_decides_settles_it(web, session, database):
    now = timeutil.now()
    alice = add_user(session, "alice")
    rule = {"type": "threshold", "series": "rate", "op": ">=", "value": 0.25, "when": "any"}
    due = questions.create_question(session, question_data(slug="due", rule=rule, **around_now()))
    submit_forecast(session, due, alice, probability=0.4, at=now - timedelta(days=3))
    observations.record(session, "rate", 0.3, now - timedelta(days=2), new_series=True)
    session.commit()
    web.login("alice")
    response = web.post("/questions/due/reaffirm", form_page="/questions/due")
    assert response.status_code == 409 and "was just resolved YES by its rule" in response.text
    with database.session() as s:
        assert questions.current_resolution(s, questions.get_question(s, "due")).outcome == "yes"


def test_reaffirm_forms_need_csrf_and_login(web, client, world, database):
    forecasts = count(database, Forecast)
    assert client.post("/questions/strike-open/reaffirm").status_code in (302, 303, 400)
    web.login("bob")
    assert client.post("/questions/strike-open/reaffirm").status_code == 400
    assert client.post("/my/forecasts/reaffirm").status_code == 400
    assert count(database, Forecast) == forecasts
    assert web.get("/my/forecasts?page=0").status_code == 422


@pytest.fixture
def crowded(session):
    """Two open binary questions and an open multiple-choice one, forecast by four users at
    known times; one closed question alice forecast (not listed)."""
    now = timeutil.now()
    users = {name: add_user(session, name, password="correct horse battery" if name == "alice"
                            else None) for name in ("alice", "bob", "carol", "dave")}
    q1 = questions.create_question(session, question_data(slug="q-one", title="Question one",
                                                          **around_now()))
    q2 = questions.create_question(session, question_data(slug="q-two", title="Question two",
                                                          **around_now()))
    mc = questions.create_question(session, mc_data(slug="q-mc", title="Question mc",
                                                    **around_now()))
    closed = questions.create_question(session, question_data(
        slug="q-closed", title="Question closed", open_at=timeutil.iso(now - timedelta(days=60)),
        close_at=timeutil.iso(now - timedelta(days=1))))
    days = lambda d: now - timedelta(days=d)  # noqa: E731
    plan = [(q1, "bob", 0.2, 29), (q1, "carol", 0.6, 28), (q1, "bob", 0.3, 20),
            (q1, "alice", 0.5, 10), (q1, "dave", 0.9, 5), (q1, "carol", 0.7, 2),
            (q2, "alice", 0.1, 25), (q2, "bob", 0.4, 1),
            (closed, "alice", 0.5, 30)]
    for q, name, p, d in plan:
        submit_forecast(session, q, users[name], probability=p, at=days(d))
    mc_plan = [("bob", [0.4, 0.3, 0.2, 0.1], 20), ("alice", [0.1, 0.6, 0.2, 0.1], 3),
               ("carol", [0.2, 0.2, 0.5, 0.1], 1)]
    for name, ps, d in mc_plan:
        submit_forecast(session, mc, users[name], probabilities=ps, at=days(d))
    session.commit()
    return {"now": now, "plan": plan, "mc_plan": mc_plan}


def independent_crowd(plan, question, at, *, vector=False):
    """Median (binary) or mean (multiple choice) of each forecaster's latest forecast at or
    before `at`."""
    latest = {}
    for q, name, p, when in sorted(plan, key=lambda r: r[3]):
        if q == question and when <= at:
            latest[name] = p
    if vector:
        return [statistics.fmean(v[i] for v in latest.values()) for i in range(4)]
    return statistics.median(latest.values())


def test_my_forecasts_lists_open_questions_oldest_first_with_the_crowds_move(
        web, crowded, app):
    from forecasts.services import my_forecasts
    from forecasts.web.question_page import unsettled_histories

    now = crowded["now"]
    plan = [(q.slug, name, p, now - timedelta(days=d)) for q, name, p, d in crowded["plan"]]
    mc = [("q-mc", name, ps, now - timedelta(days=d)) for name, ps, d in crowded["mc_plan"]]
    web.login("alice")
    page = web.get("/my/forecasts")
    assert page.status_code == 200
    text = page.text
    # Oldest first; the closed question is not listed.
    assert text.index('href="/questions/q-two"') < text.index('href="/questions/q-one"') \
        < text.index('href="/questions/q-mc"')
    assert "q-closed" not in text
    assert "25 days ago" in text and "10 days ago" in text and "3 days ago" in text
    with app.test_request_context():
        from forecasts.db import get_session

        session = get_session()
        alice = session.scalar(select(User).where(User.username == "alice"))
        listing = my_forecasts.page(session, alice, now=timeutil.now(),
                                    histories=unsettled_histories, stale_days=20)
    rows = {r.question.slug: r for r in listing.rows}
    assert [r.question.slug for r in listing.rows] == ["q-two", "q-one", "q-mc"]
    assert rows["q-two"].stale and not rows["q-one"].stale
    for slug, mine_at in (("q-one", now - timedelta(days=10)), ("q-two", now - timedelta(days=25))):
        then = independent_crowd(plan, slug, mine_at)
        current = independent_crowd(plan, slug, now)
        assert rows[slug].crowd_then == pytest.approx(then, abs=1e-12)
        assert rows[slug].crowd_now == pytest.approx(current, abs=1e-12)
        assert f"crowd moved from {then:.1%} to {current:.1%}" in text
    # q-one: then bob 0.3, carol 0.6, alice 0.5 -> 50%; now 0.3, 0.7, 0.5, 0.9 -> 60%.
    assert (rows["q-one"].crowd_then, rows["q-one"].crowd_now) == pytest.approx((0.5, 0.6))
    # Multiple choice: my top option (EU member, 60%), the crowd's mean on it.
    row = rows["q-mc"]
    assert (row.option, row.value) == ("EU member", 0.6)
    then = independent_crowd(mc, "q-mc", now - timedelta(days=3), vector=True)[1]
    current = independent_crowd(mc, "q-mc", now, vector=True)[1]
    assert (row.crowd_then, row.crowd_now) == pytest.approx((then, current), abs=1e-9)
    assert f"crowd moved from {then:.1%} to {current:.1%} on EU member" in text


def test_stale_marker_follows_the_setting(web, crowded):
    web.login("alice")
    text = web.get("/my/forecasts").text  # STALE_DAYS 30: none is stale
    assert 'class="badge stale"' not in text


def test_reaffirm_all_reaffirms_every_listed_forecast_and_reports_skips(
        web, crowded, session, database):
    now = timeutil.now()
    alice = session.scalar(select(User).where(User.username == "alice"))
    rule = {"type": "threshold", "series": "rate", "op": ">=", "value": 0.25, "when": "any"}
    due = questions.create_question(session, question_data(slug="due", title="Due question",
                                                           rule=rule, **around_now()))
    submit_forecast(session, due, alice, probability=0.4, rationale="why",
                    at=now - timedelta(days=3))
    observations.record(session, "rate", 0.3, now - timedelta(days=2), new_series=True)
    session.commit()
    forecasts, comments = count(database, Forecast), count(database, Comment)
    web.login("alice")
    assert "Reaffirm all 4" in web.get("/my/forecasts").text
    response = web.post("/my/forecasts/reaffirm", form_page="/my/forecasts")
    assert response.status_code == 303
    text = web.get("/my/forecasts").text
    assert "3 forecasts reaffirmed." in text
    assert "Skipped “Due question”: question &#39;due&#39; was just resolved YES" in text \
        or "Skipped “Due question”: question &#x27;due&#x27; was just resolved YES" in text
    assert count(database, Forecast) == forecasts + 3
    assert count(database, Comment) == comments
    for slug, p in (("q-one", 0.5), ("q-two", 0.1)):
        latest = latest_of(database, "alice", slug)
        assert latest.probability == p and latest.at > now
    assert "0 days ago" not in text and text.count("today") >= 3
    with database.session() as s:
        assert questions.current_resolution(s, questions.get_question(s, "due")).outcome == "yes"


def _grow(session, start: int, n: int) -> None:
    alice = session.scalar(select(User).where(User.username == "alice"))
    others = [add_user(session, f"extra{start}-{i}", password=None) for i in range(3)]
    now = timeutil.now()
    for i in range(start, start + n):
        q = questions.create_question(session, question_data(slug=f"grown-{i}", **around_now()))
        for j, user in enumerate([alice, *others]):
            submit_forecast(session, q, user, probability=0.1 + 0.2 * j,
                            at=now - timedelta(days=20 - j, minutes=i))
    session.commit()


def test_my_forecasts_statements_do_not_grow_with_its_rows(web, app, crowded, session):
    web.login("alice")
    with counting(app) as small_cold:
        assert web.get("/my/forecasts").status_code == 200
    with counting(app) as small_warm:
        web.get("/my/forecasts")
    _grow(session, 0, 12)
    with counting(app) as big_cold:
        assert web.get("/my/forecasts").status_code == 200
    with counting(app) as big_warm:
        web.get("/my/forecasts")
    assert len(big_cold) == len(small_cold) and len(big_warm) == len(small_warm)
    assert len(big_warm) < len(big_cold)  # the cached histories are not read again
