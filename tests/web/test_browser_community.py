"""Issue #12's acceptance in a real browser: the hidden crowd, a reply, one reply mail at
a real SMTP server, and its one-click unsubscribe.

Two forecasters: ana sees neither the crowd nor ben's rationale on a new question until
she forecasts, then sees both; ben replies to ana's comment; one scheduler pass later ana
has exactly one reply mail; she follows its unsubscribe link (logged out), confirms, and
ben's next reply mails her nothing.
"""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from forecasts import timeutil
from forecasts.services import questions, scheduler
from forecasts.services.forecasts import submit_forecast
from tests.builders import question_data
from tests.mailserver import mail_env
from tests.web.conftest import add_user, around_now
from tests.web.test_browser import browser, live_server  # noqa: F401 (fixtures)
from tests.web.test_browser_proposals import log_in

SECRET = "Ben's reasoning: the border talks stalled"


@pytest.fixture
def env(env, smtp_server):
    return mail_env(env, smtp_server)


@pytest.fixture
def community(session):
    now = timeutil.now()
    users = {}
    for name in ("ana", "ben"):
        user = add_user(session, name)
        user.email, user.email_verified_at = f"{name}@example.org", now
        users[name] = user
    question = questions.create_question(session, question_data(slug="tariff-new", **around_now()))
    assert question.hide_crowd_until_forecast  # the default for new questions
    submit_forecast(session, question, users["ben"], probability=0.8, rationale=SECRET,
                    at=now - timedelta(days=1))
    session.commit()
    return users


def _reply(page, url: str, comment_id: str, text: str) -> None:
    page.goto(url)
    target = page.locator(f"#{comment_id}")
    target.locator("summary", has_text="Reply").click()
    target.locator("textarea[name=body]").fill(text)
    target.locator("button", has_text="Post reply").click()
    page.locator("article.comment", has_text=text).wait_for()


def _pass(app, database) -> None:
    result = scheduler.run_once(database, settings=app.config)
    assert result.failed == [], result.errors()


def _replies_to(server, address: str):
    return [m for m in server.messages if m["To"] == address and "repl" in m["Subject"].lower()]


def test_hidden_crowd_reply_mail_and_unsubscribe(browser, live_server, community, app,  # noqa: F811
                                                 database, smtp_server):
    ana_context, ben_context, anon_context = (browser.new_context() for _ in range(3))
    try:
        ana, ben, anon = (c.new_page() for c in (ana_context, ben_context, anon_context))
        for page in (ana, ben, anon):
            page.set_default_timeout(10_000)
        url = live_server + "/questions/tariff-new"

        log_in(ana, live_server, "ana")
        ana.goto(url)
        html = ana.content()
        assert ana.is_visible("#crowd-hidden")
        assert SECRET.split(":")[0] not in html and "80%" not in html and "80.0%" not in html
        assert "crowd.svg" not in html

        ana.fill("#probability", "30")
        ana.fill("#rationale", "Tariffs need Congress.")
        ana.click("form.forecast-form button[type=submit]")
        ana.wait_for_selector("text=Your forecast is saved.")
        assert not ana.is_visible("#crowd-hidden")
        assert SECRET.split(":")[0] in ana.content()
        assert ana.locator(".crowd-now").count() == 1

        ana.fill("#comment-body", "Watch the **USMCA** review.")
        ana.click("form.comment-form button[type=submit]")
        comment = ana.locator("article.comment", has_text="Watch the USMCA review.")
        comment.wait_for()
        comment_id = comment.get_attribute("id")

        log_in(ben, live_server, "ben")
        _reply(ben, url, comment_id, "The review is in July.")

        _pass(app, database)
        smtp_server.wait_for(1)
        _pass(app, database)  # a second pass sends nothing again
        mails = _replies_to(smtp_server, "ana@example.org")
        assert len(mails) == 1, [m["Subject"] for m in smtp_server.messages]
        mail = mails[0]
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = re.fullmatch(r"<(.+)>", mail["List-Unsubscribe"].strip()).group(1)
        text = mail.get_body(("plain",)).get_content()
        assert link in text and "The review is in July." in text
        assert not _replies_to(smtp_server, "ben@example.org")

        anon.goto(live_server + urlsplit(link).path)  # logged out
        anon.click("button:has-text('Unsubscribe')")
        anon.wait_for_selector("text=gets no more mail")

        _reply(ben, url, comment_id, "And again in October.")
        _pass(app, database)
        assert len(_replies_to(smtp_server, "ana@example.org")) == 1
        # ...while the app still tells her, in the notification list.
        ana.goto(live_server + "/notifications")
        assert ana.locator("text=ben").count() >= 2
    finally:
        for context in (ana_context, ben_context, anon_context):
            context.close()
