"""Settings: one table of (name, default, help), read from the environment."""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import sys
from forecasts.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str


def default_instance_path() -> Path:
    """Flask's convention: <repo>/instance in a checkout, <prefix>/var/forecasts-instance
    when installed into site-packages."""
    package_root = Path(__file__).resolve().parent.parent
    if "site-packages" in package_root.parts or "dist-packages" in package_root.parts:
        return Path(sys.prefix) / "var" / "forecasts-instance"
    return package_root / "instance"


SETTINGS: tuple[Setting, ...] = (
    Setting("FORECASTS_ENV", "production",
            "`production`, `development` or `testing`. Outside production a missing "
            "SECRET_KEY is replaced by a fixed development key and password hashing may be cheap."),
    Setting("DATABASE_URL", None,
            "SQLAlchemy URL of the database, e.g. `postgresql+psycopg://user@host/db`. "
            "Default: SQLite file `forecasts.sqlite3` in the instance folder."),
    Setting("FORECASTS_INSTANCE_PATH", None,
            "Folder for the default SQLite database. Default: `instance/` in a checkout, "
            "`<prefix>/var/forecasts-instance` when installed."),
    Setting("SECRET_KEY", None,
            "Signs session cookies and CSRF tokens. Required in production."),
    Setting("SQLITE_BUSY_TIMEOUT_MS", 15000,
            "How long a SQLite writer waits for the write lock before failing."),
    Setting("PASSWORD_HASH_FAST", False,
            "Use cheap argon2 parameters (tests only; refused in production)."),
    Setting("SESSION_COOKIE_SECURE", None,
            "Send the session cookie over HTTPS only, named `__Host-session`. Default: on in "
            "production, off in development and testing; `0` turns it off for plain-HTTP "
            "local use."),
    Setting("LEADERBOARD_BOOTSTRAP", 1000,
            "Bootstrap resamples for leaderboard intervals."),
    Setting("LEADERBOARD_SEED", 20260101,
            "Seed of the leaderboard bootstrap, so intervals are reproducible."),
    Setting("LEADERBOARD_PEER_PRIOR", 30.0,
            "P in the global peer score sum(peer) / max(P, sum(coverage)): below P fully "
            "covered questions the sum is divided by P."),
    Setting("CROWD_AGGREGATOR", "median",
            "How the crowd forecast is made from each forecaster's latest forecast: `median` "
            "(median P(yes); mean vector for multiple choice), `recency_median` (Metaculus's "
            "recency-weighted median) or `extremized_mean` (extremized mean of log-odds). It "
            "makes the crowd's chart, list figure, scores and calibration; after a change the "
            "crowd is rescored (by the scheduler, `forecasts rescore` or `init-db`)."),
    Setting("CROWD_EXTREMIZE_A", 1.5,
            "The factor a of `extremized_mean` (logit p = a * mean logit p_i), above 0. "
            "1.5 sits inside the range Satopää et al. (2014) fitted on Good Judgment data "
            "(about 1.2 to 2.5): averaging log-odds dilutes evidence forecasters hold "
            "separately, and a > 1 restores it."),
    Setting("CACHE_URL", None,
            "Cache shared by all workers for leaderboards and calibration, e.g. "
            "`redis://127.0.0.1:6379/0`. Default: a cache inside each process. Entries are "
            "keyed on the score version, so neither kind ever serves a stale leaderboard."),
    Setting("PAGE_CACHE_SECONDS", 10,
            "Pages and API reads for visitors who are not logged in are cached under the "
            "write version (any committed write makes older entries unreachable) for at most "
            "this many seconds, which bounds only what changes with the clock alone "
            "(\"3 minutes ago\", a question that has just closed). 0 turns it off."),
    Setting("CACHE_KEY_PREFIX", "forecasts:",
            "Prefix of this site's keys in the CACHE_URL server (several sites may share one)."),
    Setting("SCHEDULER_INTERVAL_S", 60,
            "Seconds between two passes of the scheduler (settling due questions) in "
            "`forecasts serve` and `forecasts worker`."),
    Setting("RATELIMIT_ENABLED", True,
            "Throttle logins, registrations, password changes and API writes (429)."),
    Setting("RATELIMIT_STORAGE_URI", "memory://",
            "Where request counts live: `memory://` (each process alone) or "
            "`redis://host:6379/0` to share the limits across workers and servers."),
    Setting("RATELIMIT_KEY_PREFIX", "forecasts",
            "Prefix of this site's keys in the RATELIMIT_STORAGE_URI server."),
    Setting("RATELIMIT_TRUSTED_PROXIES", 0,
            "How many reverse proxies in front of the app append to `X-Forwarded-For`; the "
            "client address is taken that many entries from the right. 0: the connection's "
            "address (the header is ignored)."),
    Setting("RATELIMIT_LOGIN_ACCOUNT", "10/minute",
            "Failed logins allowed per username (limits syntax, `;` between several)."),
    Setting("RATELIMIT_LOGIN_ADDRESS", "30/minute",
            "Failed logins allowed per client address."),
    Setting("RATELIMIT_REGISTER", "5/minute;20/hour",
            "Registrations (attempts) allowed per client address."),
    Setting("RATELIMIT_PASSWORD", "5/minute;20/hour",
            "Password-change attempts allowed per client address."),
    Setting("RATELIMIT_API_WRITE", "120/minute",
            "API writes (POST, PUT, PATCH, DELETE) allowed per token."),
    Setting("LOGIN_LOCKOUT_AFTER", 5,
            "Consecutive failed logins after which an account is locked."),
    Setting("LOGIN_LOCKOUT_BASE_S", 30.0,
            "The first lock's length in seconds; each further failure doubles it."),
    Setting("LOGIN_LOCKOUT_MAX_S", 900.0,
            "The longest lock, in seconds."),
    Setting("SMTP_URL", None,
            "Where mail goes: `smtp://user:pass@host:port` (STARTTLS when the server offers "
            "it), `smtps://...` for TLS from the start. Unset: mail is logged, not sent."),
    Setting("MAIL_FROM", "Forecasts <forecasts@localhost>",
            "The From address of every mail."),
    Setting("SITE_URL", "http://127.0.0.1:5000",
            "The site's public address, for the links in mails (sent by the scheduler, "
            "outside any request)."),
    Setting("STALE_DAYS", 30,
            "Days without an update after which a forecast on an open question is stale."),
    Setting("RATELIMIT_MAIL_ADDRESS", "3/hour",
            "Verification and password-reset mails allowed per email address."),
    Setting("RATELIMIT_MAIL_CLIENT", "10/hour",
            "Verification and password-reset requests allowed per client address."),
)
NAMES = {s.name for s in SETTINGS}
# Each setting's default by name, for services called without the settings.
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
ENVIRONMENTS = ("production", "development", "testing")
# scoring.AGGREGATORS, repeated so that reading the settings does not load numpy
# (tests/test_config.py checks that the two agree).
AGGREGATORS = ("median", "recency_median", "extremized_mean")
DEV_SECRET_KEY = "development-only-not-secret"


def _coerce(setting: Setting, raw: Any) -> Any:
    if raw is None or not isinstance(raw, str):
        return raw
    if isinstance(setting.default, bool):
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{setting.name}: expected true or false, got {raw!r}")
    if isinstance(setting.default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{setting.name}: expected a whole number, got {raw!r}") from None
    if isinstance(setting.default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{setting.name}: expected a number, got {raw!r}") from None
    return raw


def load(overrides: Mapping[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Settings from defaults, then the environment, then `overrides`; validated."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = overrides.get(setting.name, environ.get(setting.name, setting.default))
        values[setting.name] = _coerce(setting, raw)
    env = values["FORECASTS_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"FORECASTS_ENV: expected one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    if env == "production" and values["PASSWORD_HASH_FAST"]:
        raise ConfigError("PASSWORD_HASH_FAST: not allowed when FORECASTS_ENV is production")
    if values["STALE_DAYS"] < 1:
        raise ConfigError(f"STALE_DAYS: expected a whole number of days, at least 1, "
                          f"got {values['STALE_DAYS']!r}")
    if values["SCHEDULER_INTERVAL_S"] < 1:
        raise ConfigError("SCHEDULER_INTERVAL_S: expected a whole number of seconds, at least 1, "
                          f"got {values['SCHEDULER_INTERVAL_S']!r}")
    prior = values["LEADERBOARD_PEER_PRIOR"]
    if isinstance(prior, bool) or not isinstance(prior, (int, float)) or not 0 < prior < math.inf:
        raise ConfigError(f"LEADERBOARD_PEER_PRIOR: expected a number above 0, got {prior!r}")
    if values["CROWD_AGGREGATOR"] not in AGGREGATORS:
        raise ConfigError(f"CROWD_AGGREGATOR: expected one of {', '.join(AGGREGATORS)}, "
                          f"got {values['CROWD_AGGREGATOR']!r}")
    a = values["CROWD_EXTREMIZE_A"]
    if isinstance(a, bool) or not isinstance(a, (int, float)) or not 0 < a < math.inf:
        raise ConfigError(f"CROWD_EXTREMIZE_A: expected a number above 0, got {a!r}")
    instance = Path(values["FORECASTS_INSTANCE_PATH"] or default_instance_path())
    values["FORECASTS_INSTANCE_PATH"] = str(instance)
    if not values["DATABASE_URL"]:
        values["DATABASE_URL"] = f"sqlite:///{instance / 'forecasts.sqlite3'}"
    # Keys Flask itself understands may ride along (TESTING, WTF_CSRF_ENABLED, ...).
    for key, value in overrides.items():
        values.setdefault(key, value)
    return values


def require_secret_key(values: dict[str, Any]) -> None:
    """Fill the development key outside production; refuse to run production without one."""
    if values.get("SECRET_KEY"):
        return
    if values["FORECASTS_ENV"] == "production":
        raise ConfigError("SECRET_KEY is not set; it is required when FORECASTS_ENV is production "
                          "(set FORECASTS_ENV=development for a local trial)")
    values["SECRET_KEY"] = DEV_SECRET_KEY
