"""The account pages: links to them, CSRF on every form, login where needed, labelled
fields, and addresses shown escaped (pages and mails)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forecasts.models import MailMessage, User
from forecasts.services import email
from tests.web.conftest import PASSWORD, Web, add_user

SETTINGS = {"SECRET_KEY": "test-secret", "SITE_URL": "http://127.0.0.1:5000"}
ODD = "a&b{c}@example.org"  # valid, and every character of it must reach HTML escaped


def test_login_links_to_forgot_and_register_asks_for_an_optional_address(web):
    login = web.get("/login").text
    assert 'href="/account/forgot"' in login and "Forgot your password?" in login
    register = web.get("/register").text
    assert '<label for="email">' in register and 'type="email" id="email" name="email"' in register
    assert 'id="email" name="email" value="" autocomplete="email"' in register
    assert "required" not in register.split('id="email"')[1].split(">")[0]


def test_the_email_page_needs_a_login(web):
    response = web.get("/account/email")
    assert response.status_code == 302 and "/login?next=%2Faccount%2Femail" in response.headers["Location"]


def test_every_new_form_needs_its_csrf_token(web, session, app):
    alice = add_user(session, "alice")
    email.set_address(session, alice, "alice@example.org")
    session.commit()
    verify = "/account/verify/" + email.signing.sign(SETTINGS, "verify-email",
                                                     {"u": alice.id, "e": "new@example.org"})
    reset = "/account/reset/" + email.signing.sign(SETTINGS, "reset-password",
                                                   {"u": alice.id, "f": email.fingerprint(alice)})
    web.login("alice")
    forms = {"/account/email": {"email": "x@example.org", "current": PASSWORD},
             "/account/forgot": {"email": "alice@example.org"}, verify: {},
             reset: {"new": "a brand new passphrase", "confirm": "a brand new passphrase"},
             "/register": {"username": "carol", "password": PASSWORD, "confirm": PASSWORD,
                           "email": "carol@example.org"}}
    for path, form in forms.items():
        page = web.get(path)
        assert page.status_code == 200 and 'name="csrf_token"' in page.text, path
        refused = web.client.post(path, data=form)
        assert refused.status_code == 400, path
    session.expire_all()
    assert session.scalars(select(MailMessage)).all() == []
    assert session.scalars(select(User.username)).all() == ["alice"]
    assert session.get(User, alice.id).email == "alice@example.org"


def test_a_valid_address_is_shown_escaped(web, session):
    alice = add_user(session, "alice")
    email.set_address(session, alice, ODD)
    email.request_verification(session, SETTINGS, alice, "x&y@example.org")
    session.commit()
    web.login("alice")
    page = web.get("/account/email").text
    assert "a&amp;b{c}@example.org" in page and ODD not in page
    mail = session.scalars(select(MailMessage)).one()
    session.commit()
    assert "x&amp;y@example.org" in mail.body_html and "x&y@example.org" in mail.body_text
    path = "/account/verify/" + mail.body_text.split("/account/verify/")[1].split()[0]
    shown = web.get(path).text
    assert "x&amp;y@example.org" in shown and "x&y@example.org" not in shown
    # The flash after a change repeats the address, escaped too.
    changed = web.post("/account/email", {"email": "p&q@example.org", "current": PASSWORD},
                       form_page="/account/email", follow_redirects=True)
    assert "p&amp;q@example.org" in changed.text and "p&q@example.org" not in changed.text


@pytest.mark.parametrize("address", ['"<script>"@x.y', "<img src=x onerror=alert(1)>@x.y",
                                     "a@x.y>\"<script>"])
def test_markup_in_an_address_is_refused_and_not_echoed_raw(web, session, address):
    add_user(session, "alice")
    session.commit()
    web.login("alice")
    page = web.post("/account/email", {"email": address, "current": PASSWORD},
                    form_page="/account/email")
    assert page.status_code == 422 and 'id="email-error"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert address not in page.text and "&lt;" in page.text  # echoed in the field, escaped
    forgot = web.post("/account/forgot", {"email": address}, form_page="/account/forgot")
    assert forgot.status_code == 422 and address not in forgot.text
    session.expire_all()
    assert session.scalars(select(MailMessage)).all() == []


def test_pages_for_link_tokens_are_not_cached(web, session):
    alice = add_user(session, "alice")
    email.set_address(session, alice, "alice@example.org")
    session.commit()
    token = email.signing.sign(SETTINGS, "reset-password",
                               {"u": alice.id, "f": email.fingerprint(alice)})
    page = web.get(f"/account/reset/{token}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert '<label for="new">' in page.text and '<label for="confirm">' in page.text


def test_an_unverified_account_is_told_it_gets_no_mail(web, session):
    add_user(session, "alice")
    session.commit()
    web.login("alice")
    page = web.get("/account/email").text
    assert "no confirmed email address" in page and "Send confirmation link" in page


def test_a_deactivated_account_cannot_use_its_links(web, session):
    alice = add_user(session, "alice")
    email.set_address(session, alice, "alice@example.org")
    verify = email.signing.sign(SETTINGS, "verify-email", {"u": alice.id, "e": "n@example.org"})
    reset = email.signing.sign(SETTINGS, "reset-password",
                               {"u": alice.id, "f": email.fingerprint(alice)})
    alice.deactivated_at = alice.created_at
    session.commit()
    assert web.get(f"/account/verify/{verify}").status_code == 422
    assert web.get(f"/account/reset/{reset}").status_code == 422
    assert Web(web.client.application.test_client()).post(
        "/account/forgot", {"email": "alice@example.org"},
        form_page="/account/forgot").status_code == 303
    session.expire_all()
    assert session.scalars(select(MailMessage)).all() == []
