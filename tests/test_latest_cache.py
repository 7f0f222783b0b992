"""question_stats.on_forecast with the web app's cache: each forecaster's latest forecast
is carried from one version to the next in the cache, and the stored figures still equal
a fresh computation and the slow definition; a version cached by a transaction that
rolled back is never used."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.cache import get_cache
from forecasts.models import Question, QuestionStats
from forecasts.services import question_stats
from forecasts.services.forecasts import submit_forecast
from tests.builders import make_user
from tests.test_question_stats import check_all, random_world


def _version(session, question: Question) -> int:
    return session.scalar(select(QuestionStats.version).where(
        QuestionStats.question_id == question.id))


@pytest.mark.parametrize("seed", [11, 12])
def test_cached_latest_forecasts_give_the_same_figures(app, seed):
    rng = random.Random(seed)
    with app.app_context(), app.extensions["forecasts_db"].session() as session:
        now, questions = random_world(session, seed)
        session.commit()
        users = [make_user(session, f"late{i}") for i in range(4)]
        session.commit()
        used = 0
        for _ in range(60):
            q = rng.choice(questions[:-1])
            cached = get_cache().get(question_stats._latest_key(q.id, _version(session, q)))
            used += cached is not None
            user = rng.choice(users)
            # Coarse times: ties (to the later record) and forecasts older than the user's latest.
            at = now - timedelta(days=rng.randint(1, 99))
            if q.kind == "binary":
                submit_forecast(session, q, user, probability=rng.choice([0.2, 0.5, 0.9]), at=at)
            else:
                raw = [rng.random() + 0.01 for _ in q.options]
                submit_forecast(session, q, user, probabilities=[v / sum(raw) for v in raw], at=at)
            session.commit()
            check_all(session, questions)
        assert used > 30  # the cache carried most versions


def test_a_rolled_back_version_is_not_used(app):
    with app.app_context(), app.extensions["forecasts_db"].session() as session:
        now, questions = random_world(session, 5)
        q = questions[0]
        alice, bob = make_user(session, "alice2"), make_user(session, "bob2")
        session.commit()
        submit_forecast(session, q, alice, probability=0.2, at=now - timedelta(days=1))
        session.commit()  # caches version v
        version = _version(session, q)
        submit_forecast(session, q, bob, probability=0.99, at=now - timedelta(hours=1))
        assert get_cache().get(question_stats._latest_key(q.id, version + 1)) is not None
        session.rollback()  # version v + 1 was cached, but never stored
        # Version v + 1 comes about differently; the next forecast must not build on the
        # rolled-back state (bob's 0.99).
        question_stats.refresh(session, [q.id])
        session.commit()
        assert _version(session, q) == version + 1
        submit_forecast(session, q, alice, probability=0.3, at=now)
        session.commit()
        check_all(session, questions)
        session.commit()
