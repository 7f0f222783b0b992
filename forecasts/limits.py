"""Rate limits (Flask-Limiter): logins, registrations, password changes, mail sent on a
visitor's request (verification, reset) and API writes.

Counts live in RATELIMIT_STORAGE_URI: memory (each process alone) by default, Redis to
share them across workers and servers. A breach answers 429 with Retry-After, as a page
in the site's style or, under /api/, as the API's JSON error. The per-account lockout
(forecasts.services.users) is the hard limit on password guessing; these limits keep
floods of requests from one address or token cheap to refuse.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many

from forecasts.errors import ConfigError

LIMITED_SETTINGS = ("RATELIMIT_LOGIN_ACCOUNT", "RATELIMIT_LOGIN_ADDRESS", "RATELIMIT_REGISTER",
                    "RATELIMIT_PASSWORD", "RATELIMIT_API_WRITE", "RATELIMIT_MAIL_CLIENT",
                    "RATELIMIT_MAIL_ADDRESS")
# The views that mail an address typed into their `email` field: their counts are shared,
# so switching from one to another does not reset them.
MAILING_VIEWS = ("auth.register", "account.email", "account.forgot")
WRITES = ["POST", "PUT", "PATCH", "DELETE"]
EXTENSION = "forecasts_limiter"
log = logging.getLogger("forecasts.limits")


def client_address() -> str:
    """The client's address: the connection's, or with RATELIMIT_TRUSTED_PROXIES = n the
    n-th entry of X-Forwarded-For from the right (the one the outermost trusted proxy saw);
    entries further left are the client's own claims and never trusted."""
    hops = current_app.config.get("RATELIMIT_TRUSTED_PROXIES", 0)
    if hops:
        forwarded = [part.strip() for header in request.headers.getlist("X-Forwarded-For")
                     for part in header.split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.remote_addr or "unknown"


def _address_key() -> str:
    return "address:" + client_address()


def _account_key() -> str:
    # Usernames are case-insensitive, so Alice and alice share one count; "" skips the limit.
    name = request.form.get("username", "").strip().lower()[:80]
    return "account:" + name if name else ""


def _mail_address_key() -> str:
    # The target address as typed, trimmed and lowercased (its domain is case-insensitive,
    # and most mail servers treat the local part so too).
    return "mail:" + request.form.get("email", "").strip().lower()[:300]


def _no_mail() -> bool:
    # A request without an address sends no mail (registering without one).
    return not request.form.get("email", "").strip()


def _token_key() -> str:
    # A digest, so the storage never holds a usable token; no token: the address counts.
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + hashlib.sha256(token.strip().encode()).hexdigest()[:32]
    return _address_key()


def _failed(response: Response) -> bool:
    # Only refused logins count: a forecaster who logs in and out all day is never throttled.
    return response.status_code == 401


def _setting(app: Flask, name: str):
    value = app.config[name]
    try:
        if not parse_many(value):
            raise ValueError(value)
    except ValueError:
        raise ConfigError(f"{name}: expected limits like '10/minute' or '5/minute;20/hour', "
                          f"got {value!r}") from None
    return lambda: current_app.config[name]


def retry_after(limiter: Limiter) -> int:
    """Whole seconds until the breached limit's window lets a request through (at least 1)."""
    breached = limiter.current_limit
    if breached is None:
        return 60
    reset = breached.window[0]
    return max(1, math.ceil(reset - time.time()))


def too_many_requests(error: RateLimitExceeded):
    """429 with Retry-After: the API's JSON error under /api/, a page elsewhere."""
    seconds = retry_after(current_app.extensions[EXTENSION])
    log.info("rate limited: %s %s address=%s limit=%s retry_after=%ss", request.method,
                request.path, client_address(), error.description, seconds)
    if request.blueprint == "api":
        from forecasts.api.errors import http_error

        response = http_error(error)
    else:
        response = current_app.make_response((render_template(
            "errors/too_many.html", status=429, title="Too many requests",
            seconds=seconds), 429))
    response.headers["Retry-After"] = str(seconds)
    return response


def init_app(app: Flask) -> Limiter:
    """One limiter per app (its own storage and counts), applied to the limited views;
    call after the blueprints are registered."""
    for name in LIMITED_SETTINGS:
        _setting(app, name)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)  # Retry-After is ours
    limiter = Limiter(key_func=_address_key, app=None, strategy="fixed-window",
                      # A storage outage must not take the site down: count in memory
                      # meanwhile (the lockout in the database still holds).
                      in_memory_fallback_enabled=True, swallow_errors=True)
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter
    views = app.view_functions
    views["auth.login"] = limiter.limit(
        _setting(app, "RATELIMIT_LOGIN_ACCOUNT"), key_func=_account_key, methods=["POST"],
        deduct_when=_failed, scope="login-account")(views["auth.login"])
    views["auth.login"] = limiter.limit(
        _setting(app, "RATELIMIT_LOGIN_ADDRESS"), key_func=_address_key, methods=["POST"],
        deduct_when=_failed, scope="login-address")(views["auth.login"])
    views["auth.register"] = limiter.limit(
        _setting(app, "RATELIMIT_REGISTER"), key_func=_address_key, methods=["POST"],
        scope="register")(views["auth.register"])
    views["auth.password"] = limiter.limit(
        _setting(app, "RATELIMIT_PASSWORD"), key_func=_address_key, methods=["POST"],
        scope="password")(views["auth.password"])
    views["account.reset"] = limiter.limit(
        _setting(app, "RATELIMIT_PASSWORD"), key_func=_address_key, methods=["POST"],
        scope="password")(views["account.reset"])
    mail_client = limiter.shared_limit(
        _setting(app, "RATELIMIT_MAIL_CLIENT"), scope="mail-client", key_func=_address_key,
        methods=["POST"], exempt_when=_no_mail)
    mail_address = limiter.shared_limit(
        _setting(app, "RATELIMIT_MAIL_ADDRESS"), scope="mail-address",
        key_func=_mail_address_key, methods=["POST"], exempt_when=_no_mail)
    for endpoint in MAILING_VIEWS:
        views[endpoint] = mail_address(mail_client(views[endpoint]))
    limiter.limit(_setting(app, "RATELIMIT_API_WRITE"), key_func=_token_key, methods=WRITES,
                  scope="api-write")(app.blueprints["api"])
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    return limiter
