"""The question list page: default order, drafts hidden, search, the viewer's own
filters and forecasts, pages of 25 with links that keep the filters, and a number of
SQL statements that does not grow with the rows."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import event

from forecasts import timeutil
from forecasts.models import DRAFT, REJECTED
from forecasts.services import questions, resolution
from forecasts.services.forecasts import submit_forecast
from forecasts.services.question_list import DEFAULT_STALE_DAYS as STALE_DAYS, PAGE_SIZE
from tests.builders import SHOW_CROWD, mc_data, question_data
from tests.web.conftest import add_user


def slugs(page) -> list[str]:
    return re.findall(r'<h2><a href="/questions/([a-z0-9-]+)"', page.text)


def days(n: float) -> str:
    return timeutil.iso(timeutil.now() + timedelta(days=n))


def make(session, slug: str, open_days: float, close_days: float, **changes):
    return questions.create_question(session, question_data(
        slug=slug, open_at=days(open_days), close_at=days(close_days), **changes))


def test_default_order_puts_what_you_can_forecast_first(web, session):
    now = timeutil.now()
    make(session, "open-late", -5, 300)
    make(session, "open-soon", -5, 3)
    make(session, "upcoming-far", 40, 300)
    make(session, "upcoming-near", 2, 300)
    make(session, "closed-long-ago", -90, -30)
    make(session, "closed-yesterday", -90, -1)
    old = make(session, "settled-first", -90, -20)
    new = make(session, "settled-last", -90, -50)
    annulled = make(session, "annulled-between", -90, -60)
    resolution.resolve(session, old, "yes", actor="root", now=now - timedelta(days=10))
    resolution.resolve(session, new, "no", actor="root", now=now - timedelta(days=1))
    resolution.annul(session, annulled, "premise failed", actor="root",
                     now=now - timedelta(days=5))
    for slug, state in (("draft-one", DRAFT), ("rejected-one", REJECTED)):
        make(session, slug, -5, 1).review_state = state
    session.commit()
    page = web.get("/")
    assert page.status_code == 200
    assert slugs(page) == ["open-soon", "open-late", "upcoming-near", "upcoming-far",
                           "closed-yesterday", "closed-long-ago", "settled-last",
                           "annulled-between", "settled-first"]
    assert "9 questions" in page.text
    # Drafts stay out of every view of the list, whatever the filter.
    for query in ("status=open", "q=question", "sort=newest", "sort=closing"):
        assert not {"draft-one", "rejected-one"} & set(slugs(web.get(f"/?{query}")))


def test_search_finds_plurals_and_ranks_title_matches_first(web, session):
    make(session, "in-description", -5, 30, title="Port congestion",
         description="A new tariff could add to it.")
    make(session, "in-title", -5, 300, title="A tariff on Mexican steel?")
    make(session, "other", -5, 10, title="Will the strike end?")
    session.commit()
    page = web.get("/?q=tariffs")
    assert slugs(page) == ["in-title", "in-description"]  # relevance, not closing date
    assert "Best match" in page.text
    assert slugs(web.get("/?q=tariffs&sort=closing")) == ["in-description", "in-title"]
    assert slugs(web.get("/?q=Mexican+tariffs")) == ["in-title"]
    assert slugs(web.get("/?q=tariff+canada")) == []
    assert web.get('/?q="(NEAR*').status_code == 200


@pytest.fixture
def forecasts_of_alice(session):
    """alice forecast `stale` long ago, `fresh` long ago and again lately, `closed`
    long ago (closed since); nobody forecast `untouched`."""
    now = timeutil.now()
    alice, bob = add_user(session, "alice"), add_user(session, "bob")
    stale = make(session, "stale", -100, 100)
    fresh = make(session, "fresh", -100, 200)
    closed = make(session, "closed", -100, -1)
    untouched = make(session, "untouched", -100, 300, **SHOW_CROWD)
    mc = questions.create_question(session, mc_data(slug="choice", open_at=days(-100),
                                                    close_at=days(400)))
    back = timedelta(days=STALE_DAYS + 5)
    submit_forecast(session, stale, alice, probability=0.1, at=now - back)
    submit_forecast(session, fresh, alice, probability=0.2, at=now - back)
    submit_forecast(session, fresh, alice, probability=0.63, at=now - timedelta(days=2))
    submit_forecast(session, closed, alice, probability=0.3, at=now - back)
    submit_forecast(session, untouched, bob, probability=0.9, at=now - timedelta(days=1))
    submit_forecast(session, mc, alice, probabilities=[0.1, 0.2, 0.3, 0.4],
                    at=now - timedelta(days=3))
    session.commit()


@pytest.mark.parametrize("show, expected", [
    ("", ["stale", "fresh", "untouched", "choice", "closed"]),
    ("mine", ["stale", "fresh", "choice", "closed"]),
    ("unforecast", ["untouched"]),
    ("stale", ["stale"]),
])
def test_filters_by_my_own_forecasts(web, forecasts_of_alice, show, expected):
    web.login("alice")
    page = web.get(f"/?show={show}")
    assert page.status_code == 200
    assert slugs(page) == expected


def test_the_stale_filter_follows_the_stale_days_setting(web, app, forecasts_of_alice):
    web.login("alice")
    app.config["STALE_DAYS"] = STALE_DAYS + 10  # alice's oldest forecasts are STALE_DAYS + 5
    page = web.get("/?show=stale")
    assert slugs(page) == []
    assert f"My forecasts over {STALE_DAYS + 10} days old" in page.text
    app.config["STALE_DAYS"] = STALE_DAYS
    assert slugs(web.get("/?show=stale")) == ["stale"]


def test_each_row_shows_my_latest_forecast_beside_the_crowd(web, forecasts_of_alice):
    web.login("alice")
    page = web.get("/")
    cards = dict(zip(slugs(page), page.text.split('<li class="question-card')[1:]))
    assert "63%" in cards["fresh"] and "20%" not in cards["fresh"]  # the latest one
    assert "you ·" in cards["fresh"] and "crowd · 1 forecaster" in cards["fresh"]
    assert "not forecast by you" in cards["untouched"] and "90%" in cards["untouched"]
    assert "None</span> · you" in cards["choice"] and "40%" in cards["choice"]
    web.login("bob")
    cards = dict(zip(slugs(page := web.get("/")), page.text.split('<li class="question-card')[1:]))
    assert "not forecast by you" in cards["fresh"]


def test_own_filters_need_a_login(web, forecasts_of_alice):
    page = web.get("/?show=mine")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert 'id="show"' not in web.get("/").text  # the filter is offered to users only
    web.login("alice")
    page = web.get("/?show=everything")
    assert page.status_code == 400 and "is not one of mine, unforecast, stale" in page.text


@pytest.fixture
def many(session):
    """32 open questions closing one day apart, tagged `even` or `odd`; the titles of
    the first 30 say "alpha"."""
    for i in range(32):
        make(session, f"q-{i:02d}", -5, i + 1, tags=["even" if i % 2 == 0 else "odd"],
             title=f"{'Alpha' if i < 30 else 'Omega'} question number {i}")
    session.commit()


def test_pages_of_25_with_links_that_keep_the_filters(web, many):
    first = web.get("/")
    assert slugs(first) == [f"q-{i:02d}" for i in range(PAGE_SIZE)]
    assert "32 questions · page 1 of 2" in first.text
    assert 'rel="next" href="/?page=2"' in first.text and 'rel="prev"' not in first.text
    second = web.get("/?page=2")
    assert slugs(second) == [f"q-{i:02d}" for i in range(PAGE_SIZE, 32)]
    assert 'rel="prev" href="/?page=1"' in second.text and 'rel="next"' not in second.text
    filtered = web.get("/?q=alpha&sort=closing&tag=even")
    assert len(slugs(filtered)) == 15 and "page 1 of" not in filtered.text
    filtered = web.get("/?q=alpha&sort=newest")
    links = [html.unescape(link) for link in re.findall(r'rel="next" href="([^"]+)"', filtered.text)]
    assert links == ["/?q=alpha&sort=newest&page=2"]
    assert slugs(web.get(links[0])) == [f"q-{i:02d}" for i in range(4, -1, -1)]
    # Every question once across the pages: the order is total.
    seen = slugs(web.get("/?sort=forecasters")) + slugs(web.get("/?sort=forecasters&page=2"))
    assert sorted(seen) == [f"q-{i:02d}" for i in range(32)]


@pytest.mark.parametrize("page, status, text", [
    ("3", 200, "No questions on this page"),
    ("0", 400, "is not a page number"),
    ("-1", 400, "is not a page number"),
    ("two", 400, "is not a page number"),
    ("9" * 30, 400, "is not a page number"),
])
def test_page_numbers_past_the_end_or_malformed(web, many, page, status, text):
    response = web.get(f"/?page={page}")
    assert response.status_code == status and text in response.text
    assert "Traceback" not in response.text


def _statements(app, web, path: str) -> int:
    engine = app.extensions["forecasts_db"].engine
    count = []

    def listen(*args):
        count.append(1)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        assert web.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return len(count)


@pytest.mark.parametrize("path", ["/", "/?q=strikes", "/?show=mine"])
def test_statements_do_not_grow_with_the_rows(app, web, session, path):
    alice = add_user(session, "alice")
    session.commit()
    web.login("alice")
    counts = []
    for n in (5, 30):
        for i in range(len(counts) * 5, n):
            q = make(session, f"n-{i:02d}", -5, i + 1, tags=[f"t{i}", "all"])
            submit_forecast(session, q, alice, probability=0.5)
        session.commit()
        counts.append(_statements(app, web, path))
    assert counts[0] == counts[1]
