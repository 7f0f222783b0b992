"""Concurrent writers: none fails and none vanishes (SQLite WAL + BEGIN IMMEDIATE)."""
from __future__ import annotations

from sqlalchemy import func, select

from forecasts.db import Database
from forecasts.models import Forecast, QuestionStats
from forecasts.services.forecasts import submit_forecast
from forecasts.services.questions import get_question
from forecasts.services.users import get_user
from tests.builders import errors_in_threads, make_question, make_user


def test_concurrent_submissions_all_land(db_url, database):
    with database.transaction() as s:
        make_question(s, open_at="2020-01-01T00:00:00Z", close_at="2099-01-01T00:00:00Z")
        for i in range(4):
            make_user(s, f"user{i}")
    per_thread = 15

    def work(i: int) -> None:
        db = Database(db_url)
        try:
            for k in range(per_thread):
                with db.transaction() as s:
                    q = get_question(s, "strike-2027")
                    u = get_user(s, f"user{i}")
                    submit_forecast(s, q, u, probability=0.1 + 0.01 * k)
        finally:
            db.dispose()

    assert errors_in_threads(work, 4) == []
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Forecast)) == 4 * per_thread


def test_concurrent_forecasts_keep_the_figures_and_the_latest_state_exact(db_url, database):
    """Writers with their own engines (as separate workers) forecast one question at once:
    the figures kept row by row equal a fresh computation, and the kept latest state equals
    the forecasts table's."""
    import numpy as np

    from forecasts.services import latest_forecasts, question_stats

    with database.transaction() as s:
        make_question(s, open_at="2020-01-01T00:00:00Z", close_at="2099-01-01T00:00:00Z")
        for i in range(6):
            make_user(s, f"user{i}")

    def work(i: int) -> None:
        db = Database(db_url)
        try:
            for k in range(8):
                with db.transaction() as s:
                    q = get_question(s, "strike-2027")
                    u = get_user(s, f"user{(i + k) % 6}")
                    submit_forecast(s, q, u, probability=round(0.05 + 0.11 * ((i * 8 + k) % 9), 3))
        finally:
            db.dispose()

    assert errors_in_threads(work, 4) == []
    with database.session() as s:
        q = get_question(s, "strike-2027")
        stored = question_stats.stats_of(s, q)
        fresh = question_stats.compute(s, [q.id])[q.id]
        assert (stored.forecasters, stored.forecasts, stored.last_forecast_at, stored.crowd) == \
            (fresh.forecasters, fresh.forecasts, fresh.last_forecast_at, fresh.crowd)
        assert stored.forecasts == 32
        blob = s.scalar(select(QuestionStats.latest).where(QuestionStats.question_id == q.id))
        kept = latest_forecasts.decode_latest(blob, 2)
        table = latest_forecasts.from_table(s, q)
        for field in ("users", "ids", "at", "probs"):
            assert np.array_equal(getattr(kept, field), getattr(table, field)), field
