"""CSRF protection of every form, session cookie settings and security headers."""
from __future__ import annotations

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect

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


def init_app(app: Flask) -> None:
    """CSRF on every unsafe request outside the API; headers on every response."""
    # Flask's default is no SameSite attribute; Lax keeps cross-site POSTs cookieless.
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
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
