"""Concurrent writers: none fails and none vanishes (SQLite WAL + BEGIN IMMEDIATE)."""
from __future__ import annotations

from sqlalchemy import func, select

from forecasts.db import Database
from forecasts.models import Forecast
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
