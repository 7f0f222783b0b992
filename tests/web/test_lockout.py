"""Lockout after failed logins: exponential and capped, counted atomically, answering
exactly as a wrong password does, and over when announced."""
from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from datetime import timedelta

import pytest

from forecasts import create_app, timeutil
from forecasts.models import User
from forecasts.passwords import Passwords
from forecasts.services import users
from forecasts.services.users import Lockout, attempt_login
from tests.web.conftest import FAST, PASSWORD, TOKEN, Web, add_user

WRONG = "not the password at all"


def test_lock_lengths_double_from_the_base_up_to_the_cap():
    policy = Lockout(after=5, base_s=30, cap_s=900)
    assert [policy.window(n) for n in range(5)] == [None] * 5
    seconds = [policy.window(n).total_seconds() for n in range(5, 12)]
    assert seconds == [30, 60, 120, 240, 480, 900, 900]
    assert policy.window(10 ** 6).total_seconds() == 900  # no overflow, still capped
    # The same rule written independently: 2^(n-5) x 30 s, at most 15 minutes.
    for n in range(5, 40):
        assert policy.window(n).total_seconds() == min(2 ** (n - 5) * 30, 900)


class CountingPasswords(Passwords):
    """The real (cheap) hasher, counting how many hashes it verified."""

    def __init__(self):
        super().__init__(fast=True)
        self.verified = 0

    def verify(self, password_hash, password):
        self.verified += 1
        return super().verify(password_hash, password)


def test_locks_after_five_failures_refuses_uncounted_and_ends_when_announced(session):
    alice = add_user(session, "alice")
    now = timeutil.now()
    policy = Lockout()
    for n in range(1, 5):
        attempt = attempt_login(session, "alice", WRONG, FAST, now=now)
        assert (attempt.user, attempt.locked, attempt.failures) == (None, False, n)
    assert attempt_login(session, "alice", WRONG, FAST, now=now).locked
    assert alice.locked_until == now + timedelta(seconds=30)
    # During the lock even the right password fails, and nothing is counted.
    during = attempt_login(session, "alice", PASSWORD, FAST, now=now + timedelta(seconds=29))
    assert during.user is None and during.locked and alice.failed_logins == 5
    # A failure after the window: the sixth, locking twice as long.
    later = now + timedelta(seconds=31)
    assert attempt_login(session, "alice", WRONG, FAST, lockout=policy, now=later).failures == 6
    assert alice.locked_until == later + timedelta(seconds=60)
    # After that window the owner is in, and the count starts again.
    done = later + timedelta(seconds=61)
    assert attempt_login(session, "alice", PASSWORD, FAST, now=done).user is alice
    assert alice.failed_logins == 0 and alice.locked_until is None


def test_a_success_resets_the_count(session):
    alice = add_user(session, "alice")
    for _ in range(4):
        attempt_login(session, "alice", WRONG, FAST)
    assert attempt_login(session, "alice", PASSWORD, FAST).user is alice
    assert alice.failed_logins == 0
    assert not attempt_login(session, "alice", WRONG, FAST).locked  # 1 failure, not 5


def test_every_refusal_verifies_one_hash(session):
    """Unknown, wrong, locked (even with the right password) and deactivated all cost one
    verification, like a success: the timing does not tell them apart."""
    add_user(session, "alice")
    gone = add_user(session, "gone")
    users.deactivate(session, gone)
    hasher = CountingPasswords()
    cases = [("nobody", PASSWORD), ("alice", WRONG), ("gone", PASSWORD)]
    for _ in range(5):
        cases.append(("alice", WRONG))
    cases += [("alice", PASSWORD)]  # locked now
    for username, password in cases:
        before = hasher.verified
        assert attempt_login(session, username, password, hasher).user is None
        assert hasher.verified == before + 1, username


def _normalised(response) -> str:
    # The CSRF token differs on every page; everything else must be identical.
    return TOKEN.sub("csrf", response.get_data(as_text=True))


def test_a_locked_account_answers_exactly_as_a_wrong_password(web, session, database):
    add_user(session, "alice")
    add_user(session, "alicf")  # same length, so the echoed username does not differ
    session.commit()
    wrong = web.post("/login", {"username": "alicf", "password": WRONG})
    for _ in range(5):
        web.post("/login", {"username": "alice", "password": WRONG})
    locked_right = web.post("/login", {"username": "alice", "password": PASSWORD})
    unknown = web.post("/login", {"username": "alicx", "password": PASSWORD})
    assert wrong.status_code == locked_right.status_code == unknown.status_code == 401
    expected = _normalised(wrong).replace("alicf", "USER")
    assert _normalised(locked_right).replace("alice", "USER") == expected
    assert _normalised(unknown).replace("alicx", "USER") == expected
    assert "unknown username or wrong password" in wrong.text
    with database.session() as s:
        alice = users.get_user(s, "alice")
        assert alice.failed_logins == 5 and alice.locked_until > timeutil.now()


def test_the_owner_logs_in_after_a_short_window(env):
    app = create_app({**env, "TESTING": True, "LOGIN_LOCKOUT_AFTER": "3",
                      "LOGIN_LOCKOUT_BASE_S": "0.5", "LOGIN_LOCKOUT_MAX_S": "1"})
    try:
        with app.extensions["forecasts_db"].transaction() as s:
            add_user(s, "alice")
        web = Web(app.test_client())
        for _ in range(3):
            assert web.post("/login", {"username": "alice", "password": WRONG}).status_code == 401
        assert web.post("/login", {"username": "alice", "password": PASSWORD}).status_code == 401
        time.sleep(0.6)
        assert web.login("alice").status_code == 303
    finally:
        app.extensions["forecasts_db"].dispose()


def test_failed_logins_and_lockouts_are_logged_with_username_and_address(web, session, caplog):
    add_user(session, "alice")
    session.commit()
    with caplog.at_level(logging.WARNING, logger="forecasts.auth"):
        for _ in range(6):
            web.post("/login", {"username": "alice", "password": WRONG},
                     environ_base={"REMOTE_ADDR": "203.0.113.9"})
    messages = [r.getMessage() for r in caplog.records if r.name == "forecasts.auth"]
    assert len(messages) == 6
    assert all("'alice'" in m and "203.0.113.9" in m for m in messages)
    assert "failed login" in messages[0] and "locked" in messages[-1]
    assert not any(WRONG in m for m in messages)  # never the password


def test_concurrent_failures_all_count(database, session):
    """20 simultaneous wrong passwords, each in its own transaction: the count is 20, not
    whatever the last writer thought it was (a read-modify-write would lose some)."""
    add_user(session, "alice")
    session.commit()
    policy = Lockout(after=1000, base_s=30, cap_s=900)  # never locks: every attempt counts
    start = threading.Barrier(20)
    errors = []

    def guess():
        try:
            start.wait(10)
            with database.transaction() as s:
                attempt_login(s, "alice", WRONG, FAST, lockout=policy)
        except Exception as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    with database.session() as s:
        assert s.get(User, users.get_user(s, "alice").id).failed_logins == 20


def test_a_refused_login_stores_only_the_count(web, session, database):
    # A refused login stores the count only: no session starts, no other column moves.
    epoch = add_user(session, "alice").session_epoch
    session.commit()
    web.post("/login", {"username": "alice", "password": WRONG})
    assert web.get("/tokens").status_code == 302  # still logged out
    with database.session() as s:
        alice = users.get_user(s, "alice")
        assert (alice.failed_logins, alice.session_epoch, alice.locked_until) == (1, epoch, None)


@pytest.mark.parametrize("name, value", [("LOGIN_LOCKOUT_AFTER", "0"),
                                         ("LOGIN_LOCKOUT_BASE_S", "-1"),
                                         ("LOGIN_LOCKOUT_MAX_S", "1")])
def test_bad_lockout_settings_are_named(env, name, value):
    from forecasts.errors import ConfigError

    with pytest.raises(ConfigError, match=name):
        create_app({**env, name: value})



# --- against a production server ---------------------------------------------

class Browser:
    """Just enough of a browser over http.client: keeps the session cookie (sent back
    by hand, as it is Secure) and the page's CSRF token."""

    def __init__(self, server):
        self.server, self.cookie, self.set_cookies = server, "", []

    def request(self, method: str, path: str, form: dict | None = None):
        from urllib.parse import urlencode

        conn = self.server.connection()
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            self.cookie = header.split(";", 1)[0]
        return response.status, response.headers, text

    def login(self, username: str, password: str):
        _, _, page = self.request("GET", "/login")
        token = TOKEN.search(page).group(1)
        return self.request("POST", "/login", {"csrf_token": token, "username": username,
                                               "password": password})


@contextlib.contextmanager
def production_server(env, tmp_path, **settings):
    """waitress as `forecasts serve` with FORECASTS_ENV=production: real argon2 cost,
    Secure cookies and the rate limits on, plus `settings`."""
    from tests import servers

    process_env = {key: value for key, value in os.environ.items()
                   if key not in ("PASSWORD_HASH_FAST", "RATELIMIT_ENABLED")}
    process_env.update({
        "DATABASE_URL": env["DATABASE_URL"], "FORECASTS_INSTANCE_PATH": str(tmp_path / "i"),
        "FORECASTS_ENV": "production", "SECRET_KEY": "a production-like secret " + "x" * 20,
        "PYTHONUNBUFFERED": "1", **settings})
    port = servers.free_port()
    args = [str(servers.BIN / "forecasts"), "serve", "--no-scheduler", "--host", servers.HOST,
            "--port", str(port), "--threads", "4"]
    with servers._run(args, process_env, port, tmp_path / "server.log") as server:
        yield server


def test_a_production_server_throttles_or_locks_and_lets_the_owner_back(env, database, tmp_path):
    """waitress with FORECASTS_ENV=production (real argon2 cost, Secure cookies, limits on):
    20 wrong passwords are refused as wrong passwords or throttled, the right password
    during the lock is refused the same way, and the owner logs in once the window is over."""
    with database.transaction() as s:
        users.create_user(s, "alice", password=PASSWORD, passwords=Passwords())
    # Short windows keep the test fast; the defaults are 30 s to 15 min and 10/minute.
    with production_server(env, tmp_path, LOGIN_LOCKOUT_BASE_S="1", LOGIN_LOCKOUT_MAX_S="2",
                           RATELIMIT_LOGIN_ACCOUNT="10 per 3 seconds") as server:
        stranger = Browser(server)
        status, _, wrong_page = stranger.login("alicx", WRONG)  # unknown user, same length
        assert status == 401
        expected = TOKEN.sub("csrf", wrong_page).replace("alicx", "USER")
        attacker = Browser(server)
        answers = [attacker.login("alice", WRONG) for _ in range(20)]
        statuses = [status for status, _, _ in answers]
        assert set(statuses) <= {401, 429} and statuses[:5] == [401] * 5
        assert statuses.count(429) >= 5  # the account's limit: 10 failures per window
        for status, headers, page in answers:
            if status == 401:  # wrong and locked alike: the same page
                assert TOKEN.sub("csrf", page).replace("alice", "USER") == expected
            else:
                assert int(headers["Retry-After"]) >= 1 and "Too many requests" in page
        owner = Browser(server)
        status, _, page = owner.login("alice", PASSWORD)  # during the lock: refused
        assert status in (401, 429)
        if status == 401:
            assert TOKEN.sub("csrf", page).replace("alice", "USER") == expected
        time.sleep(3.5)  # past the longest lock (2 s) and the limit's window (3 s)
        status, headers, _ = owner.login("alice", PASSWORD)
        assert status == 303, server.output()
        session_cookie = owner.set_cookies[-1]
        assert session_cookie.startswith("__Host-session=")
        assert all(flag in session_cookie for flag in ("Secure", "HttpOnly", "SameSite=Lax",
                                                       "Path=/"))
        assert "Domain" not in session_cookie
    with database.session() as s:
        alice = users.get_user(s, "alice")
        assert (alice.failed_logins, alice.locked_until) == (0, None)


def test_a_production_server_refuses_mass_registration_and_throttles_a_token(
        env, database, tmp_path):
    """With the default limits: 1,000 registrations from one address in a minute are
    mostly refused, and one token's 2,000 writes in a minute are throttled (429 with
    Retry-After, in the API's error shape)."""
    from sqlalchemy import func, select

    from forecasts.services import questions, tokens
    from tests import servers
    from tests.builders import question_data

    now = timeutil.now()
    with database.transaction() as s:
        owner = users.create_user(s, "alice", password=PASSWORD, passwords=FAST)
        token = tokens.create_token(s, owner, "script")[1]
        questions.create_question(s, question_data(
            slug="open-q", open_at=timeutil.iso(now - timedelta(days=1)),
            close_at=timeutil.iso(now + timedelta(days=300))))
    with production_server(env, tmp_path) as server:
        def register(i: int) -> int:
            bot = Browser(server)  # a fresh session and form each time, as a script would
            _, _, page = bot.request("GET", "/register")
            return bot.request("POST", "/register", {
                "csrf_token": TOKEN.search(page).group(1), "username": f"bot{i}",
                "password": "a long new passphrase", "confirm": "a long new passphrase"})[0]

        statuses = [register(i) for i in range(1000)]
        assert statuses.count(429) >= 990 and statuses.count(303) <= 10, server.output()
        conn = server.connection()
        try:
            answers = [servers.send(conn, "POST", "/api/v1/questions/open-q/forecasts",
                                    {"probability": 0.2 + (i % 5) / 10},
                                    {"Authorization": f"Bearer {token}"})
                       for i in range(2000)]
        finally:
            conn.close()
        codes = [status for status, _ in answers]
        assert set(codes) == {201, 429} and codes.count(201) <= 150, server.output()
        assert answers[-1][1]["error"]["code"] == "rate_limited"
    with database.session() as s:
        from forecasts.models import Forecast
        assert s.scalar(select(func.count()).select_from(Forecast)) == codes.count(201)
        assert s.scalar(select(func.count()).select_from(User)) == 1 + statuses.count(303)
