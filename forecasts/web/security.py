"""CSRF protection of every form, session cookie settings and security headers."""
from __future__ import annotations

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect

from forecasts.errors import ConfigError

# Every asset is served by the app itself: no CDN, no inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# The JSON API authenticates each request with a bearer token, never with the session
# cookie, so a forged cross-site request carries no credentials there.
API_PREFIX = "/api/"
# Browsers accept a __Host- cookie only if it is Secure, has Path=/ and no Domain, so no
# sibling subdomain or plain-HTTP page can plant or overwrite it.
SECURE_COOKIE_NAME = "__Host-session"


def secure_cookies(value: object, env: str) -> bool:
    """SESSION_COOKIE_SECURE as a flag: unset means on in production only."""
    if value is None or value == "":
        return env == "production"
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"SESSION_COOKIE_SECURE: expected true or false, got {value!r}")


def configure_cookies(app: Flask) -> None:
    """Session cookie (which also carries the CSRF token): HttpOnly, SameSite=Lax, and
    Secure with the __Host- prefix unless turned off (on by default in production)."""
    secure = secure_cookies(app.config.get("SESSION_COOKIE_SECURE"), app.config["FORECASTS_ENV"])
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    # Flask's default is no SameSite attribute; Lax keeps cross-site POSTs cookieless.
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if secure:
        app.config["SESSION_COOKIE_NAME"] = SECURE_COOKIE_NAME
        app.config["SESSION_COOKIE_PATH"] = "/"
        app.config["SESSION_COOKIE_DOMAIN"] = None
    # Flask-Login's remember-me cookie is never set (no "remember me"), but if it were it
    # would follow the session cookie.
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_HTTPONLY"] = True
    app.config["REMEMBER_COOKIE_SAMESITE"] = "Lax"


def init_app(app: Flask) -> None:
    """CSRF on every unsafe request outside the API; headers on every response."""
    configure_cookies(app)
    # A token lives as long as its session, which login and logout replace: a
    # forecaster who spends an hour on a rationale must not lose it to an expired token.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    @app.before_request
    def check_csrf() -> None:
        """Reject unsafe requests without a valid token (400)."""
        if app.config.get("WTF_CSRF_ENABLED", True) and not request.path.startswith(API_PREFIX):
            csrf.protect(apply_exemptions=True)

    @app.after_request
    def add_headers(response: Response) -> Response:
        """Security headers on every response."""
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if response.mimetype == "text/html":
            # Pages show per-user content: no shared cache may keep them.
            response.headers.setdefault("Cache-Control", "private, no-cache")
        return response
