"""API tokens in the web UI: created and shown once, listed, revoked."""
from __future__ import annotations

import re

from sqlalchemy import select

from forecasts.models import ApiToken
from forecasts.services.tokens import live_token


def test_create_list_and_revoke(web, world, database):
    web.login("alice")
    created = web.post("/tokens", {"label": "my script"}, form_page="/tokens")
    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    plain = re.search(r'value="(fct_[^"]+)"', created.text).group(1)
    with database.session() as s:
        assert live_token(s, plain).user.username == "alice"
    listing = web.get("/tokens")
    assert "my script" in listing.text and plain not in listing.text  # shown once only
    with database.session() as s:
        token_id = s.scalars(select(ApiToken.id)).one()
    revoked = web.post(f"/tokens/{token_id}/revoke", form_page="/tokens")
    assert revoked.status_code == 303
    assert "revoked" in web.get("/tokens").text
    with database.session() as s:
        assert s.get(ApiToken, token_id).revoked_at is not None


def test_cannot_revoke_someone_elses_token(web, world, database):
    web.login("bob")
    web.post("/tokens", {"label": "bob's"}, form_page="/tokens")
    web.post("/logout", form_page="/logout")
    web.login("alice")
    with database.session() as s:
        token_id = s.scalars(select(ApiToken.id)).one()
    response = web.post(f"/tokens/{token_id}/revoke", form_page="/tokens")
    assert response.status_code == 404 and "no token" in response.text
    with database.session() as s:
        assert s.get(ApiToken, token_id).revoked_at is None


def test_label_too_long_is_an_inline_error(web, world, database):
    web.login("alice")
    response = web.post("/tokens", {"label": "x" * 81}, form_page="/tokens")
    assert response.status_code == 422 and "longer than 80" in response.text
    with database.session() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_tokens_need_a_login(web, world):
    assert web.get("/tokens").status_code == 302
    assert web.post("/tokens", {"label": "x"}).status_code == 302
