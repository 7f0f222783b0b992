"""Query budgets: the SQL statements a page or endpoint runs must not grow with the rows
it shows (no N+1). Each page is measured on a small world, the world is grown to many
more questions, users and forecasts, and the page is measured again."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.models import Question, User
from forecasts.services import comments, resolution, tournaments
from forecasts.services.forecasts import submit_forecast
from forecasts.services.questions import create_question
from tests.builders import SHOW_CROWD, mc_data, question_data
from tests.web.conftest import Web, add_user

# Pages and endpoints, as format strings over the world's names.
PAGES = {
    "question list": "/",
    "question list, open": "/?status=open",
    "question list, most forecasters": "/?sort=forecasters",
    "question page": "/questions/{open}",
    "resolved question page": "/questions/{resolved}",
    "crowd chart": "/questions/{open}/crowd.svg",
    "resolved crowd chart": "/questions/{resolved}/crowd.svg",
    "leaderboard": "/leaderboard",
    "profile": "/users/{user}",
    "api question list": "/api/v1/questions",
    "api question list, most forecasters": "/api/v1/questions?sort=forecasters",
    "api question detail": "/api/v1/questions/{open}",
    "api question comments": "/api/v1/questions/{open}/comments",
    "api leaderboard": "/api/v1/leaderboard",
    "profile compared with a user": "/users/{user}?compare=user1",
    "profile compared with the crowd": "/users/{user}?compare=crowd",
    "tournaments": "/tournaments",
    "tournament page": "/tournaments/{tournament}",
    "question list, tournament": "/?tournament={tournament}",
    "track record": "/users/{user}/track-record",
    "track record, filtered": "/users/{user}/track-record?tag=security&tournament={tournament}",
}


def counting(app):
    """Count the SQL statements run on the app's engine inside the block."""
    return app.extensions["forecasts_db"].statements()


def grow(session, rng: random.Random, start: int, n_questions: int, n_users: int) -> None:
    """Questions start..start+n-1 (a third multiple-choice, every other one resolved
    with a known time before some forecasts) and users, each forecasting several; user0
    forecasts every question, and every user forecasts question-0."""
    now = timeutil.now()
    users = [add_user(session, f"user{start + i}", password=None) for i in range(n_users)]
    regular = session.scalar(select(User).where(User.username == "user0"))
    window = {"open_at": timeutil.iso(now - timedelta(days=60)),
              "close_at": timeutil.iso(now + timedelta(days=60))}
    made = []
    for i in range(start, start + n_questions):
        data = (mc_data if i % 3 == 2 else question_data)(slug=f"question-{i}", **SHOW_CROWD,
                                                          **window)
        made.append(create_question(session, data))
    first = session.scalar(select(Question).where(Question.slug == "question-0"))
    for user in users[1:] if start == 0 else users:
        submit_forecast(session, first, user, probability=rng.choice([0.3, 0.7]),
                        at=now - timedelta(days=10, hours=rng.random()))
    # Every user comments on question-0 and replies to the one before: its page shows
    # more comments, authors and rationale forecasts each time the world grows.
    previous = None
    for user in users:
        top = comments.post_comment(session, first, user, f"a remark by {user.username}")
        if previous is not None:
            comments.post_comment(session, first, user, "a reply", parent_id=previous.id)
        previous = top
    for q in made:
        chosen = {regular, *rng.sample(users, min(len(users), 4))}
        for user in sorted(chosen, key=lambda u: u.id):
            for days in (50, 20):
                at = now - timedelta(days=days, hours=rng.random())
                if q.kind == "binary":
                    submit_forecast(session, q, user, probability=rng.choice([0.2, 0.6, 0.9]),
                                    rationale="because", at=at)
                else:
                    p = [rng.random() + 0.1 for _ in q.options]
                    submit_forecast(session, q, user, probabilities=[v / sum(p) for v in p],
                                    at=at)
    for q in made[1::2]:
        outcome = q.options[-1]
        resolution.resolve(session, q, outcome, known_at=now - timedelta(days=30), actor="root",
                           now=now)
    session.commit()


def enter_tournament(session, start: int) -> None:
    """Every question and user into the tournament "season" (made on the first call),
    and one more tournament each call, so the list of tournaments grows too."""
    if tournaments.find(session, "season") is None:
        tournaments.create(session, "season", "Season", "A *season*.")
    tournaments.create(session, f"season-{start}", f"Season from {start}")
    tournaments.add_questions(session, "season", session.scalars(select(Question.slug)))
    for name in session.scalars(select(User.username)):
        tournaments.join(session, "season", name)
    session.commit()


def measure(app, client, names: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Statements of each page, cold (first request after the world changed) and warm."""
    out = {}
    for label, path in PAGES.items():
        counts = []
        for _ in range(2):
            with counting(app) as seen:
                response = client.get(path.format(**names))
            assert response.status_code == 200, (label, response.status_code)
            counts.append(len(seen))
        out[label] = (counts[0], counts[1])
    return out


@pytest.mark.parametrize("logged_in", [False, True])
def test_statements_do_not_grow_with_the_rows_shown(app, client, session, logged_in):
    rng = random.Random(3)
    add_user(session, "root", role="admin")
    grow(session, rng, 0, 3, 2)
    enter_tournament(session, 0)
    names = {"open": "question-0", "resolved": "question-1", "user": "user0",
             "tournament": "season"}
    if logged_in:
        Web(client).login("root")
    small = measure(app, client, names)
    grow(session, rng, 3, 22, 13)
    enter_tournament(session, 3)
    large = measure(app, client, names)
    # Bigger pages: the list shows 25 questions, the leaderboard 15 users, the
    # question page more forecasters, the profile more scores.
    grown = {label: (small[label], large[label]) for label in PAGES
             if large[label][0] > small[label][0] or large[label][1] > small[label][1]}
    assert not grown, f"statements grew with the rows shown (small, large): {grown}"
