"""Two gunicorn workers, each caching leaderboards and anonymous pages (in Redis, or each in
its own process): once a resolution commits, no request gets the board from before it
(issue #10)."""
from __future__ import annotations

import json
import uuid

import pytest

from forecasts.services import leaderboard
from tests import servers
from tests.builders import bundle, question_data

REQUESTS = 40
REDIS_URL = "redis://127.0.0.1:6379/0"
PARAMS = (leaderboard.DEFAULT_BOOTSTRAP, leaderboard.DEFAULT_SEED, leaderboard.DEFAULT_PEER_PRIOR)
# The page's default board comes from its snapshot; the tag and the minimum from the cache.
PAGES = ["/leaderboard", "/leaderboard?tag=security", "/leaderboard?min_questions=1&metric=log"]
API = ["/api/v1/leaderboard", "/api/v1/leaderboard?tag=security&with_crowd=true",
       "/api/v1/leaderboard?metric=brier&min_questions=1"]


def world() -> dict:
    """Two closed questions: one-q settled by the import; two-q, which carol alone of the three
    forecast besides alice, still to resolve."""
    window = {"open_at": "2025-01-01T00:00:00Z", "close_at": "2025-06-01T00:00:00Z"}
    q1 = question_data(slug="one-q", title="One", resolution={"outcome": "yes"}, **window)
    q2 = question_data(slug="two-q", title="Two", **window)
    at = "2025-02-01T00:00:00Z"
    forecasts = [{"question": "one-q", "user": "alice", "at": at, "probability": 0.7},
                 {"question": "one-q", "user": "bob", "at": at, "probability": 0.4},
                 {"question": "two-q", "user": "alice", "at": at, "probability": 0.6},
                 {"question": "two-q", "user": "carol", "at": at, "probability": 0.9}]
    return bundle(questions_=[q1, q2], forecasts=forecasts, users=["alice", "bob", "carol"])


def expected_api(database, path: str):
    """The API's rows for `path`, freshly computed from the stored scores."""
    query = dict(p.split("=") for p in path.partition("?")[2].split("&") if p)
    with database.session() as s:
        chosen = leaderboard.question_filter(query.get("tag"), None, None)
        rows = leaderboard.compute(s, chosen, query.get("metric", leaderboard.DEFAULT_METRIC),
                                   int(query.get("min_questions", 1)),
                                   query.get("with_crowd") == "true", *PARAMS)
    return json.loads(json.dumps(rows))


def hit(server, resolved: bool, database) -> dict:
    """REQUESTS requests over the pages and API calls, each on a new connection (so both
    workers answer); every one shows carol exactly when two-q is resolved, and each API
    answer equals a fresh computation. Returns those."""
    expected = {path: expected_api(database, path) for path in API}
    for i in range(REQUESTS):
        path = (PAGES + API)[i % (len(PAGES) + len(API))]
        status, body = server.request("GET", path,
                                      headers=None if path in expected else {"Accept": "text/html"})
        assert status == 200, (path, body)
        if path in expected:
            assert body == expected[path], path
            body = json.dumps(body)
        assert ("carol" in body) == resolved, (i, path, resolved)
    return expected


def page_cache_header(server, path: str) -> str | None:
    conn = server.connection()
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.getheader("X-Page-Cache")
    finally:
        conn.close()


@pytest.fixture(params=["redis", "in-process"])
def cache_env(request, env):
    env = {**env, "PAGE_CACHE_SECONDS": "600"}  # only the write version may end an entry
    if request.param == "in-process":
        yield dict(env)
        return
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test-cache-workers-{uuid.uuid4().hex}:"
    yield {**env, "CACHE_URL": REDIS_URL, "CACHE_KEY_PREFIX": prefix}
    keys = list(client.scan_iter(match=prefix + "*"))
    client.delete(*keys) if keys else None
    assert keys, "the workers cached nothing in Redis"


def test_no_worker_serves_the_board_from_before_a_resolution(cache_env, runner, tmp_path,
                                                           database):
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world()))
    assert runner("import", str(path)).exit_code == 0
    with servers.gunicorn(cache_env, tmp_path / "gunicorn.log", workers=2) as server:
        assert len(server.children()) == 2
        hit(server, False, database)  # both workers have cached every board and page
        assert "hit" in [page_cache_header(server, PAGES[0]) for _ in range(4)]
        result = runner("resolve", "two-q", "yes")  # committed when it returns
        assert result.exit_code == 0, result.stderr
        resolved = hit(server, True, database)
        # A correction changes scores but not which questions a filter chooses: only the
        # score version tells the cached boards are old.
        result = runner("resolve", "one-q", "no", "--force")
        assert result.exit_code == 0, result.stderr
        corrected = hit(server, True, database)
        assert all(corrected[path] != resolved[path] for path in API)
