"""The anonymous page cache (forecasts/web/page_cache.py) and the write version it is keyed
on (forecasts/write_version.py): a hit is the page as rendered, any committed write ends
every entry, a logged-in reader or a token never gets one."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from forecasts import create_app, write_version
from forecasts.errors import ConfigError
from forecasts.services.forecasts import submit_forecast
from tests.web.conftest import TOKEN, Web

PAGES = ["/", "/questions/strike-open", "/questions/strike-resolved", "/leaderboard",
         "/users/bob", "/api/v1/questions", "/api/v1/questions/strike-open"]


@pytest.fixture
def cached_app(env):
    app = create_app({**env, "TESTING": True, "PAGE_CACHE_SECONDS": 60})
    yield app
    app.extensions["forecasts_db"].dispose()


@pytest.fixture
def fresh(app):
    """The same database without the page cache: what a page renders to now."""
    client = app.test_client()
    return lambda path: client.get(path).get_data()


def version(database) -> int:
    with database.session() as s:
        return write_version.current(s)


@pytest.mark.parametrize("path", PAGES)
def test_a_second_anonymous_read_is_the_page_from_one_statement(cached_app, world, fresh, path):
    client = cached_app.test_client()
    first = client.get(path)
    assert first.status_code == 200 and "X-Page-Cache" not in first.headers
    with cached_app.extensions["forecasts_db"].statements() as seen:
        again = client.get(path)
    assert again.headers["X-Page-Cache"] == "hit"
    assert again.get_data() == first.get_data() == fresh(path)
    assert again.content_type == first.content_type
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    assert [s for s in seen if s.lstrip().upper().startswith("SELECT")] == [
        s for s in seen if "counters" in s]


def test_a_committed_forecast_ends_every_entry(cached_app, world, fresh, session, database):
    client = cached_app.test_client()
    for path in PAGES:
        client.get(path)
    before = version(database)
    submit_forecast(session, world["binary"], world["users"]["alice"], probability=0.6)
    session.commit()
    assert version(database) > before
    for path in PAGES:
        page = client.get(path)
        assert "X-Page-Cache" not in page.headers, path
        assert page.get_data() == fresh(path), path
    assert "2 forecasters" in client.get("/questions/strike-open").text


def test_a_transaction_that_writes_nothing_or_rolls_back_keeps_the_version(world, database):
    before = version(database)
    with database.transaction() as s:
        s.execute(text("SELECT count(*) FROM questions"))
    with pytest.raises(RuntimeError), database.transaction() as s:
        s.execute(text("UPDATE questions SET title = 'changed' WHERE slug = 'strike-open'"))
        raise RuntimeError("undo")
    assert version(database) == before
    with database.transaction() as s:  # a raw statement counts as a write too
        s.execute(text("UPDATE questions SET title = 'changed' WHERE slug = 'strike-open'"))
    assert version(database) == before + 1


def test_logged_in_readers_and_tokens_never_get_a_cached_page(cached_app, world, session):
    anonymous = cached_app.test_client()
    for _ in range(2):
        anonymous.get("/questions/strike-open")
        anonymous.get("/api/v1/questions")
    web = Web(cached_app.test_client())
    web.login("alice")
    for _ in range(2):  # the first shows the welcome, flashed in the session
        page = web.get("/questions/strike-open")
        assert "X-Page-Cache" not in page.headers and "alice" in page.text
    from forecasts.services import tokens
    secret = tokens.create_token(session, world["users"]["bob"], "test")[1]
    session.commit()
    api = cached_app.test_client().get("/api/v1/questions",
                                       headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200 and "X-Page-Cache" not in api.headers


def test_pages_that_start_a_session_are_not_kept(cached_app, world):
    client = cached_app.test_client()
    tokens = []
    for _ in range(3):  # its form's CSRF token lives in the session, made on the first
        page = client.get("/login")
        assert page.status_code == 200 and "X-Page-Cache" not in page.headers
        tokens.append(TOKEN.search(page.text).group(1))
    stranger = cached_app.test_client().get("/login")
    assert "X-Page-Cache" not in stranger.headers
    assert TOKEN.search(stranger.text).group(1) not in tokens
    for _ in range(2):
        missing = client.get("/questions/no-such-question")
        assert missing.status_code == 404 and "X-Page-Cache" not in missing.headers


@pytest.mark.parametrize("value", [-1, "soon", True])
def test_a_bad_setting_is_refused_by_name(env, value):
    with pytest.raises(ConfigError, match="PAGE_CACHE_SECONDS"):
        create_app({**env, "TESTING": True, "PAGE_CACHE_SECONDS": value})


def test_bulk_inserts_through_the_driver_count_as_writes(world, database):
    from forecasts import bulk

    before = version(database)
    with database.transaction() as s:
        bulk.insert_rows(s, "counters", ["name", "value"], [("bulk-test", 1)])
    assert version(database) == before + 1
