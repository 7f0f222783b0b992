"""Session cookie: Secure with the __Host- prefix by default in production only, off by an
explicit setting for plain-HTTP local use; always HttpOnly and SameSite=Lax."""
from __future__ import annotations

import pytest

from forecasts import create_app
from forecasts.errors import ConfigError


def _app(env, **settings):
    base = {key: value for key, value in env.items() if key != "PASSWORD_HASH_FAST"}
    return create_app({**base, **settings})


@pytest.mark.parametrize("environment, setting, secure", [
    ("production", None, True),
    ("production", "0", False),      # the explicit plain-HTTP escape
    ("production", "1", True),
    ("development", None, False),    # `make demo` serves plain HTTP
    ("testing", None, False),
    ("development", "true", True),
])
def test_secure_by_default_in_production_only(env, environment, setting, secure):
    settings = {"FORECASTS_ENV": environment}
    if setting is not None:
        settings["SESSION_COOKIE_SECURE"] = setting
    app = _app(env, **settings)
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is secure
        assert app.config["SESSION_COOKIE_NAME"] == ("__Host-session" if secure else "session")
        assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    finally:
        app.extensions["forecasts_db"].dispose()


def test_the_production_cookie_as_sent(env):
    app = _app(env, FORECASTS_ENV="production")
    try:
        response = app.test_client().get("/login", base_url="https://forecasts.example")
        cookie = response.headers["Set-Cookie"]  # the CSRF token lives in the session
        assert cookie.startswith("__Host-session=")
        for flag in ("Secure", "HttpOnly", "Path=/", "SameSite=Lax"):
            assert flag in cookie
        assert "Domain=" not in cookie
    finally:
        app.extensions["forecasts_db"].dispose()


def test_a_bad_value_is_named(env):
    with pytest.raises(ConfigError, match="SESSION_COOKIE_SECURE"):
        _app(env, SESSION_COOKIE_SECURE="maybe")
