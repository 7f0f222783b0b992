"""Notifications as the scheduler records and mails them, as of a given moment."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from forecasts import config, signing, timeutil
from forecasts.models import Follow, MailMessage, Notification, Resolution, User
from forecasts.services import notifications, resolution
from forecasts.services.forecasts import submit_forecast
from tests.builders import errors_in_threads, make_question, make_user

UTC = timezone.utc
SITE = "https://forecasts.example"
OPEN, CLOSE = "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"
CLOSES = datetime(2025, 6, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def settings() -> dict:
    return config.load({"SECRET_KEY": "test-secret", "SITE_URL": SITE, "STALE_DAYS": 30},
                       environ={})


def user(session, name: str, *, verified: bool = True, **prefs) -> User:
    u = make_user(session, name)
    u.email = f"{name}@example.org"
    u.email_verified_at = at("2024-12-01T00:00:00") if verified else None
    for key, value in prefs.items():
        setattr(u, key, value)
    session.flush()
    return u


def rows(session, **where) -> list[Notification]:
    stmt = (select(Notification).order_by(Notification.id)
            .execution_options(populate_existing=True))
    for key, value in where.items():
        stmt = stmt.where(getattr(Notification, key) == value)
    found = list(session.scalars(stmt))
    session.commit()  # end the read: the scheduler's transactions need the write lock
    return found


def mails(session) -> list[MailMessage]:
    found = list(session.scalars(select(MailMessage).order_by(MailMessage.id)
                                 .execution_options(populate_existing=True)))
    session.commit()
    return found


@pytest.fixture
def closing_world(session):
    """alice forecast (so follows), bob forecast and unfollowed, carol deactivated."""
    q = make_question(session, slug="closing-soon", title="Will it close?", open_at=OPEN,
                      close_at=CLOSE)
    alice, bob, carol = user(session, "alice"), user(session, "bob"), user(session, "carol")
    for u in (alice, bob, carol):
        submit_forecast(session, q, u, probability=0.4, at=at("2025-05-15T00:00:00"))
    session.execute(update(Follow).where(Follow.user_id == bob.id).values(following=False))
    carol.deactivated_at = at("2025-05-02T00:00:00")
    session.commit()
    return q, alice


def test_closing_is_recorded_once_for_active_followers_within_24_hours(
        database, session, settings, closing_world):
    q, alice = closing_world
    early = notifications.run_due(database, now=CLOSES - timedelta(hours=25), settings=settings)
    assert rows(session, kind="closing") == [] and not any("closing" in x for x in early)
    lines = notifications.run_due(database, now=CLOSES - timedelta(hours=23), settings=settings)
    assert "notified closing: closing-soon (1 user)" in lines
    assert "queued 1 mail" in lines
    [n] = rows(session, kind="closing")
    assert (n.user_id, n.key, n.question_id) == (alice.id, f"closing:{q.id}:{alice.id}", q.id)
    assert n.payload == {"question": "closing-soon", "title": "Will it close?",
                         "closes_at": "2025-06-01T00:00:00Z"}
    assert n.mail_state == "queued"
    again = notifications.run_due(database, now=CLOSES - timedelta(hours=1), settings=settings)
    assert not any("closing" in x or "queued" in x for x in again)
    assert len(rows(session, kind="closing")) == 1 and len(mails(session)) == 1
    late = notifications.run_due(database, now=CLOSES, settings=settings)  # closed: nothing
    assert late == []


def test_each_mail_names_the_question_links_absolutely_and_offers_one_click_unsubscribe(
        database, session, settings, closing_world):
    q, alice = closing_world
    notifications.run_due(database, now=CLOSES - timedelta(hours=2), settings=settings)
    [mail] = mails(session)
    assert (mail.to_addr, mail.kind, mail.user_id) == ("alice@example.org", "notification", alice.id)
    assert mail.subject == "Closing within 24 hours: Will it close?"
    header = mail.headers["List-Unsubscribe"]
    assert header.startswith(f"<{SITE}/unsubscribe/") and header.endswith(">")
    token = header[1:-1].rsplit("/", 1)[1]
    assert signing.unsign(settings, "unsubscribe", token) == {"u": alice.id, "k": "closing"}
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for body in (mail.body_text, mail.body_html):
        assert f"{SITE}/questions/closing-soon" in body
        assert f"{SITE}/unsubscribe/{token}" in body
        assert f"{SITE}/settings" in body
    [n] = rows(session, kind="closing")
    assert n.mail_id == mail.id


def resolved_world(session):
    q1 = make_question(session, slug="first-q", title="First", open_at=OPEN, close_at=CLOSE)
    q2 = make_question(session, slug="second-q", title="Second", open_at=OPEN, close_at=CLOSE)
    alice, bob = user(session, "alice"), user(session, "bob")
    for q, pa, pb in ((q1, 0.9, 0.2), (q2, 0.1, 0.8)):
        submit_forecast(session, q, alice, probability=pa, at=at("2025-02-01T00:00:00"))
        submit_forecast(session, q, bob, probability=pb, at=at("2025-02-01T00:00:00"))
    session.commit()
    return q1, q2, alice, bob


def test_resolved_tells_each_scored_user_their_scores_and_rank_once(database, session, settings):
    q1, q2, alice, bob = resolved_world(session)
    res = resolution.resolve(session, q1, "yes", actor="root", now=at("2025-06-02T00:00:00"))
    session.commit()
    now = at("2025-06-02T01:00:00")
    lines = notifications.run_due(database, now=now, settings=settings)
    assert "notified resolved: first-q (2 users)" in lines
    found = {n.user_id: n for n in rows(session, kind="resolved")}
    assert set(found) == {alice.id, bob.id}
    a = found[alice.id]
    assert a.key == f"resolved:{res.id}:{alice.id}"
    assert a.payload["outcome"] == "yes" and a.payload["question"] == "first-q"
    assert a.payload["brier"] == pytest.approx(0.02)  # (1 - 0.9)^2 * 2 over the two options
    assert a.payload["rank"] == 1 and found[bob.id].payload["rank"] == 2
    assert a.payload["rank_change"] is None  # no previous resolved notification
    assert session.get(Resolution, res.id, populate_existing=True).notified_at == now
    session.commit()
    assert not any("resolved" in x for x in
                   notifications.run_due(database, now=now, settings=settings))
    # The second resolution flips the ranks: the change is against the previous one.
    resolution.resolve(session, q2, "yes", actor="root", now=at("2025-06-03T00:00:00"))
    session.commit()
    notifications.run_due(database, now=at("2025-06-03T01:00:00"), settings=settings)
    latest = {n.user_id: n.payload for n in rows(session, kind="resolved", question_id=q2.id)}
    assert latest[alice.id]["rank"] == 2 and latest[alice.id]["rank_change"] == -1
    assert latest[bob.id]["rank"] == 1 and latest[bob.id]["rank_change"] == 1


def test_an_annulment_is_marked_notified_without_notifications(database, session, settings):
    q1, _q2, _alice, _bob = resolved_world(session)
    res = resolution.annul(session, q1, "void", actor="root", now=at("2025-06-02T00:00:00"))
    session.commit()
    notifications.run_due(database, now=at("2025-06-02T01:00:00"), settings=settings)
    assert rows(session, kind="resolved") == []
    assert session.get(Resolution, res.id, populate_existing=True).notified_at is not None


def test_stale_is_the_latest_forecast_as_of_now_older_than_stale_days(database, session, settings):
    q = make_question(session, slug="long-q", title="Long", open_at=OPEN,
                      close_at="2025-12-01T00:00:00Z")
    alice = user(session, "alice")
    first = submit_forecast(session, q, alice, probability=0.3, at=at("2025-02-01T00:00:00"))
    second = submit_forecast(session, q, alice, probability=0.4, at=at("2025-03-10T00:00:00"))
    session.commit()
    assert notifications.run_due(database, now=at("2025-03-02T00:00:00"), settings=settings) == []
    # As of 4 March the March forecast does not exist yet: February's is 31 days old.
    lines = notifications.run_due(database, now=at("2025-03-04T00:00:00"), settings=settings)
    assert "notified stale: long-q (1 user)" in lines
    [n] = rows(session, kind="stale")
    assert n.key == f"stale:{first.id}"
    assert n.payload == {"question": "long-q", "title": "Long",
                         "forecast_at": "2025-02-01T00:00:00Z", "days": 31}
    assert notifications.run_due(database, now=at("2025-03-20T00:00:00"), settings=settings) == []
    notifications.run_due(database, now=at("2025-04-20T00:00:00"), settings=settings)
    assert [n.key for n in rows(session, kind="stale")] == [f"stale:{first.id}",
                                                            f"stale:{second.id}"]
    # Closed questions are not stale.
    assert notifications.run_due(database, now=at("2025-12-02T00:00:00"), settings=settings) == []


def test_preferences_decide_the_mail(database, session, settings, closing_world):
    q, alice = closing_world
    dave = user(session, "dave", verified=False)
    erin = user(session, "erin", notify_closing=False)
    frank = user(session, "frank")
    for u in (dave, erin, frank):
        submit_forecast(session, q, u, probability=0.5, at=at("2025-05-15T00:00:00"))
    session.commit()
    # frank switches closing mail off after it was recorded as pending.
    notifications.notify_closing(session, CLOSES - timedelta(hours=2))
    session.commit()
    assert {n.user_id: n.mail_state for n in rows(session)} == {
        alice.id: "pending", dave.id: "none", erin.id: "none", frank.id: "pending"}
    session.execute(update(User).where(User.id == frank.id).values(notify_closing=False))
    session.commit()
    notifications.run_due(database, now=CLOSES - timedelta(hours=2), settings=settings)
    assert {n.user_id: n.mail_state for n in rows(session)} == {
        alice.id: "queued", dave.id: "none", erin.id: "none", frank.id: "none"}
    assert [m.to_addr for m in mails(session)] == ["alice@example.org"]


def test_a_digest_groups_every_pending_kind_in_one_mail_at_most_once_a_day(
        database, session, settings):
    q = make_question(session, slug="digest-q", title="Digest <b>me</b>", open_at=OPEN,
                      close_at=CLOSE)
    alice = user(session, "alice", mail_digest=True)
    forecast = submit_forecast(session, q, alice, probability=0.4, at=at("2025-04-01T00:00:00"))
    notifications.record(session, alice, "reply", "reply:991", question_id=q.id, payload={
        "question": "digest-q", "title": q.title, "comment_id": 991, "author": "<i>bob</i>",
        "excerpt": "I <script>disagree</script>"})
    session.commit()
    now = CLOSES - timedelta(hours=3)  # closing, and the April forecast is stale
    lines = notifications.run_due(database, now=now, settings=settings)
    assert "queued 1 mail" in lines
    [mail] = mails(session)
    assert mail.kind == "digest"
    assert mail.subject == "Forecasts digest: Digest <b>me</b> and 2 more"
    assert {n.kind for n in rows(session)} == {"closing", "stale", "reply"}
    assert {n.mail_id for n in rows(session)} == {mail.id}
    for heading in ("Closing soon", "Stale forecasts", "Replies"):
        assert heading in mail.body_text and heading in mail.body_html
    assert f"{SITE}/questions/digest-q/comments/991" in mail.body_html
    assert f"stale:{forecast.id}" in {n.key for n in rows(session)}
    token = mail.headers["List-Unsubscribe"][1:-1].rsplit("/", 1)[1]
    assert signing.unsign(settings, "unsubscribe", token) == {"u": alice.id, "k": "all"}
    # Markup in titles, names and excerpts is inert in the HTML mail.
    assert "<b>me</b>" not in mail.body_html and "Digest &lt;b&gt;me&lt;/b&gt;" in mail.body_html
    assert "<i>bob</i>" not in mail.body_html and "<script>" not in mail.body_html
    # Within 24 hours a new notification waits; after them it goes in the next digest.
    notifications.record(session, alice, "reply", "reply:992", question_id=q.id, payload={
        "question": "digest-q", "title": q.title, "comment_id": 992, "author": "bob",
        "excerpt": "again"})
    session.commit()
    notifications.run_due(database, now=now + timedelta(hours=23), settings=settings)
    assert len(mails(session)) == 1
    assert rows(session, key="reply:992")[0].mail_state == "pending"
    notifications.run_due(database, now=now + timedelta(hours=24), settings=settings)
    assert len(mails(session)) == 2 and rows(session, key="reply:992")[0].mail_state == "queued"
    assert session.get(User, alice.id, populate_existing=True).last_digest_at == now + timedelta(hours=24)


def test_two_schedulers_at_once_record_and_mail_each_notification_once(
        database, session, settings, closing_world):
    q, alice = closing_world
    others = [user(session, f"user{i}") for i in range(6)]
    for u in others:
        submit_forecast(session, q, u, probability=0.5, at=at("2025-02-01T00:00:00"))
    session.commit()
    now = CLOSES - timedelta(hours=2)  # closing for 7, stale for 6

    errors = errors_in_threads(
        lambda i: notifications.run_due(database, now=now, settings=settings), 2)
    assert errors == []
    found = rows(session)
    assert len(found) == 7 + 6 and len({n.key for n in found}) == len(found)
    assert all(n.mail_state == "queued" for n in found)
    sent = mails(session)
    assert len(sent) == len(found)
    assert sorted(n.mail_id for n in found) == sorted(m.id for m in sent)


def test_worker_once_evaluates_what_is_due_as_of_now(runner, session, closing_world):
    result = runner("worker", "--once", "--now", "2025-05-30T12:00:00Z")
    assert "notified closing" not in result.output
    result = runner("worker", "--once", "--now", "2025-05-31T12:00:00Z")
    assert "notified closing: closing-soon (1 user)" in result.output, result.output
    assert json.loads(rows(session, kind="closing")[0].payload_json)["question"] == "closing-soon"


def test_record_keeps_one_per_key_and_says_whether_it_was_new(session):
    alice = user(session, "alice")
    payload = {"question": "q", "title": "T", "comment_id": 1, "author": "bob", "excerpt": "hi"}
    assert notifications.record(session, alice, "reply", "reply:1", payload=payload) is True
    assert notifications.record(session, alice, "reply", "reply:1", payload=payload) is False
    session.commit()
    assert [n.mail_state for n in rows(session)] == ["pending"]


def test_mail_reaches_a_real_smtp_server_with_its_headers_and_links(
        database, session, settings, closing_world, smtp_server):
    from forecasts.services import delivery

    q, alice = closing_world
    notifications.run_due(database, now=CLOSES - timedelta(hours=2), settings=settings)
    sent = delivery.deliver(database, now=timeutil.now(),  # the mail job runs on the clock
                            settings={**settings, "SMTP_URL": smtp_server.url})
    assert sent, "the mail job sent nothing"
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "alice@example.org"
    assert message["Subject"] == "Closing within 24 hours: Will it close?"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(f"{SITE}/unsubscribe/")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert unsubscribe in body and f"{SITE}/questions/closing-soon" in body
