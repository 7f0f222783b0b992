"""A proposal's journey in a real browser: a forecaster proposes a question (live check,
rule in words), an admin approves it, it leads the question list, search finds it by a
plural, the forecaster forecasts on it, and a <script> in its Markdown stays inert.

Same setup as test_browser.py: Debian's Chromium through Playwright, never downloaded.
"""
from __future__ import annotations

import re
from datetime import timedelta

from forecasts import timeutil
from tests.web.conftest import PASSWORD
from tests.web.test_browser import browser, desktop, live_server  # noqa: F401 (fixtures)

TITLE = "Will Mexico raise its steel tariff above 30%?"
SLUG = "will-mexico-raise-its-steel-tariff-above-30"
DESCRIPTION = ("Resolves **yes** if the *published* rate exceeds 30%.\n\n"
               "<script>window.__xss = 'script'; alert('xss')</script>\n\n"
               "<img src=x onerror=\"window.__xss = 'img'; alert('img')\">\n\n"
               "[a link](javascript:alert('link'))")


def log_in(page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector(f"summary:has-text('{name}')")


def log_out(page, name: str) -> None:
    page.click(f"summary:has-text('{name}')")
    page.click("text=Log out")
    page.wait_for_selector("text=You are logged out.")


def test_proposal_journey(desktop, live_server, world):  # noqa: F811
    page, shots = desktop
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    close = (timeutil.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")

    log_in(page, live_server, "alice")
    page.click("header.site nav >> text=Propose")
    page.fill("#title", TITLE)
    page.fill("#description", DESCRIPTION)
    page.fill("#tags", "trade")
    # A field not filled in yet is named in the preview, not marked as an error.
    page.wait_for_selector("#rule-text:has-text('complete the form: Closes is required')")
    page.fill("#close_at", close)
    # The threshold fields appear only for a threshold rule (JavaScript).
    assert not page.is_visible("#series")
    page.select_option("#rule_type", "threshold")
    assert page.is_visible("#series")
    page.fill("#series", "mx-steel-tariff")
    page.fill("#value", "lots")
    page.wait_for_selector("#value-error:has-text('not a number')")  # the live check
    page.fill("#value", "0.3")
    page.select_option("#op", ">")
    page.wait_for_selector("#rule-text:has-text('Resolves YES as soon as the series "
                           "mx-steel-tariff goes above 0.3')")
    assert page.query_selector("#value-error") is None
    assert SLUG in page.inner_text("#slug-hint")
    shots.take(page, "propose")
    page.click("button[value=save]")
    page.wait_for_selector("text=your proposal waits for an admin")
    assert "waiting for review" in page.inner_text("main").lower()
    log_out(page, "alice")

    log_in(page, live_server, "root")
    page.click("header.site nav a.review-link")
    page.click(f"text={TITLE}")
    shots.take(page, "review")
    assert "<strong>yes</strong>" in page.inner_html(".prose")
    page.click("text=Approve and publish")
    page.wait_for_selector(f"text={SLUG} is published.")
    log_out(page, "root")

    log_in(page, live_server, "alice")
    page.goto(live_server + "/")
    first = page.eval_on_selector("ul.question-list .question-card h2 a", "a => a.getAttribute('href')")
    assert first == f"/questions/{SLUG}", "the proposal, closing soonest, should lead the list"
    page.fill("#q", "tariffs")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"q=tariffs"))
    shots.take(page, "search")
    hrefs = page.eval_on_selector_all("ul.question-list .question-card h2 a",
                                      "as => as.map(a => a.getAttribute('href'))")
    assert f"/questions/{SLUG}" in hrefs
    page.click(f"text={TITLE}")
    page.fill("#probability", "35")
    page.click("form.forecast-form button[type=submit]")
    page.wait_for_selector("text=Your forecast is saved.")
    assert "35.0% yes" in page.inner_text("#your-forecasts")
    shots.take(page, "forecast")

    # The description rendered as Markdown, its script, handler and link inert.
    prose = page.inner_html(".prose")
    assert "<strong>yes</strong>" in prose and "&lt;script&gt;" in prose
    assert page.eval_on_selector_all(".prose script, .prose img, .prose [onerror]", "els => els.length") == 0
    assert page.eval_on_selector_all(".prose a[href^='javascript']", "els => els.length") == 0
    assert page.evaluate("() => window.__xss === undefined")
    assert dialogs == []
    assert page.problems == [], page.problems
