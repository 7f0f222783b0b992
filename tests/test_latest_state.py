"""question_stats.on_forecast carries each forecaster's latest forecast from one forecast
to the next in the stats row (`question_stats.latest`), in the forecast's transaction:
the stored figures still equal a fresh computation and the slow definition, the kept
state equals the forecasts table's, and a rolled-back forecast leaves it as it was."""
from __future__ import annotations

import random
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from forecasts.models import Question, QuestionStats
from forecasts.services import latest_forecasts, question_stats
from forecasts.services.forecasts import submit_forecast
from tests.builders import make_user
from tests.test_question_stats import check_all, random_world


def _kept(session, question: Question) -> latest_forecasts.Latest | None:
    blob = session.scalar(select(QuestionStats.latest).where(
        QuestionStats.question_id == question.id))
    return latest_forecasts.decode_latest(blob, len(question.options))


def _same(a: latest_forecasts.Latest, b: latest_forecasts.Latest) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f))
               for f in ("users", "ids", "at", "probs"))


@pytest.mark.parametrize("seed", [11, 12])
def test_the_kept_state_gives_the_same_figures(app, seed):
    rng = random.Random(seed)
    with app.app_context(), app.extensions["forecasts_db"].session() as session:
        now, questions = random_world(session, seed)
        session.commit()
        users = [make_user(session, f"late{i}") for i in range(4)]
        session.commit()
        used = 0
        for _ in range(60):
            q = rng.choice(questions[:-1])
            used += _kept(session, q) is not None
            user = rng.choice(users)
            # Coarse times: ties (to the later record) and forecasts older than the user's latest.
            at = now - timedelta(days=rng.randint(1, 99))
            if q.kind == "binary":
                submit_forecast(session, q, user, probability=rng.choice([0.2, 0.5, 0.9]), at=at)
            else:
                raw = [rng.random() + 0.01 for _ in q.options]
                submit_forecast(session, q, user, probabilities=[v / sum(raw) for v in raw], at=at)
            session.commit()
            assert _same(_kept(session, q), latest_forecasts.from_table(session, q))
            check_all(session, questions)
        assert used > 30  # the kept state carried most forecasts


def test_a_rolled_back_forecast_leaves_the_kept_state(app):
    with app.app_context(), app.extensions["forecasts_db"].session() as session:
        now, questions = random_world(session, 5)
        q = questions[0]
        alice, bob = make_user(session, "alice2"), make_user(session, "bob2")
        session.commit()
        submit_forecast(session, q, alice, probability=0.2, at=now - timedelta(days=1))
        session.commit()
        before = _kept(session, q)
        assert before is not None
        submit_forecast(session, q, bob, probability=0.99, at=now - timedelta(hours=1))
        session.rollback()
        assert _same(_kept(session, q), before)
        submit_forecast(session, q, alice, probability=0.3, at=now)
        session.commit()
        assert _same(_kept(session, q), latest_forecasts.from_table(session, q))
        check_all(session, questions)


def test_a_refresh_drops_the_kept_state_and_the_next_forecast_reads_it_afresh(app):
    with app.app_context(), app.extensions["forecasts_db"].session() as session:
        now, questions = random_world(session, 6)
        q = questions[0]
        carol = make_user(session, "carol2")
        session.commit()
        submit_forecast(session, q, carol, probability=0.4, at=now - timedelta(days=2))
        session.commit()
        question_stats.refresh(session, [q.id])
        session.commit()
        assert _kept(session, q) is None
        submit_forecast(session, q, carol, probability=0.6, at=now - timedelta(days=1))
        session.commit()
        assert _same(_kept(session, q), latest_forecasts.from_table(session, q))
        check_all(session, questions)


def test_encoding_round_trips_and_refuses_another_number_of_options():
    latest = latest_forecasts.Latest(np.array([3, 7]), np.array([10, 11]),
                                   np.array([5, -2]), np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]))
    blob = latest_forecasts.encode_latest(latest)
    assert len(blob) == 8 + 2 * 8 * 6
    assert _same(latest_forecasts.decode_latest(blob, 3), latest)
    assert latest_forecasts.decode_latest(blob, 2) is None
    assert latest_forecasts.decode_latest(blob[:-1], 3) is None
    assert latest_forecasts.decode_latest(None, 3) is None
    empty = latest_forecasts.Latest(*(np.zeros(0, np.int64) for _ in range(3)), np.zeros((0, 2)))
    assert _same(latest_forecasts.decode_latest(latest_forecasts.encode_latest(empty), 2), empty)
