"""Accounts: register, log in and out, change password; sessions and roles."""
from __future__ import annotations

from sqlalchemy import select

from forecasts.models import User
from tests.web.conftest import PASSWORD, TOKEN, Web, add_user


def test_register_creates_a_forecaster_and_logs_in(web, session):
    page = web.get("/register")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    response = web.post("/register", {"username": "carol", "password": PASSWORD,
                                       "confirm": PASSWORD, "next": "/leaderboard"})
    assert response.status_code == 303 and response.headers["Location"] == "/leaderboard"
    user = session.scalars(select(User).where(User.username == "carol")).one()
    assert user.role == "forecaster" and user.password_hash.startswith("$argon2id$")
    assert "carol" in web.get("/").text  # the header names the logged-in user


def test_register_errors_are_inline_and_store_nothing(web, session):
    add_user(session, "carol")
    session.commit()
    cases = [({"username": "Carol", "password": PASSWORD, "confirm": PASSWORD}, 409, "already exists"),
             ({"username": "d", "password": PASSWORD, "confirm": PASSWORD}, 422, "not a valid username"),
             ({"username": "dave", "password": "short", "confirm": "short"}, 422, "at least 10"),
             ({"username": "dave", "password": PASSWORD, "confirm": PASSWORD + "x"}, 422, "differ"),
             ({"username": "crowd", "password": PASSWORD, "confirm": PASSWORD}, 422, "reserved")]
    for form, status, message in cases:
        response = web.post("/register", form)
        assert response.status_code == status, form
        assert message in response.text and 'class="field-error"' in response.text
        assert 'aria-invalid="true"' in response.text
    assert session.scalars(select(User.username).order_by(User.id)).all() == ["carol"]


def test_login_failure_does_not_say_which_part_was_wrong(web, session):
    add_user(session, "alice")
    session.commit()
    wrong_password = web.post("/login", {"username": "alice", "password": "nope-nope"})
    unknown_user = web.post("/login", {"username": "nobody", "password": PASSWORD})
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert "unknown username or wrong password" in response.text
    assert 'value="alice"' in wrong_password.text  # the username stays typed


def test_login_rotates_the_session(web, client, session):
    add_user(session, "alice")
    session.commit()
    before = web.token()
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    web.login("Alice")  # usernames are case-insensitive
    with client.session_transaction() as s:
        assert "planted" not in s
    assert web.token() != before


def test_next_redirects_stay_on_the_site(web, session):
    add_user(session, "alice")
    session.commit()
    for target, expected in (("/users/alice", "/users/alice"),
                             ("https://evil.example/", "/"), ("//evil.example/x", "/"),
                             ("/\\evil.example", "/"), ("javascript:alert(1)", "/")):
        response = web.post("/login", {"username": "alice", "password": PASSWORD, "next": target})
        assert response.headers["Location"] == expected, target
        web.post("/logout", form_page="/logout")


def test_pages_that_need_a_login_redirect_with_next(web):
    response = web.get("/tokens")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_logout_needs_a_post_with_a_token_and_ends_every_session(app, session):
    add_user(session, "alice")
    session.commit()
    laptop, phone = Web(app.test_client()), Web(app.test_client())
    laptop.login("alice")
    phone.login("alice")
    page = laptop.get("/logout")
    assert page.status_code == 200 and "every device" in page.text
    assert laptop.client.post("/logout").status_code == 400  # no CSRF token
    assert "alice" in laptop.get("/tokens").text
    response = laptop.post("/logout", form_page="/logout")
    assert response.status_code == 303
    assert laptop.get("/tokens").status_code == 302
    assert phone.get("/tokens").status_code == 302  # the old epoch is void everywhere


def test_password_change_keeps_this_session_and_ends_the_others(app, session):
    add_user(session, "alice")
    session.commit()
    laptop, phone = Web(app.test_client()), Web(app.test_client())
    laptop.login("alice")
    phone.login("alice")
    wrong = laptop.post("/account/password", {"current": "not-it-at-all", "new": "new password 1",
                                              "confirm": "new password 1"}, form_page="/account/password")
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    mismatch = laptop.post("/account/password", {"current": PASSWORD, "new": "new password 1",
                                                 "confirm": "new password 2"}, form_page="/account/password")
    assert mismatch.status_code == 422 and "differ" in mismatch.text
    ok = laptop.post("/account/password", {"current": PASSWORD, "new": "new password 1",
                                           "confirm": "new password 1"}, form_page="/account/password")
    assert ok.status_code == 303 and ok.headers["Location"] == "/users/alice"
    assert laptop.get("/tokens").status_code == 200
    assert phone.get("/tokens").status_code == 302
    fresh = Web(app.test_client())
    assert fresh.post("/login", {"username": "alice", "password": PASSWORD}).status_code == 401
    fresh.login("alice", "new password 1")


def test_roles_are_read_from_the_database_on_every_request(web, session):
    alice = add_user(session, "alice")
    session.commit()
    web.login("alice")
    assert web.get("/users/").status_code == 403
    alice.role = "admin"
    session.commit()
    page = web.get("/users/")
    assert page.status_code == 200 and "All accounts" in page.text
    alice.role = "forecaster"
    session.commit()
    assert web.get("/users/").status_code == 403


def test_accounts_without_a_password_cannot_log_in(web, session):
    add_user(session, "imported", password=None)
    session.commit()
    response = web.post("/login", {"username": "imported", "password": ""})
    assert response.status_code == 401


def test_a_deactivated_user_is_answered_exactly_as_a_wrong_password(web, session):
    from forecasts.services.users import deactivate

    add_user(session, "alice")
    gone = add_user(session, "gone")
    deactivate(session, gone)
    session.commit()
    wrong = web.post("/login", {"username": "alice", "password": "nope-nope-nope"})
    refused = web.post("/login", {"username": "gone", "password": PASSWORD})
    assert refused.status_code == wrong.status_code == 401
    def page(response) -> str:  # the CSRF token aside, which is fresh in every form
        return TOKEN.sub("", response.text)

    assert page(refused).replace('value="gone"', 'value="alice"') == page(wrong)
    assert web.get("/tokens").status_code == 302  # not logged in


def test_deactivation_ends_sessions_and_reactivation_revives_none(app, session):
    from forecasts.services.users import deactivate, reactivate

    alice = add_user(session, "alice")
    session.commit()
    laptop = Web(app.test_client())
    laptop.login("alice")
    assert laptop.get("/tokens").status_code == 200
    deactivate(session, alice)
    session.commit()
    assert laptop.get("/tokens").status_code == 302
    reactivate(session, alice)
    session.commit()
    assert laptop.get("/tokens").status_code == 302  # the old session stays void
    laptop.login("alice")
    assert laptop.get("/tokens").status_code == 200


def test_a_deactivated_users_api_token_is_refused(client, session):
    from forecasts.services.tokens import create_token
    from forecasts.services.users import deactivate, reactivate
    from tests.builders import make_question
    from tests.web.conftest import around_now

    alice = add_user(session, "alice")
    make_question(session, slug="strike-open", **around_now())
    _, plain = create_token(session, alice, "script")
    session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/me/forecasts", headers=headers).status_code == 200
    deactivate(session, alice)
    session.commit()
    for response in (client.get("/api/v1/me/forecasts", headers=headers),
                     client.post("/api/v1/questions/strike-open/forecasts", headers=headers,
                                 json={"probability": 0.3})):
        assert response.status_code == 401
        assert response.get_json()["error"]["message"].endswith("the API token's account is deactivated")
    reactivate(session, alice)
    session.commit()
    posted = client.post("/api/v1/questions/strike-open/forecasts", headers=headers,
                         json={"probability": 0.3})
    assert posted.status_code == 201, posted.get_json()
