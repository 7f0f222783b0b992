"""Whole responses for anonymous readers, cached under the write version.

A GET from someone not logged in (no user in the session, no flashed message waiting, no
`Authorization` header) is answered from the cache when the same path and query were
rendered for such a reader since the last committed write (forecasts/write_version.py):
the key holds the write version, so a forecast, comment, resolution or edit made by any
worker or command makes every older entry unreachable at once. Only what changes with
the clock alone can be out of date in a cached page (a "3 minutes ago", a question that
closed since), so entries also expire after PAGE_CACHE_SECONDS; 0 turns the cache off.

Stored: status 200 responses that were rendered for an empty session and left it empty
(no form's CSRF token, no flash) and that set no cookie, up to MAX_BYTES, with their
headers. The static files are left to Flask. Served entries carry `X-Page-Cache: hit`.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request, session
from flask_login import current_user

from forecasts import cache, write_version
from forecasts.db import get_session
from forecasts.errors import ConfigError

MAX_BYTES = 512 * 1024
_KEY = "page_cache_key"  # g: this request's key, when it may be stored
_SKIP_HEADERS = {"set-cookie", "date", "content-length"}


def _anonymous_get() -> bool:
    return (request.method == "GET" and "Authorization" not in request.headers
            and request.endpoint != "static" and "_flashes" not in session
            and not current_user.is_authenticated)


def init_app(app: Flask) -> None:
    seconds = app.config["PAGE_CACHE_SECONDS"]
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ConfigError(f"PAGE_CACHE_SECONDS: expected a whole number of seconds, 0 or more, "
                          f"got {seconds!r}")
    if seconds == 0:
        return

    @app.before_request
    def serve_cached() -> Response | None:
        if not _anonymous_get():
            return None
        key = f"page:{write_version.current(get_session())}:{request.full_path}"
        found = cache.read(key)
        if found is not None:
            status, headers, body = found
            response = Response(body, status=status, headers=headers)
            response.headers["X-Page-Cache"] = "hit"
            return response
        g.setdefault(_KEY, key)
        return None

    @app.after_request
    def store(response: Response) -> Response:
        key = g.pop(_KEY, None)
        # An empty session only: a page rendered for one that holds a CSRF token may embed
        # it without changing the session.
        if (key is not None and response.status_code == 200 and not session
                and not session.modified
                and not response.is_streamed and not response.direct_passthrough
                and "Set-Cookie" not in response.headers
                and len(response.get_data()) <= MAX_BYTES):
            headers: list[tuple[str, Any]] = [(k, v) for k, v in response.headers.items()
                                              if k.lower() not in _SKIP_HEADERS]
            cache.write(key, (200, headers, response.get_data()), timeout=seconds)
        return response
