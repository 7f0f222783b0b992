"""API fixtures: a client whose every response is checked against the OpenAPI document,
and a small world of questions in each state around the real current time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from forecasts import timeutil
from forecasts.services import comments, questions, resolution, tournaments
from forecasts.services.forecasts import submit_forecast
from forecasts.services.tokens import create_token
from forecasts.services.users import create_user
from tests.api import spec
from tests.builders import SHOW_CROWD, mc_data, question_data


class Api:
    """The test client with bearer tokens; each response must match the document."""

    def __init__(self, client):
        self.client = client

    def request(self, method: str, path: str, *, token: str | None = None,
                headers: dict[str, str] | None = None, **kwargs: Any):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        if method != "HEAD":
            response.body = spec.validate(method, path.partition("?")[0], response)
        return response

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)


@pytest.fixture
def api(client) -> Api:
    return Api(client)


def window(open_days: float, close_days: float) -> dict[str, str]:
    """open_at and close_at relative to now, in days (negative: in the past)."""
    now = timeutil.now()
    return {"open_at": timeutil.iso(now + timedelta(days=open_days)),
            "close_at": timeutil.iso(now + timedelta(days=close_days))}


@dataclass
class World:
    """Plain values only: touching ORM rows after the arranging session ends would open a
    transaction in it (and on SQLite take the write lock the app needs)."""

    user_ids: dict[str, int]
    tokens: dict[str, str]
    slugs: dict[str, str]


def read(database, stmt):
    """One value read in a short read-only session, for checks."""
    with database.session() as session:
        return session.execute(stmt).scalar()


@pytest.fixture
def world(session) -> World:
    """alice and bob with tokens; questions open (binary, multiple choice, ordered),
    upcoming, closed, resolved (both forecast it) and annulled; tournaments spring-cup
    (resolved and open questions, alice and bob) and empty-cup."""
    now = timeutil.now()
    users = {name: create_user(session, name) for name in ("alice", "bob")}
    tokens = {name: create_token(session, user, "tests")[1] for name, user in users.items()}
    make = questions.create_question
    # The open and upcoming questions show their crowd: the API is tested for it.
    qs = {
        "open": make(session, question_data(slug="strike-open", tags=["security", "trade"],
                                            **SHOW_CROWD, **window(-30, 365))),
        "mc": make(session, mc_data(slug="partner-open", **SHOW_CROWD, **window(-30, 200))),
        "ordered": make(session, mc_data(slug="tariff-bins", options=["low", "mid", "high"],
                                         ordered=True, tags=["trade"], **SHOW_CROWD,
                                         **window(-30, 100))),
        "upcoming": make(session, question_data(slug="strike-later", title="Later question",
                                                **SHOW_CROWD, **window(10, 400))),
        "closed": make(session, question_data(slug="strike-closed", title="Closed question",
                                              **window(-60, -1))),
        "resolved": make(session, question_data(slug="strike-resolved", title="Resolved question",
                                                **window(-90, -10))),
        "annulled": make(session, question_data(slug="strike-annulled", title="Annulled one",
                                                **window(-90, -10))),
    }
    for name, p, days in (("alice", 0.8, 80), ("bob", 0.3, 70), ("alice", 0.9, 40)):
        submit_forecast(session, qs["resolved"], users[name], probability=p,
                        rationale=f"{name} thinks {p}", at=now - timedelta(days=days))
    submit_forecast(session, qs["open"], users["bob"], probability=0.25,
                    at=now - timedelta(days=5))
    submit_forecast(session, qs["mc"], users["bob"], probabilities=[0.4, 0.3, 0.2, 0.1],
                    at=now - timedelta(days=4))
    for name, text in (("alice", "What drives this?"), ("bob", "Base rates, mostly.")):
        comments.post_comment(session, qs["open"], users[name], text)
    resolution.resolve(session, qs["resolved"], "yes", actor="root", now=now - timedelta(days=9))
    resolution.annul(session, qs["annulled"], "the premise failed", actor="root")
    # Two tournaments, so that their list has a second page: one with alice and bob on
    # the resolved question and an open one, one still empty.
    tournaments.create(session, "spring-cup", "Spring cup")
    tournaments.add_questions(session, "spring-cup", [qs["resolved"].slug, qs["open"].slug])
    for name in ("alice", "bob"):
        tournaments.join(session, "spring-cup", name)
    tournaments.create(session, "empty-cup", "Empty cup")
    session.commit()
    return World({name: user.id for name, user in users.items()}, tokens,
                 {key: question.slug for key, question in qs.items()})
