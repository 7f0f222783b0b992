"""Every error is JSON {"error": {"code", "message"}} with the right status."""
from __future__ import annotations

import pytest

from forecasts.api import errors
from forecasts.errors import (AuthenticationRequired, Conflict, ConfigError, InvalidInput,
                              NotFound, PermissionDenied)


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/", "/api/v1", "/api/v1/questions/",
                                  "/api/v1/questions/strike-open/nope", "/api/v2/questions",
                                  "/api/", "/api/v1/me"])
def test_unknown_routes_are_json_404(api, world, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.body["error"]["code"] == "not_found"
    assert "openapi.json" in response.body["error"]["message"]


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/v1/questions", "GET, HEAD, OPTIONS"),
    ("POST", "/api/v1/questions/strike-open", "GET, HEAD, OPTIONS"),
    ("PUT", "/api/v1/questions/strike-open/forecasts", "OPTIONS, POST"),
    ("GET", "/api/v1/questions/strike-open/forecasts", "OPTIONS, POST"),
    ("PATCH", "/api/v1/leaderboard", "GET, HEAD, OPTIONS"),
    ("POST", "/api/v1/me/forecasts", "GET, HEAD, OPTIONS"),
])
def test_wrong_method_is_json_405(api, world, method, path, allowed):
    response = api.request(method, path, json={"probability": 0.5})
    assert response.status_code == 405
    assert response.body["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == allowed


def test_head_and_options_work(api, world):
    assert api.request("HEAD", "/api/v1/questions").status_code == 200
    options = api.client.options("/api/v1/questions/strike-open/forecasts")
    assert options.status_code == 200 and "POST" in options.headers["Allow"]


@pytest.mark.parametrize("error, status, code", [
    (InvalidInput("is wrong", where="x"), 422, "invalid_input"),
    (NotFound("no such thing"), 404, "not_found"),
    (Conflict("closed", where="question"), 409, "conflict"),
    (PermissionDenied("not yours"), 403, "forbidden"),
    (AuthenticationRequired("log in"), 401, "unauthorized"),
    (errors.MalformedRequest("unreadable", where="body"), 400, "bad_request"),
    (ConfigError("broken"), 500, "internal_error"),
])
def test_domain_errors_map_to_statuses(app, error, status, code):
    with app.test_request_context("/api/v1/questions"):
        response = errors.domain_error(error)
    assert response.status_code == status
    body = response.get_json()["error"]
    assert body["code"] == code
    if status < 500:
        assert body["message"] == str(error)
        assert body.get("where") == error.where
    else:  # no internals leak out of a server error
        assert "broken" not in body["message"]
    assert ("WWW-Authenticate" in response.headers) == (status == 401)


def test_an_unexpected_failure_is_a_json_500_without_details(app, client, monkeypatch):
    from forecasts.services import question_list

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(question_list, "list_questions", explode)
    response = client.get("/api/v1/questions")
    assert response.status_code == 500
    assert response.get_json() == {"error": {"code": "internal_error",
                                             "message": "the server failed to answer this "
                                                        "request"}}


def test_api_is_exempt_from_csrf(app, world):
    # The app checks CSRF on every other POST; a token-authenticated API call needs none.
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post("/api/v1/questions/strike-open/forecasts", json={"probability": 0.5},
                           headers={"Authorization": f"Bearer {world.tokens['alice']}"})
    assert response.status_code == 201
    assert client.post("/login", data={"username": "alice"}).status_code == 400


def test_csrf_protection_itself_exempts_the_blueprint(app, world):
    # Independent of the app's own path check: CSRFProtect's exemption list holds the API.
    csrf = app.extensions.get("csrf")
    assert csrf is not None, "the web UI's CSRFProtect is expected on the app"
    app.config["WTF_CSRF_ENABLED"] = True
    with app.test_request_context("/api/v1/questions/strike-open/forecasts", method="POST",
                                  json={"probability": 0.5}):
        app.preprocess_request()
        csrf.protect(apply_exemptions=True)  # raises CSRFError unless exempt
