"""Web fixtures: a client that sends CSRF tokens like a browser, and a small world of
questions (open, closed, resolved) around the real current time."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forecasts import timeutil
from forecasts.passwords import Passwords
from forecasts.services import questions, resolution
from forecasts.services.forecasts import submit_forecast
from forecasts.services.users import create_user
from tests.builders import SHOW_CROWD, mc_data, question_data

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
FAST = Passwords(fast=True)


class Web:
    """The test client used the way a browser uses the site: forms carry the CSRF
    token of the page they came from."""

    def __init__(self, client):
        self.client = client

    def get(self, path: str, **kwargs):
        return self.client.get(path, **kwargs)

    def token(self, path: str = "/login") -> str:
        page = self.client.get(path)
        match = TOKEN.search(page.get_data(as_text=True))
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post(self, path: str, data: dict | None = None, *, form_page: str = "/login", **kwargs):
        data = {"csrf_token": self.token(form_page), **(data or {})}
        return self.client.post(path, data=data, **kwargs)

    def login(self, username: str, password: str = PASSWORD):
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 303, response.get_data(as_text=True)
        return response


@pytest.fixture
def web(client) -> Web:
    return Web(client)


def add_user(session, name: str, *, role: str = "forecaster", password: str | None = PASSWORD):
    return create_user(session, name, password=password, role=role, passwords=FAST)


def around_now(**changes):
    """Question dates relative to now: opened 30 days ago, closing in a year."""
    now = timeutil.now()
    dates = {"open_at": timeutil.iso(now - timedelta(days=30)),
             "close_at": timeutil.iso(now + timedelta(days=365))}
    return {**dates, **changes}


@pytest.fixture
def world(session):
    """alice and bob (forecasters), root (admin); an open binary and an open multiple-choice
    question; a closed one; and a resolved one that both forecast."""
    now = timeutil.now()
    users = {name: add_user(session, name) for name in ("alice", "bob")}
    users["root"] = add_user(session, "root", role="admin")
    # The open questions show their crowd: these pages are tested for it.
    binary = questions.create_question(session, question_data(slug="strike-open", **SHOW_CROWD,
                                                              **around_now()))
    mc = questions.create_question(session, mc_data(slug="partner-open", **SHOW_CROWD,
                                                    **around_now()))
    closed = questions.create_question(session, question_data(
        slug="strike-closed", title="Closed question", tags=["trade"],
        open_at=timeutil.iso(now - timedelta(days=60)), close_at=timeutil.iso(now - timedelta(days=1))))
    settled = questions.create_question(session, question_data(
        slug="strike-resolved", title="Resolved question",
        open_at=timeutil.iso(now - timedelta(days=90)), close_at=timeutil.iso(now - timedelta(days=10))))
    for name, p, days in (("alice", 0.8, 80), ("bob", 0.3, 70), ("alice", 0.9, 40)):
        submit_forecast(session, settled, users[name], probability=p,
                        rationale=f"{name} thinks {p}", at=now - timedelta(days=days))
    submit_forecast(session, binary, users["bob"], probability=0.25, rationale="Bob's reasoning",
                    at=now - timedelta(days=5))
    resolution.resolve(session, settled, "yes", actor="root", now=now - timedelta(days=9))
    session.commit()
    return {"users": users, "binary": binary, "mc": mc, "closed": closed, "resolved": settled}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the test item, so fixtures can see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
