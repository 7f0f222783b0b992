"""The cache shared by workers (Flask-Caching): Redis when CACHE_URL=redis://..., else a
cache inside each process; outside a web app (the CLI) no cache at all.

Callers put the score version in every key (see services/score_version.py), so an entry
can only be read while the scores it was computed from are current: no invalidation is
needed, old versions simply stop being asked for and expire.
"""
from __future__ import annotations

import logging
import sys
from typing import Any, Callable, TypeVar

from cachelib import BaseCache, NullCache

from forecasts.errors import ConfigError

T = TypeVar("T")
EXTENSION = "forecasts_cache"
TIMEOUT_S = 24 * 3600  # entries of an old score version are never read again
SIMPLE_THRESHOLD = 500  # entries per process before the simple cache prunes
_NULL = NullCache()
log = logging.getLogger(__name__)


def init_app(app: Any) -> None:
    """Attach the cache CACHE_URL names (or an in-process one) to `app`."""
    from flask_caching import Cache

    url = app.config.get("CACHE_URL") or ""
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"CACHE_URL: expected redis://host:port/db, got {url!r}")
    options: dict[str, Any] = {"CACHE_DEFAULT_TIMEOUT": TIMEOUT_S,
                               "CACHE_KEY_PREFIX": app.config.get("CACHE_KEY_PREFIX") or ""}
    if url:
        options.update(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=url)
    else:
        options.update(CACHE_TYPE="SimpleCache", CACHE_THRESHOLD=SIMPLE_THRESHOLD)
    app.extensions[EXTENSION] = Cache(app, config=options)


def get_cache() -> BaseCache:
    """The current web app's cache backend; a no-op cache outside a web app."""
    if "flask" in sys.modules:  # the CLI never imports Flask: nothing to look up
        from flask import current_app, has_app_context
        if has_app_context() and EXTENSION in current_app.extensions:
            return current_app.extensions[EXTENSION].cache
    return _NULL


def read(key: str) -> Any:
    """The value cached under `key`, or None; a cache server that fails (Redis down or
    unreachable) is logged and reads as a miss, never fails the request."""
    try:
        return get_cache().get(key)
    except Exception:  # noqa: BLE001
        log.warning("cache read failed for %s", key, exc_info=True)
        return None


def write(key: str, value: Any, timeout: int | None = None) -> None:
    """Store `value` under `key` (for `timeout` seconds, else TIMEOUT_S); a failing cache
    server is logged and ignored."""
    try:
        get_cache().set(key, value, timeout=timeout)
    except Exception:  # noqa: BLE001
        log.warning("cache write failed for %s", key, exc_info=True)


def cached(key: str, compute: Callable[[], T]) -> T:
    """The value cached under `key`, computed and stored on a miss. A cache server that
    fails only costs the computation (logged), never the request."""
    value = read(key)
    if value is not None:
        return value
    value = compute()
    write(key, value)
    return value
