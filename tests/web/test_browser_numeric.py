"""Issue #14 point 3's acceptance in a real browser: a numeric forecast by quantiles with
JavaScript disabled, and a date forecast made with the distribution editor; both are
seen on the question page."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from forecasts import cdf as cdf_codec
from forecasts.models import Forecast
from forecasts.services import questions
from tests.web.conftest import add_user
from tests.web.test_browser import browser, live_server  # noqa: F401 (fixtures)
from tests.web.test_browser_proposals import log_in
from tests.web.test_numeric_pages import date_data, numeric_data


@pytest.fixture
def numeric_world(session):
    users = {name: add_user(session, name) for name in ("alice", "bob")}
    q = questions.create_question(session, numeric_data())
    d = questions.create_question(session, date_data())
    session.commit()
    return {"users": users, "numeric": q, "date": d}


def _context(browser, **kwargs):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **kwargs)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and not
            m.text.startswith("Failed to load resource: the server responded with a status of 4")
            else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return context, page, problems


def test_numeric_forecast_by_quantiles_without_javascript(browser, live_server,  # noqa: F811
                                                          numeric_world, session):
    context, page, problems = _context(browser, java_script_enabled=False)
    try:
        log_in(page, live_server, "alice")
        page.goto(live_server + "/questions/gdp")
        assert page.locator(".numeric-editor").count() == 0  # no script, no editor
        page.fill("#q10", "0.5")
        page.fill("#q50", "2.5")
        page.fill("#q90", "6")
        page.fill("#rationale", "Slow but positive.")
        page.click("form.forecast-form button[type=submit]")
        page.wait_for_selector("text=Your forecast is saved.")
        mine = page.inner_text("#your-forecasts")
        assert "median 2." in mine and "Slow but positive." in mine
        assert page.inner_text("#crowd-median").startswith("2.")
        assert page.locator("svg.density-chart .my-density").count() == 1
        session.expire_all()
        [row] = session.scalars(select(Forecast)).all()
        expected = cdf_codec.quantiles_to_cdf({0.1: 0.5, 0.5: 2.5, 0.9: 6.0}, -5, 15, True, False)
        assert np.array_equal(row.cdf_values, cdf_codec.canonical(expected))
        assert problems == []
    finally:
        context.close()


def test_date_forecast_with_the_editor(browser, live_server, numeric_world,  # noqa: F811
                                       session):
    context, page, problems = _context(browser)
    try:
        log_in(page, live_server, "bob")
        page.goto(live_server + "/questions/treaty")
        page.wait_for_selector(".numeric-editor svg .handle")
        handles = page.locator(".numeric-editor .handle")
        assert handles.count() == 5
        # Drag the median handle to the right with the mouse ...
        median = handles.nth(2)
        box = median.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
        dragged = page.input_value("#q50")
        assert dragged and page.input_value("#q10") and page.input_value("#q90")
        # ... then move the 90th percentile with the keyboard.
        before = page.input_value("#q90")
        handles.nth(4).focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        after = page.input_value("#q90")
        assert after > before
        assert page.get_attribute(".editor-cdf", "points")
        # Typing into an input redraws the editor (the handle follows).
        x_before = page.get_attribute(".numeric-editor .handle >> nth=0", "cx")
        page.fill("#q10", "2027-02-01")
        assert page.get_attribute(".numeric-editor .handle >> nth=0", "cx") != x_before
        page.click("form.forecast-form button[type=submit]")
        page.wait_for_selector("text=Your forecast is saved.")
        mine = page.inner_text("#your-forecasts")
        assert "median 20" in mine
        assert page.locator("#crowd-median").count() == 1
        assert page.locator("svg.density-chart .my-density").count() == 1
        # On a phone the page, its charts and the editor fit the width.
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        page.wait_for_selector(".numeric-editor svg .handle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        session.expire_all()
        [row] = session.scalars(select(Forecast)).all()
        assert row.question_id == numeric_world["date"].id
        assert problems == []
    finally:
        context.close()
