"""Password rules (one check for every way in) and what a password change revokes."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forecasts.errors import InvalidInput
from forecasts.models import ApiToken
from forecasts.passwords import Passwords
from forecasts.services import demo, tokens, users
from forecasts.services.users import COMMON_PASSWORDS, check_password, common_passwords
from tests.test_cli import assert_fails
from tests.web.conftest import PASSWORD, Web, add_user, web  # noqa: F401 (fixture)

FAST = Passwords(fast=True)
GOOD = "plum orchard at dusk"


def test_the_shipped_list_is_the_named_source_top_10000():
    text = COMMON_PASSWORDS.read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("zxcvbn" in line for line in header) and any("MIT" in line for line in header)
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(entries) == 10_000 and len(set(entries)) == 10_000
    assert entries[:4] == ["123456", "password", "12345678", "qwerty"]  # ranked by frequency
    assert all(e == e.lower() == e.strip() for e in entries)
    assert common_passwords() == frozenset(entries)


@pytest.mark.parametrize("password, username, message", [
    ("nine char", None, "at least 10"),
    (" " * 12, None, "only spaces"),
    ("\t \u3000 \n \u00a0    ", None, "only spaces"),
    ("x" * 1025, None, "at most 1024"),
    ("qwertyuiop", None, "most common"),
    ("QwertyUIOP", None, "most common"),          # ignoring case
    ("1234567890", None, "most common"),
    ("password123", None, "most common"),
    ("  1q2w3e4r5t  ", None, "most common"),      # surrounding spaces do not disguise it
    ("carol-smith", "carol-smith", "username"),
    ("Carol-Smith", "carol-smith", "username"),   # equal, ignoring case
    ("my name is CAROL and", "carol", "username"),
    (12345678901, None, "text"),
])
def test_bad_passwords_are_refused_with_the_rule(password, username, message):
    with pytest.raises(InvalidInput, match=message) as refused:
        check_password(password, username=username, where="new")
    assert refused.value.where == "new"


@pytest.mark.parametrize("password", ["ten chars!", GOOD, PASSWORD, "x" * 1024,
                                      "qwertyuiop!"])
def test_good_passwords_pass(password):
    assert check_password(password, username="carol") == password


def test_every_common_entry_long_enough_is_refused():
    # An independent reading of the rule: every listed password of 10+ characters fails.
    long_ones = [p for p in common_passwords() if len(p) >= 10]
    assert long_ones
    for password in long_ones:
        with pytest.raises(InvalidInput, match="most common"):
            check_password(password)


def test_demo_and_test_passwords_follow_the_rules():
    check_password(demo.PASSWORD, username=demo.LOGIN)
    check_password(PASSWORD, username="alice")


def test_registration_uses_the_rules(web, database):
    for password, message in (("1234567890", "most common"), ("dave-dave-dave", "username")):
        response = web.post("/register", {"username": "dave", "password": password,
                                          "confirm": password})
        assert response.status_code == 422 and message in response.text
    with database.session() as s:
        assert users.find_user(s, "dave") is None
    assert web.post("/register", {"username": "dave", "password": GOOD,
                                  "confirm": GOOD}).status_code == 303


def test_the_cli_uses_the_rules(runner, database):
    assert_fails(runner("user", "create", "erin", "--password-stdin", input="qwertyuiop\n"),
                 "password", "most common")
    assert_fails(runner("user", "create", "erin", "--password-stdin", input="erin's secret\n"),
                 "password", "username")
    assert runner("user", "create", "erin", "--password-stdin", input=GOOD + "\n").exit_code == 0
    assert_fails(runner("user", "set-password", "erin", "--password-stdin", input="          \n"),
                 "password")
    assert_fails(runner("user", "set-password", "erin", "--password-stdin",
                        input="password123\n"), "password", "most common")


def _live_tokens(database, user_id: int) -> int:
    with database.session() as s:
        return len(s.scalars(select(ApiToken).where(ApiToken.user_id == user_id,
                                                    ApiToken.revoked_at.is_(None))).all())


def test_changing_the_password_on_the_web_revokes_the_api_tokens(app, web, session, database):
    alice = add_user(session, "alice")
    bob = add_user(session, "bob")
    plain = [tokens.create_token(session, alice, label)[1] for label in ("a", "b")]
    tokens.create_token(session, bob, "bob's")
    session.commit()
    alice_id, bob_id = alice.id, bob.id
    api = app.test_client()
    headers = {"Authorization": f"Bearer {plain[0]}"}
    assert api.get("/api/v1/me/forecasts", headers=headers).status_code == 200
    web.login("alice")
    refused = web.post("/account/password", {"current": PASSWORD, "new": "alice in the new",
                                             "confirm": "alice in the new"},
                       form_page="/account/password")
    assert refused.status_code == 422 and "username" in refused.text
    assert _live_tokens(database, alice_id) == 2  # a refused change revokes nothing
    changed = web.post("/account/password", {"current": PASSWORD, "new": GOOD, "confirm": GOOD},
                       form_page="/account/password")
    assert changed.status_code == 303
    assert "2 API tokens are revoked" in web.get(changed.headers["Location"]).text
    assert _live_tokens(database, alice_id) == 0 and _live_tokens(database, bob_id) == 1
    for token in plain:
        answer = api.get("/api/v1/me/forecasts", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "unauthorized"


def test_set_password_revokes_tokens_from_the_cli_and_the_admin_page(app, runner, session,
                                                                      database):
    root = add_user(session, "root", role="admin")
    alice = add_user(session, "alice")
    tokens.create_token(session, alice, "one")
    session.commit()
    alice_id = alice.id
    assert runner("user", "set-password", "alice", "--password-stdin",
                  input=GOOD + "\n").exit_code == 0
    assert _live_tokens(database, alice_id) == 0
    with database.transaction() as s:
        tokens.create_token(s, users.get_user(s, "alice"), "two")
    admin = Web(app.test_client())
    admin.login(root.username)
    assert admin.post("/users/alice/password", {"password": "another fine phrase"},
                      form_page="/users/").status_code == 303
    assert _live_tokens(database, alice_id) == 0
    assert Web(app.test_client()).post("/login", {"username": "alice", "password":
                                                  "another fine phrase"}).status_code == 303


def test_set_password_resets_a_lockout(session):
    alice = add_user(session, "alice")
    for _ in range(6):
        users.attempt_login(session, "alice", "not the password", FAST)
    # The fifth locks the account; the sixth, during the lock, is not counted.
    assert alice.failed_logins == 5 and alice.locked_until is not None
    users.set_password(session, alice, GOOD, FAST)
    assert alice.failed_logins == 0 and alice.locked_until is None
    assert users.attempt_login(session, "alice", GOOD, FAST).user is alice
