"""The question list, the question page and the forecast form."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forecasts.models import Forecast
from forecasts.services import questions
from forecasts.services.forecasts import submit_forecast
from tests.builders import SHOW_CROWD, question_data
from tests.web.conftest import around_now


def n_forecasts(database) -> int:
    # A read session of its own: the arranging `session` would hold SQLite's write lock.
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Forecast))


def forecasts_on(database, question_id: int) -> list[Forecast]:
    with database.session() as s:
        return list(s.scalars(select(Forecast).where(Forecast.question_id == question_id)
                              .order_by(Forecast.id)))


def slugs(page) -> list[str]:
    return re.findall(r'href="/questions/([a-z0-9-]+)"', page.text)


def test_list_shows_crowd_and_forecasters(web, world):
    page = web.get("/")
    assert page.status_code == 200
    # Forecastable first (closing soonest), then closed, then settled: test_question_list.py.
    assert slugs(page) == ["strike-open", "partner-open", "strike-closed", "strike-resolved"]
    card = page.text[page.text.index("/questions/strike-open"):]
    assert "25%" in card[:2000] and "1 forecaster" in card[:2000]
    assert "no forecasts yet" in page.text  # the multiple-choice question


@pytest.mark.parametrize("query, expected", [
    ("status=open", ["strike-open", "partner-open"]),
    ("status=resolved", ["strike-resolved"]),
    ("status=closed", ["strike-closed"]),
    ("tag=trade", ["strike-closed"]),
    ("q=closed+QUESTION", ["strike-closed"]),
    ("q=partner", ["partner-open"]),
    ("sort=forecasters&status=open", ["strike-open", "partner-open"]),
    ("q=%25", []),
])
def test_list_filters(web, world, query, expected):
    page = web.get(f"/?{query}")
    assert page.status_code == 200
    assert slugs(page) == expected


def test_list_sorts(web, world):
    newest = slugs(web.get("/?sort=newest"))
    assert newest.index("strike-open") < newest.index("strike-closed") < newest.index("strike-resolved")
    most = slugs(web.get("/?sort=forecasters"))
    assert most[0] == "strike-resolved"


def test_list_rejects_unknown_filters_in_words(web, world):
    page = web.get("/?status=sideways")
    assert page.status_code == 400 and "is not a status" in page.text
    page = web.get("/?sort=random")
    assert page.status_code == 400 and "is not a sort order" in page.text


def test_question_page_shows_everything_before_resolution(web, world):
    page = web.get("/questions/strike-open")
    assert page.status_code == 200
    text = page.text
    for needed in ("Will a strike happen before 2027?", "Resolves yes if it happens.",
                   "How it resolves", "Opens", "Closes", "25.0%", "Bob&#x27;s reasoning",
                   "/questions/strike-open/crowd.svg", "Crowd forecast as a table",
                   "Log in to forecast"):
        assert needed in text, needed
    assert "Outcome:" not in text


def test_unknown_question_is_a_404_page(web):
    page = web.get("/questions/no-such-question")
    assert page.status_code == 404 and "no question with slug" in page.text


def test_binary_forecast_is_saved_and_listed(web, world, database):
    web.login("alice")
    form = web.get("/questions/strike-open")
    assert 'name="probability"' in form.text and 'step="0.1"' in form.text
    response = web.post("/questions/strike-open", {"probability": "37.5", "rationale": "Base rates."},
                        form_page="/questions/strike-open")
    assert response.status_code == 303
    assert response.headers["Location"] == "/questions/strike-open#your-forecasts"
    mine = forecasts_on(database, world["binary"].id)[-1]
    assert mine.user_id == world["users"]["alice"].id
    assert mine.probability == 0.375 and mine.rationale == "Base rates."
    page = web.get("/questions/strike-open")
    history = page.text[page.text.index('id="your-forecasts"'):]
    assert "37.5% yes" in history and "Base rates." in history
    assert 'value="37.5"' in page.text  # the form starts from your latest forecast
    assert "Your forecast is saved." in page.text


def test_multiple_choice_forecast_is_saved_and_listed(web, world, database):
    web.login("alice")
    page = web.get("/questions/partner-open")
    assert page.text.count('step="0.1"') == 4 and 'id="total"' in page.text
    data = {"option-0": "10", "option-1": "20.5", "option-2": "33.3", "option-3": "36.2"}
    response = web.post("/questions/partner-open", data, form_page="/questions/partner-open")
    assert response.status_code == 303
    [forecast] = forecasts_on(database, world["mc"].id)
    assert forecast.probabilities == pytest.approx([0.1, 0.205, 0.333, 0.362])
    page = web.get("/questions/partner-open")
    assert "Canada 10.0% · EU member 20.5%" in page.text
    # The form starts from that forecast, but only the script shows a total.
    assert 'id="total-line" hidden' in page.text and "></output>" in page.text


@pytest.mark.parametrize("value, message", [
    ("0", "outside 0.1% to 99.9%"), ("100", "outside 0.1% to 99.9%"), ("99.95", "outside"),
    ("12.34", "steps of 0.1"), ("abc", "is not a number"), ("", "enter a percentage"),
    ("NaN", "finite"), ("1e400", "outside"),
])
def test_binary_bounds_errors_are_inline(web, world, database, value, message):
    web.login("alice")
    before = n_forecasts(database)
    response = web.post("/questions/strike-open", {"probability": value, "rationale": "kept"},
                        form_page="/questions/strike-open")
    assert response.status_code == 422
    assert message in response.text and 'id="probability-error"' in response.text
    assert ">kept</textarea>" in response.text  # what was typed comes back
    assert n_forecasts(database) == before


@pytest.mark.parametrize("values, status, message", [
    (["10", "20", "30", "30"], 422, "add up to 90%"),
    (["10", "20", "30", "50.1"], 422, "add up to 110.1%"),
    (["0", "50", "25", "25"], 422, "outside 0.1% to 99.9%"),
    (["x", "50", "25", "25"], 422, "is not a number"),
    (["25", "25", "25"], 422, "enter a percentage"),
])
def test_multiple_choice_errors_are_inline(web, world, database, values, status, message):
    web.login("alice")
    data = {f"option-{i}": v for i, v in enumerate(values)}
    response = web.post("/questions/partner-open", data, form_page="/questions/partner-open")
    assert response.status_code == status and message in response.text
    assert 'class="field-error"' in response.text
    assert n_forecasts(database) == 1 + 3  # the world's forecasts only


@pytest.mark.parametrize("slug, message", [
    ("strike-closed", "is not before the question closes"),
    ("strike-resolved", "is resolved; it takes no more forecasts"),
])
def test_closed_and_resolved_questions_refuse_forecasts_inline(web, world, database, slug, message):
    web.login("alice")
    before = n_forecasts(database)
    page = web.get(f"/questions/{slug}")
    assert "Forecasting is closed" in page.text and 'name="probability"' not in page.text
    response = web.post(f"/questions/{slug}", {"probability": "50"}, form_page=f"/questions/{slug}")
    assert response.status_code == 409
    assert message in response.text and 'role="alert"' in response.text
    assert n_forecasts(database) == before


def test_forecasting_needs_a_login_and_a_csrf_token(web, world, database):
    before = n_forecasts(database)
    anonymous = web.post("/questions/strike-open", {"probability": "50"})
    assert anonymous.status_code == 302 and "/login?next=" in anonymous.headers["Location"]
    web.login("alice")
    forged = web.client.post("/questions/strike-open", data={"probability": "50"})
    assert forged.status_code == 400 and "did not come from this site" in forged.text
    assert '<link rel="stylesheet"' in forged.text
    assert n_forecasts(database) == before


def test_resolved_question_shows_outcome_and_scores(web, world):
    web.login("alice")
    page = web.get("/questions/strike-resolved")
    text = page.text
    assert "Outcome: <strong" in text and ">Yes</strong>" in text
    for needed in ("Crowd Brier", "Your Brier", "Your peer", 'href="/users/bob"', "alice thinks 0.9",
                   "bob thinks 0.3"):
        assert needed in text, needed
    mine = text[text.index('id="your-forecasts"'):]
    assert "90.0% yes" in mine and "80.0% yes" in mine
    # The discussion carries every rationale, each with the forecast it came with.
    discussion = text[text.index('id="discussion-h"'):]
    assert "alice thinks 0.9" in discussion and "with a forecast of 90.0%" in discussion


def test_question_text_is_escaped_in_pages_and_charts(web, session):
    nasty = '<script>alert(1)</script>" onmouseover="alert(2)'
    questions.create_question(session, question_data(
        slug="nasty", title=nasty, description=nasty, **SHOW_CROWD, **around_now()))
    session.commit()
    for path in ("/", "/questions/nasty", "/questions/nasty/crowd.svg", "/?q=" + nasty):
        body = web.get(path).get_data(as_text=True)
        assert "<script>alert" not in body and '" onmouseover="' not in body, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34; onmouseover=" in body, path


def test_crowd_chart_is_svg_and_reproducible(web, world):
    first = web.get("/questions/strike-resolved/crowd.svg")
    assert first.status_code == 200 and first.mimetype == "image/svg+xml"
    assert first.data == web.get("/questions/strike-resolved/crowd.svg").data
    svg = first.get_data(as_text=True)
    assert svg.startswith("<svg") and "<polyline" in svg and "resolved: yes" in svg
    assert "<script" not in svg and "style=" not in svg
    small = web.get("/questions/partner-open/crowd.svg?size=small").get_data(as_text=True)
    assert 'viewBox="0 0 400' in small and "No forecasts yet" in small
    assert web.get("/questions/nope/crowd.svg").status_code == 404


def _threshold_question(session, value: float) -> None:
    """An open question on a threshold; an observation of `value` two days ago."""
    from datetime import timedelta

    from forecasts import timeutil
    from forecasts.services import observations

    rule = {"type": "threshold", "series": "us-mx-rate", "op": ">=", "value": 0.25, "when": "any"}
    questions.create_question(session, question_data(slug="tariff-due", rule=rule, **around_now()))
    observations.record(session, "us-mx-rate", value, timeutil.now() - timedelta(days=2),
                        new_series=True)
    session.commit()


def test_a_forecast_on_a_decided_question_is_refused_inline_and_settles_it(web, world, database,
                                                                           session):
    from forecasts.models import Question, Resolution

    _threshold_question(session, 0.3)
    web.login("alice")
    before = n_forecasts(database)
    response = web.post("/questions/tariff-due", {"probability": "40"},
                        form_page="/questions/tariff-due")
    assert response.status_code == 409
    assert 'role="alert"' in response.text and "was just resolved YES by its rule" in response.text
    assert "Outcome: <strong" in response.text  # the page already shows the settlement
    assert n_forecasts(database) == before
    with database.session() as s:
        rows = s.execute(select(Resolution.outcome, Resolution.source)
                         .join(Question, Question.id == Resolution.question_id)
                         .where(Question.slug == "tariff-due")).all()
    assert [tuple(r) for r in rows] == [("yes", "rule")]
    page = web.get("/questions/tariff-due")
    assert "Forecasting is closed" in page.text and 'name="probability"' not in page.text


def test_a_forecast_is_saved_while_the_rule_cannot_decide(web, world, database, session):
    _threshold_question(session, 0.1)
    web.login("alice")
    before = n_forecasts(database)
    response = web.post("/questions/tariff-due", {"probability": "40"},
                        form_page="/questions/tariff-due")
    assert response.status_code == 303
    assert n_forecasts(database) == before + 1


def test_rationales_render_markdown_and_stay_inert(web, world, session):
    from forecasts.services.users import find_user

    question = questions.get_question(session, "strike-open")
    submit_forecast(session, question, find_user(session, "bob"), probability=0.4,
                    rationale="**Base rates** <script>alert(1)</script> [x](javascript:alert(2))")
    session.commit()
    body = web.get("/questions/strike-open").get_data(as_text=True)
    assert "<strong>Base rates</strong>" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body
    assert 'href="javascript:' not in body


def test_tag_filter_lists_no_tag_used_only_by_a_draft(web, world, session):
    from forecasts.models import DRAFT

    draft = questions.create_question(session, question_data(
        slug="secret-draft", tags=["private-topic"], **around_now()))
    draft.review_state = DRAFT
    session.commit()
    assert "private-topic" not in web.get("/").get_data(as_text=True)
    draft.review_state = "published"
    session.commit()
    assert "private-topic" in web.get("/").get_data(as_text=True)
