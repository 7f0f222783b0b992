"""Email on accounts: the address check, verification by a signed link (GET changes
nothing, POST verifies), taken addresses answered with a notice, password reset by a
single-use, expiring link; the mails are read from the outbox."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from forecasts.errors import Conflict, InvalidInput
from forecasts.models import ApiToken, MailMessage, User
from forecasts.services import email, tokens
from forecasts import create_app
from tests.mailserver import mail_env
from tests.web.conftest import PASSWORD, TOKEN, Web, add_user

LINK = re.compile(r"http://127\.0\.0\.1:5000(/account/(?:verify|reset)/[A-Za-z0-9._-]+)")
SETTINGS = {"SECRET_KEY": "test-secret", "SITE_URL": "http://127.0.0.1:5000"}
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def web(client) -> Web:
    return Web(client)


def mails(session, kind: str | None = None) -> list[MailMessage]:
    session.expire_all()
    query = select(MailMessage).order_by(MailMessage.id)
    if kind is not None:
        query = query.where(MailMessage.kind == kind)
    found = list(session.scalars(query))
    session.commit()  # end the read: the app's requests need SQLite's write lock
    return found


def link_of(message: MailMessage) -> str:
    """The path of the one link in the mail, the same in its text and HTML parts."""
    found = LINK.findall(message.body_text)
    assert len(found) == 1, message.body_text
    assert found[0] in message.body_html
    return found[0]


def fetch(session, username: str) -> User:
    session.expire_all()
    user = session.scalars(select(User).where(User.username == username)).one()
    session.commit()
    return user


def register(web: Web, username: str, address: str):
    return web.post("/register", {"username": username, "password": PASSWORD,
                                  "confirm": PASSWORD, "email": address}, form_page="/register")


def confirm(web: Web, path: str):
    return web.post(path, form_page=path)


def with_verified(session, name: str, address: str) -> User:
    user = add_user(session, name)
    email.set_address(session, user, address)
    session.commit()
    return user


def past(monkeypatch, seconds: float) -> None:
    """Make itsdangerous (and everything else) think it is `seconds` ago, until undo."""
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - seconds)


# --- the address check -------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("ada@example.org", "ada@example.org"),
    ("  Ada.Lovelace+forecasts@Example.ORG ", "Ada.Lovelace+forecasts@example.org"),
    ("a&b@x.y", "a&b@x.y"),
    ("o_k@sub-domain.example.co.uk", "o_k@sub-domain.example.co.uk"),
])
def test_plausible_addresses_are_kept_with_the_domain_lowercased(value, expected):
    assert email.check_address(value) == expected


@pytest.mark.parametrize("value, fragment", [
    ("", "required"), ("   ", "required"), ("ada", "exactly one '@'"),
    ("a@b@example.org", "exactly one '@'"), ('"<script>"@x.y', "before '@'"),
    ("<ada@example.org>", "before '@'"), ("ada lovelace@example.org", "before '@'"),
    ("ada,bob@example.org", "before '@'"), ("ada'@example.org", "before '@'"),
    ("a..b@example.org", "before '@'"), (".a@example.org", "before '@'"),
    ("ada\n@example.org", "before '@'"), ("ada@localhost", "after '@'"),
    ("ada@example..org", "after '@'"), ("ada@-example.org", "after '@'"),
    ("ada@exa mple.org", "after '@'"), ("ada@example.org\r\nBcc: x@y.z", "exactly one"),
    ("ada@exämple.org", "after '@'"), ("a" * 65 + "@example.org", "before '@'"),
    ("a@" + "b" * 250 + ".org", "at most 254"), (None, "must be text"),
])
def test_implausible_addresses_are_refused_naming_the_field(value, fragment):
    with pytest.raises(InvalidInput) as raised:
        email.check_address(value, where="email")
    assert raised.value.where == "email" and fragment in raised.value.message


# --- verification ----------------------------------------------------------------

def test_registration_mails_a_link_that_verifies_only_on_post(web, session):
    response = register(web, "carol", "Carol@Example.org")
    assert response.status_code == 303
    assert fetch(session, "carol").email is None  # not before it is proven
    [mail] = mails(session)
    assert (mail.kind, mail.to_addr, mail.state) == ("verify", "Carol@example.org", "pending")
    assert mail.user_id == fetch(session, "carol").id and "Confirm" in mail.subject
    path = link_of(mail)
    # A mail scanner following the link changes nothing.
    page = Web(web.client.application.test_client()).get(path)
    assert page.status_code == 200 and "Carol@example.org" in page.text
    assert 'method="post"' in page.text
    assert fetch(session, "carol").email is None
    # Pressing the button does it, also from another browser (not logged in).
    stranger = Web(web.client.application.test_client())
    assert confirm(stranger, path).status_code == 303
    carol = fetch(session, "carol")
    assert carol.email == "Carol@example.org" and carol.email_verified


def test_registration_without_an_address_mails_nothing(web, session):
    assert register(web, "carol", "").status_code == 303
    assert mails(session) == [] and fetch(session, "carol").email is None


def test_a_bad_address_at_registration_creates_no_account(web, session):
    response = register(web, "carol", '"<script>"@x.y')
    assert response.status_code == 422 and 'id="email-error"' in response.text
    assert "<script>" not in response.text
    assert session.scalars(select(User)).all() == [] and mails(session) == []


def test_altered_or_expired_verification_links_are_refused(web, session, monkeypatch):
    carol = add_user(session, "carol")
    session.commit()
    past(monkeypatch, 7 * 86400 + 60)
    email.request_verification(session, SETTINGS, carol, "carol@example.org")
    monkeypatch.undo()
    email.request_verification(session, SETTINGS, carol, "carol@example.org")
    session.commit()
    old, fresh = (link_of(m) for m in mails(session))
    altered = fresh[:-3] + ("AAA" if not fresh.endswith("AAA") else "BBB")
    for path, words in ((old, "expired"), (altered, "not valid")):
        for method in (web.get, lambda p: web.post(p, form_page="/login")):
            page = method(path)
            assert page.status_code == 422 and words in page.text
    assert fetch(session, "carol").email is None
    # A reset token is no verification token.
    reset = email.signing.sign(SETTINGS, "reset-password", {"u": carol.id, "e": "x@y.z"})
    assert web.get(f"/account/verify/{reset}").status_code == 422
    assert confirm(web, fresh).status_code == 303
    assert fetch(session, "carol").email == "carol@example.org"


def test_a_taken_address_gets_a_notice_and_the_same_answer(web, session, app):
    with_verified(session, "bob", "bob@example.org")
    free = register(web, "carol", "carol@example.org")
    other = Web(app.test_client())
    taken = register(other, "dave", "BOB@example.org")
    assert (free.status_code, free.headers["Location"]) == \
        (taken.status_code, taken.headers["Location"])
    pages = [TOKEN.sub("", w.get("/").text.replace(a, "ADDRESS").replace(name, "NAME"))
             for w, a, name in ((web, "carol@example.org", "carol"),
                                (other, "BOB@example.org", "dave"))]
    assert "A confirmation link is on its way to ADDRESS" in pages[0]
    assert pages[0] == pages[1]
    verify_mail, notice = mails(session)
    assert (verify_mail.kind, verify_mail.to_addr) == ("verify", "carol@example.org")
    assert (notice.kind, notice.to_addr) == ("notice", "bob@example.org")
    assert "/account/forgot" in notice.body_text and "/account/verify" not in notice.body_text
    assert fetch(session, "dave").email is None and fetch(session, "bob").email == "bob@example.org"


def test_an_address_taken_meanwhile_is_not_verified(web, session):
    carol = add_user(session, "carol")
    session.commit()
    email.request_verification(session, SETTINGS, carol, "shared@example.org")
    session.commit()
    path = link_of(mails(session)[0])
    with_verified(session, "bob", "SHARED@example.org")
    page = confirm(web, path)
    assert page.status_code == 409 and "another account" in page.text
    assert fetch(session, "carol").email is None
    with pytest.raises(Conflict, match="Shared@example.org is another account"):
        email.set_address(session, fetch(session, "carol"), "Shared@Example.org")


def test_changing_the_address_keeps_the_old_one_until_verified(web, session):
    with_verified(session, "alice", "old@example.org")
    web.login("alice")
    wrong = web.post("/account/email", {"email": "new@example.org", "current": "wrong one"},
                     form_page="/account/email")
    assert wrong.status_code == 422 and "not your current password" in wrong.text
    assert mails(session) == []
    answer = web.post("/account/email", {"email": "new@example.org", "current": PASSWORD},
                      form_page="/account/email")
    assert answer.status_code == 303 and answer.headers["Location"] == "/account/email"
    assert fetch(session, "alice").email == "old@example.org"
    assert "old@example.org" in web.get("/account/email").text
    [mail] = mails(session)
    assert mail.to_addr == "new@example.org"
    assert confirm(web, link_of(mail)).headers["Location"] == "/account/email"
    assert fetch(session, "alice").email == "new@example.org"


# --- password reset ----------------------------------------------------------------

def forgot(web: Web, address: str):
    return web.post("/account/forgot", {"email": address}, form_page="/account/forgot")


def test_forgot_answers_the_same_for_known_and_unknown_addresses(web, session, app):
    with_verified(session, "alice", "alice@example.org")
    deactivated = with_verified(session, "zed", "zed@example.org")
    deactivated.deactivated_at = deactivated.created_at
    add_user(session, "nomail")
    session.commit()
    answers = []
    for address in ("ALICE@example.org", "nobody@example.org", "zed@example.org"):
        browser = Web(app.test_client())
        response = forgot(browser, address)
        page = TOKEN.sub("", browser.get(response.headers["Location"]).text)
        answers.append((response.status_code, response.headers["Location"], page))
    assert answers[0] == answers[1] == answers[2]
    assert "If an account has this address" in answers[0][2]
    [mail] = mails(session)
    assert (mail.kind, mail.to_addr, mail.user_id) == ("reset", "alice@example.org",
                                                       fetch(session, "alice").id)
    bad = forgot(web, "not an address")
    assert bad.status_code == 422 and 'id="email-error"' in bad.text


def test_a_reset_link_works_once_ends_sessions_and_revokes_tokens(web, session, app):
    alice = with_verified(session, "alice", "alice@example.org")
    tokens.create_token(session, alice, "laptop")
    session.commit()
    elsewhere = Web(app.test_client())
    elsewhere.login("alice")
    assert elsewhere.get("/account/email").status_code == 200
    old_hash = alice.password_hash
    forgot(web, "alice@example.org")
    path = link_of(mails(session, "reset")[0])
    form = web.get(path)
    assert form.status_code == 200 and 'name="new"' in form.text and "alice" in form.text
    assert fetch(session, "alice").password_hash == old_hash  # GET changed nothing
    differ = web.post(path, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"}, form_page=path)
    assert differ.status_code == 422 and "differ" in differ.text and 'name="new"' in differ.text
    done = web.post(path, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}, form_page=path)
    assert done.status_code == 303 and done.headers["Location"] == "/users/alice"
    # This browser is logged in; the other one is not any more; the token is revoked.
    assert web.get("/account/email").status_code == 200
    assert elsewhere.get("/account/email").status_code == 302
    session.expire_all()
    assert all(t.revoked_at is not None for t in session.scalars(select(ApiToken)))
    session.commit()
    assert fetch(session, "alice").email_verified
    Web(app.test_client()).login("alice", NEW_PASSWORD)
    # Used once: the password changed, so the fingerprint in the link no longer matches.
    again = Web(app.test_client()).get(path)
    assert again.status_code == 422 and "used already" in again.text
    assert web.post(path, {"new": "yet another passphrase", "confirm": "yet another passphrase"},
                    form_page="/login").status_code == 422


def test_a_reset_link_expires_after_an_hour(web, session, monkeypatch):
    old_hash = with_verified(session, "alice", "alice@example.org").password_hash
    past(monkeypatch, 3601)
    email.request_reset(session, SETTINGS, "alice@example.org")
    monkeypatch.undo()
    past(monkeypatch, 3500)
    email.request_reset(session, SETTINGS, "alice@example.org")
    monkeypatch.undo()
    session.commit()
    expired, recent = (link_of(m) for m in mails(session))
    page = web.get(expired)
    assert page.status_code == 422 and "expired" in page.text
    assert web.post(expired, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                    form_page="/login").status_code == 422
    assert fetch(session, "alice").password_hash == old_hash
    assert web.get(recent).status_code == 200


def test_a_logout_everywhere_voids_a_pending_reset_link(web, session):
    alice = with_verified(session, "alice", "alice@example.org")
    email.request_reset(session, SETTINGS, "alice@example.org")
    alice.session_epoch += 1
    session.commit()
    assert web.get(link_of(mails(session)[0])).status_code == 422


# --- through a real SMTP server ------------------------------------------------------

def test_verification_and_reset_mails_go_out_at_once_with_working_links(env, smtp_server):
    app = create_app({**mail_env(env, smtp_server), "TESTING": True})
    try:
        web = Web(app.test_client())
        assert register(web, "carol", "carol@example.org").status_code == 303
        [message] = smtp_server.wait_for(1)  # sent by the request's background kick
        assert message["To"] == "carol@example.org" and "Confirm" in message["Subject"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        [path] = LINK.findall(text)
        assert path in html
        assert confirm(web, path).status_code == 303
        smtp_server.clear()
        assert forgot(Web(app.test_client()), "carol@example.org").status_code == 303
        [reset] = smtp_server.wait_for(1)
        [reset_path] = LINK.findall(reset.get_body(("plain",)).get_content())
        stranger = Web(app.test_client())
        assert stranger.post(reset_path, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                             form_page=reset_path).status_code == 303
        Web(app.test_client()).login("carol", NEW_PASSWORD)
        with app.extensions["forecasts_db"].session() as s:
            deadline = time.monotonic() + 10
            while set(s.scalars(select(MailMessage.state))) != {"sent"}:
                assert time.monotonic() < deadline, "mail rows not marked sent"
                time.sleep(0.05)
                s.rollback()
    finally:
        app.extensions["forecasts_db"].dispose()
