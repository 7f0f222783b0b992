"""Rate limits: logins per account and per address, registrations, password changes and
API writes per token; 429 with Retry-After as a page or the API's JSON; shared through
Redis across app instances (as across gunicorn workers)."""
from __future__ import annotations

import socket
import uuid
from datetime import timedelta

import pytest

from forecasts import create_app, timeutil
from forecasts.errors import ConfigError
from forecasts.services import questions, tokens
from forecasts.services.users import create_user
from tests.builders import question_data
from tests.web.conftest import FAST, PASSWORD, Web, add_user

REDIS = ("127.0.0.1", 6379)
WRONG = "not the password at all"


def make_app(env, **settings):
    return create_app({**env, "TESTING": True, "RATELIMIT_ENABLED": "1",
                       **settings})


@pytest.fixture
def limited(env):
    """Apps with limits on (each its own storage unless told otherwise), disposed after."""
    made = []

    def build(**settings):
        app = make_app(env, **settings)
        made.append(app)
        return app

    yield build
    for app in made:
        app.extensions["forecasts_db"].dispose()


def _retry_after(response) -> int:
    value = int(response.headers["Retry-After"])
    assert 1 <= value <= 3600
    return value


def test_failed_logins_per_account_are_throttled_with_a_page(limited):
    app = limited(RATELIMIT_LOGIN_ACCOUNT="3/minute", LOGIN_LOCKOUT_AFTER=100)
    with app.extensions["forecasts_db"].transaction() as s:
        add_user(s, "alice")
    web = Web(app.test_client())
    statuses = [web.post("/login", {"username": "alice", "password": WRONG}).status_code
                for _ in range(3)]
    assert statuses == [401, 401, 401]
    # Another spelling of the same account shares its count; the owner too is held back.
    for username in ("ALICE", "alice"):
        page = web.post("/login", {"username": username, "password": PASSWORD})
        assert page.status_code == 429 and _retry_after(page) <= 60
        assert "Too many requests" in page.text and "<form" not in page.text.split("<main")[-1]
        assert page.mimetype == "text/html" and "Content-Security-Policy" in page.headers
    # Another account is not affected.
    with app.extensions["forecasts_db"].transaction() as s:
        add_user(s, "bob")
    assert web.login("bob").status_code == 303


def test_successful_logins_do_not_count(limited):
    app = limited(RATELIMIT_LOGIN_ACCOUNT="2/minute", RATELIMIT_LOGIN_ADDRESS="2/minute")
    with app.extensions["forecasts_db"].transaction() as s:
        add_user(s, "alice")
    for _ in range(5):
        web = Web(app.test_client())
        assert web.login("alice").status_code == 303


def test_failed_logins_per_address_across_accounts(limited):
    app = limited(RATELIMIT_LOGIN_ADDRESS="4/minute")
    web = Web(app.test_client())
    here = {"REMOTE_ADDR": "198.51.100.7"}
    statuses = [web.post("/login", {"username": f"user{i}", "password": WRONG},
                         environ_base=here).status_code for i in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    # A client that claims another address in X-Forwarded-For is not believed by default.
    spoofed = web.post("/login", {"username": "user9", "password": WRONG},
                       environ_base=here, headers={"X-Forwarded-For": "192.0.2.1"})
    assert spoofed.status_code == 429
    elsewhere = web.post("/login", {"username": "user9", "password": WRONG},
                         environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert elsewhere.status_code == 401


def test_a_trusted_proxy_forwards_the_client_address(limited):
    app = limited(RATELIMIT_LOGIN_ADDRESS="2/minute", RATELIMIT_TRUSTED_PROXIES=1)
    web = Web(app.test_client())
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def attempt(forwarded: str) -> int:
        return web.post("/login", {"username": "someone", "password": WRONG},
                        environ_base=proxy, headers={"X-Forwarded-For": forwarded}).status_code

    # The proxy appends the address it saw; anything left of it is the client's claim.
    assert [attempt("6.6.6.6, 192.0.2.1") for _ in range(3)] == [401, 401, 429]
    assert attempt("7.7.7.7, 192.0.2.1") == 429            # a new claim does not help
    assert attempt("192.0.2.2") == 401                     # another client behind the proxy


def test_a_thousand_registrations_from_one_address_are_mostly_refused(limited):
    app = limited(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    statuses = [client.post("/register", data={"username": f"bot{i}", "password": PASSWORD,
                                               "confirm": PASSWORD}).status_code
                for i in range(1000)]
    assert statuses.count(303) == 5 and statuses.count(429) == 995
    with app.extensions["forecasts_db"].session() as s:
        from sqlalchemy import func, select

        from forecasts.models import User
        assert s.scalar(select(func.count()).select_from(User)) == 5
    # Another address can still register.
    other = client.post("/register", data={"username": "human", "password": PASSWORD,
                                           "confirm": PASSWORD},
                        environ_base={"REMOTE_ADDR": "192.0.2.50"})
    assert other.status_code == 303


def test_password_changes_per_address(limited):
    app = limited(RATELIMIT_PASSWORD="2/minute")
    with app.extensions["forecasts_db"].transaction() as s:
        add_user(s, "alice")
    web = Web(app.test_client())
    web.login("alice")
    statuses = [web.post("/account/password", {"current": WRONG, "new": "x", "confirm": "x"},
                         form_page="/account/password").status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def _queued(app) -> list[str]:
    from sqlalchemy import select

    from forecasts.models import MailMessage
    with app.extensions["forecasts_db"].session() as s:
        return list(s.scalars(select(MailMessage.to_addr).order_by(MailMessage.id)))


def test_mail_requests_per_target_address(limited):
    app = limited(RATELIMIT_MAIL_ADDRESS="2/hour", RATELIMIT_MAIL_CLIENT="100/hour")
    with app.extensions["forecasts_db"].transaction() as s:
        from forecasts.services import email
        email.set_address(s, add_user(s, "alice"), "alice@example.org")

    def forgot(address: str, client_ip: str) -> int:
        return Web(app.test_client()).post(
            "/account/forgot", {"email": address}, form_page="/account/forgot",
            environ_base={"REMOTE_ADDR": client_ip}).status_code

    # Spelt another way, from another address: the same target, the same count.
    statuses = [forgot(a, f"198.51.100.{i}") for i, a in enumerate(
        ["alice@example.org", " ALICE@example.org", "Alice@Example.org"])]
    assert statuses == [303, 303, 429]
    assert _queued(app) == ["alice@example.org"] * 2
    assert forgot("bob@example.org", "198.51.100.9") == 303


def test_mail_requests_per_client_are_counted_across_the_mailing_views(limited):
    app = limited(RATELIMIT_MAIL_CLIENT="3/hour", RATELIMIT_MAIL_ADDRESS="100/hour",
                  RATELIMIT_REGISTER="100/hour")
    web = Web(app.test_client())
    here = {"REMOTE_ADDR": "198.51.100.7"}

    def register(name: str, address: str) -> int:
        return web.post("/register", {"username": name, "password": PASSWORD,
                                      "confirm": PASSWORD, "email": address},
                        form_page="/register", environ_base=here).status_code

    assert register("carol", "") == 303          # no address, no mail: not counted
    assert register("dave", "dave@example.org") == 303
    assert web.post("/account/email", {"email": "d2@example.org", "current": PASSWORD},
                    form_page="/account/email", environ_base=here).status_code == 303
    assert web.post("/account/forgot", {"email": "x@example.org"}, form_page="/account/forgot",
                    environ_base=here).status_code == 303
    refused = web.post("/account/email", {"email": "d3@example.org", "current": PASSWORD},
                       form_page="/account/email", environ_base=here)
    assert refused.status_code == 429 and 1 <= _retry_after(refused) <= 3600
    assert register("erin", "erin@example.org") == 429
    assert _queued(app) == ["dave@example.org", "d2@example.org"]
    other = Web(app.test_client()).post("/account/forgot", {"email": "x@example.org"},
                                        form_page="/account/forgot",
                                        environ_base={"REMOTE_ADDR": "198.51.100.8"})
    assert other.status_code == 303


@pytest.fixture
def api_world(limited):
    def build(**settings):
        app = limited(**settings)
        now = timeutil.now()
        with app.extensions["forecasts_db"].transaction() as s:
            owners = [create_user(s, name, password=PASSWORD, passwords=FAST)
                      for name in ("alice", "bob")]
            plain = [tokens.create_token(s, user, "t")[1] for user in owners]
            questions.create_question(s, question_data(
                slug="open-q", open_at=timeutil.iso(now - timedelta(days=1)),
                close_at=timeutil.iso(now + timedelta(days=300))))
        return app, plain
    return build


def test_a_tokens_two_thousand_writes_a_minute_are_throttled(api_world):
    app, (alice, bob) = api_world()
    client = app.test_client()

    def write(token: str, p: float = 0.4):
        return client.post("/api/v1/questions/open-q/forecasts", json={"probability": p},
                           headers={"Authorization": f"Bearer {token}"})

    answers = [write(alice, 0.3 + (i % 5) / 10) for i in range(2000)]
    statuses = [a.status_code for a in answers]
    assert statuses.count(201) == 120 and statuses.count(429) == 1880
    assert statuses.index(429) == 120
    refused = answers[-1]
    assert refused.get_json()["error"]["code"] == "rate_limited"
    documented = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "429" in documented["/questions/{slug}/forecasts"]["post"]["responses"]
    assert "message" in refused.get_json()["error"] and _retry_after(refused) <= 60
    # Reads are not writes, and another token has its own count.
    assert client.get("/api/v1/questions").status_code == 200
    assert write(bob).status_code == 201


def test_disabled_limits_never_refuse(env, session):
    app = create_app({**env, "TESTING": True})  # the suite's default: RATELIMIT_ENABLED=0
    try:
        web = Web(app.test_client())
        assert {web.post("/login", {"username": f"u{i}", "password": WRONG}).status_code
                for i in range(40)} == {401}
    finally:
        app.extensions["forecasts_db"].dispose()


@pytest.mark.parametrize("name", ["RATELIMIT_LOGIN_ACCOUNT", "RATELIMIT_API_WRITE",
                                  "RATELIMIT_MAIL_CLIENT", "RATELIMIT_MAIL_ADDRESS"])
def test_a_bad_limit_setting_is_named(env, name):
    with pytest.raises(ConfigError, match=name):
        make_app(env, **{name: "lots"})


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_prefix():
    """A key prefix unique to this run; its keys are deleted afterwards."""
    if not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis

    prefix = f"forecasts-test-{uuid.uuid4().hex}"
    yield prefix
    server = redis.Redis(*REDIS)
    keys = list(server.scan_iter(match=f"*{prefix}*"))
    if keys:
        server.delete(*keys)
    assert not list(server.scan_iter(match=f"*{prefix}*"))
    server.close()


def test_redis_shares_the_counts_between_app_instances(limited, redis_prefix):
    """Two apps on one Redis stand for two gunicorn workers: a limit is one budget."""
    shared = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0",
              "RATELIMIT_KEY_PREFIX": redis_prefix, "RATELIMIT_LOGIN_ADDRESS": "4/minute"}
    first, second = limited(**shared), limited(**shared)
    clients = [Web(first.test_client()), Web(second.test_client())]
    statuses = [clients[i % 2].post("/login", {"username": f"u{i}", "password": WRONG})
                .status_code for i in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    import redis

    assert list(redis.Redis(*REDIS).scan_iter(match=f"*{redis_prefix}*"))  # really in Redis
    # A separate memory-backed app keeps its own count.
    alone = Web(limited(RATELIMIT_LOGIN_ADDRESS="4/minute").test_client())
    assert alone.post("/login", {"username": "u", "password": WRONG}).status_code == 401


def test_an_unreachable_storage_falls_back_to_memory(limited):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    app = limited(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0",
                  RATELIMIT_LOGIN_ADDRESS="2/minute")
    web = Web(app.test_client())
    statuses = [web.post("/login", {"username": "u", "password": WRONG}).status_code
                for _ in range(3)]
    assert statuses == [401, 401, 429]
