"""The notifications page, the bell, the settings page and one-click unsubscribe."""
from __future__ import annotations

from sqlalchemy import select

from forecasts import signing
from forecasts.models import Notification, User
from forecasts.services import notifications
from forecasts.services.notification_mail import unsubscribe_token
from tests.web.conftest import add_user

SECRET = {"SECRET_KEY": "test-secret"}


def fresh_user(session, name: str) -> User:
    found = session.scalars(select(User).where(User.username == name)
                            .execution_options(populate_existing=True)).one()
    session.commit()
    return found


def reply(session, user, n: int, *, title: str = "A question", author: str = "bob"):
    notifications.record(session, user, "reply", f"reply:{n}", payload={
        "question": "a-question", "title": title, "comment_id": n, "author": author,
        "excerpt": f"reply number {n}"})


def test_the_list_shows_notifications_in_words_newest_first_and_marks_them_read(web, session):
    alice = add_user(session, "alice")
    reply(session, alice, 1)
    notifications.record(session, alice, "stale", "stale:9", payload={
        "question": "old-q", "title": "Old question", "forecast_at": "2025-01-01T00:00:00Z",
        "days": 40})
    session.commit()
    assert web.get("/notifications").status_code == 302  # login first
    web.login("alice")
    page = web.get("/notifications").get_data(as_text=True)
    assert page.index("Old question") < page.index("replied to your comment")
    assert 'href="/questions/a-question/comments/1"' in page
    assert 'href="/questions/old-q"' in page and "is 40 days old" in page
    assert page.count('class="card notification') == 2 and page.count(" unread") >= 2
    assert 'class="count-badge">2<' in page
    response = web.post("/notifications/read", form_page="/notifications")
    assert response.status_code == 303
    page = web.get("/notifications").get_data(as_text=True)
    assert " unread\"" not in page and "count-badge" not in page and "Mark all read" not in page


def test_the_list_is_paginated_by_fifty(web, session):
    alice = add_user(session, "alice")
    for n in range(1, 53):
        reply(session, alice, n)
    session.commit()
    web.login("alice")
    first = web.get("/notifications").get_data(as_text=True)
    assert first.count('class="card notification') == 50 and "Page 1 of 2" in first
    assert "reply number 52" in first and "reply number 2<" not in first
    second = web.get("/notifications?page=2").get_data(as_text=True)
    assert second.count('class="card notification') == 2 and "reply number 1<" in second
    assert web.get("/notifications?page=x").status_code == 422


def test_markup_in_titles_and_usernames_is_inert_on_the_list(web, session):
    alice = add_user(session, "alice")
    reply(session, alice, 1, title="<script>alert(1)</script>", author="<img src=x onerror=1>")
    session.commit()
    web.login("alice")
    page = web.get("/notifications").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<img src=x" not in page and "&lt;img src=x" in page


def test_the_bell_is_for_logged_in_users_only(web, session):
    add_user(session, "alice")
    session.commit()
    assert 'class="bell"' not in web.get("/").get_data(as_text=True)
    web.login("alice")
    page = web.get("/").get_data(as_text=True)
    assert 'class="bell"' in page and "count-badge" not in page.split('class="bell"')[1][:300]
    assert 'href="/settings"' in page


def test_settings_show_the_address_and_save_the_choices(web, session):
    alice = add_user(session, "alice")
    alice.email = "alice@example.org"
    session.commit()
    web.login("alice")
    page = web.get("/settings").get_data(as_text=True)
    assert "alice@example.org" in page and "not verified" in page
    assert 'href="/account/email"' in page
    response = web.post("/settings", {"notify_closing": "1", "notify_reply": "1",
                                      "delivery": "digest", "hide_crowd": "1"},
                        form_page="/settings")
    assert response.status_code == 303
    saved = fresh_user(session, "alice")
    assert (saved.notify_closing, saved.notify_resolved, saved.notify_stale,
            saved.notify_reply) == (True, False, False, True)
    assert saved.mail_digest is True and saved.hide_crowd is True
    page = web.get("/settings").get_data(as_text=True)
    assert 'value="digest" checked' in page
    bad = web.post("/settings", {"delivery": "weekly"}, form_page="/settings")
    assert bad.status_code == 422 and "choose a daily digest" in bad.get_data(as_text=True)
    assert fresh_user(session, "alice").mail_digest is True  # nothing lost, nothing changed


def test_unsubscribe_get_changes_nothing_and_post_needs_no_login(app, client, session):
    alice = add_user(session, "alice")
    session.commit()
    token = unsubscribe_token({**app.config}, alice.id, "stale")
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "alice" in page.get_data(as_text=True)
    assert fresh_user(session, "alice").notify_stale is True
    # A mail client's one-click POST (RFC 8058): no session, no CSRF token.
    done = client.post(f"/unsubscribe/{token}", data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and "Done" in done.get_data(as_text=True)
    saved = fresh_user(session, "alice")
    assert saved.notify_stale is False and saved.notify_closing is True


def test_unsubscribe_from_a_digest_switches_every_kind_off(app, client, session):
    alice = add_user(session, "alice")
    session.commit()
    token = unsubscribe_token({**app.config}, alice.id, "all")
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    saved = fresh_user(session, "alice")
    assert not any((saved.notify_closing, saved.notify_resolved, saved.notify_stale,
                    saved.notify_reply))


def test_a_bad_or_altered_unsubscribe_token_is_400_and_changes_nothing(app, client, session):
    alice = add_user(session, "alice")
    session.commit()
    token = unsubscribe_token({**app.config}, alice.id, "reply")
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    other = signing.sign({**app.config}, "verify-email", {"u": alice.id, "k": "reply"})
    for bad in (altered, other, "nonsense"):
        for method in (client.get, client.post):
            response = method(f"/unsubscribe/{bad}")
            assert response.status_code == 400
            assert "not valid" in response.get_data(as_text=True)
    assert fresh_user(session, "alice").notify_reply is True
    assert session.scalars(select(Notification)).all() == []
