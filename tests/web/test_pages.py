"""Every route answers in the site's style: error pages, security headers, strict CSP."""
from __future__ import annotations

import re

import pytest

from forecasts import create_app

SAMPLE_ARGS = {"slug": "strike-resolved", "username": "alice", "token_id": 1}


def test_error_pages_are_styled(web, world):
    cases = {"/no/such/page": 404, "/questions/nope": 404, "/users/nobody": 404}
    for path, status in cases.items():
        page = web.get(path)
        assert page.status_code == status
        assert '<link rel="stylesheet"' in page.text and f'class="error-code">{status}<' in page.text
    wrong_method = web.client.post("/leaderboard")
    assert wrong_method.status_code == 405 and "Method not allowed" in wrong_method.text
    no_token = web.client.post("/login", data={"username": "alice", "password": "x"})
    assert no_token.status_code == 400 and "Bad request" in no_token.text
    web.login("alice")
    forbidden = web.get("/users/")
    assert forbidden.status_code == 403 and "Not allowed" in forbidden.text


def test_server_errors_show_no_traceback(env):
    app = create_app({**env, "TESTING": True, "PROPAGATE_EXCEPTIONS": False})

    def boom():
        raise RuntimeError("secret internals")

    app.add_url_rule("/boom", "boom", boom)
    page = app.test_client().get("/boom")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "Something went wrong" in text and '<link rel="stylesheet"' in text
    assert "secret internals" not in text and "Traceback" not in text
    app.extensions["forecasts_db"].dispose()


def test_api_paths_get_json_errors(web):
    response = web.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_security_headers(web, world):
    page = web.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    web.login("alice")
    cookie = web.client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule, method, rule.rule.replace("<slug>", SAMPLE_ARGS["slug"]).replace(
            "<username>", SAMPLE_ARGS["username"]).replace("<int:token_id>", "1")


def test_every_route_answers_without_a_server_error(app, web, world):
    """Walks the URL map, so that a new route cannot go untested: every page renders in
    the site's style, with no inline script or style (the CSP would block them), and
    every form carries a CSRF token."""
    web.login("root")
    web.post("/tokens", {"label": "walk"}, form_page="/tokens")
    seen = set()
    for rule, method, path in _routes(app):
        if rule.endpoint == "auth.logout":
            continue  # would end the walk's session; covered in test_auth
        if method == "GET":
            response = web.get(path)
        else:
            response = web.post(path, {}, form_page="/tokens")
        assert response.status_code < 500, (path, response.status_code)
        seen.add(rule.endpoint)
        if response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and " style=" not in html, path
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
            assert 'name="csrf_token"' in form, path
    assert {"questions.index", "questions.detail", "questions.submit", "questions.crowd_svg",
            "auth.login", "auth.register", "auth.password", "leaderboard.index",
            "leaderboard.csv", "users.profile", "users.calibration_svg", "users.index",
            "tokens.index", "tokens.create", "tokens.revoke"} <= seen


@pytest.mark.parametrize("asset", ["style.css", "forecasts.js", "favicon.svg"])
def test_assets_are_served_by_the_app(web, asset):
    response = web.get(f"/static/{asset}")
    assert response.status_code == 200 and len(response.data) > 100
    response.close()


def test_pages_load_no_external_assets(web, world):
    for path in ("/", "/questions/strike-open", "/leaderboard", "/users/alice", "/login"):
        html = web.get(path).get_data(as_text=True)
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert url.startswith(("/", "#")), (path, url)
