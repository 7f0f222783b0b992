"""question_stats: the stored figures equal a fresh computation and an independent slow
one, on random worlds, after forecasts, a resolution, a correction, an annulment and a
reopening; the crowd history's thinning keeps what the chart needs."""
from __future__ import annotations

import json
import random
import statistics
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import insert, select

from forecasts import timeutil
from forecasts.models import Forecast, Question, QuestionStats
from forecasts.services import corrections, crowd, question_stats, resolution
from forecasts.services.forecasts import submit_forecast
from forecasts.services.questions import create_question, current_resolution
from tests.builders import SHOW_CROWD, errors_in_threads, make_user, mc_data, question_data


def slow_figures(session, question: Question) -> tuple[int, int, object, list[float] | None]:
    """(forecasters, forecasts, last time, crowd) by the definition, one forecast at a time:
    the forecasts before the effective close of a resolved question (all otherwise), each
    user's latest (greatest time, then greatest id), median P(yes) or mean vector."""
    found = current_resolution(session, question)
    cut = None
    if found is not None and not found.annulled:
        cut = min(question.close_at, found.known_at or question.close_at)
    rows = [f for f in session.scalars(select(Forecast).where(
        Forecast.question_id == question.id).order_by(Forecast.id))
        if cut is None or f.at < cut]
    latest: dict[int, Forecast] = {}
    for f in rows:
        if f.user_id not in latest or (f.at, f.id) > (latest[f.user_id].at, latest[f.user_id].id):
            latest[f.user_id] = f
    if not latest:
        return 0, len(rows), None, None
    vectors = [f.probabilities for f in latest.values()]
    if question.kind == "binary":
        median = statistics.median(v[1] for v in vectors)
        crowd_now = [1 - median, median]
    else:
        crowd_now = [sum(v[i] for v in vectors) / len(vectors) for i in range(len(vectors[0]))]
    return len(latest), len(rows), max(f.at for f in rows), crowd_now


def check_all(session, questions: list[Question]) -> None:
    """Every stored row equals the slow figures and compute(); only a question never
    forecast lacks a row."""
    session.flush()
    stored = {r.question_id: question_stats.from_row(r)
              for r in session.scalars(select(QuestionStats))}
    fresh = question_stats.compute(session, [q.id for q in questions])
    for q in questions:
        n, count, last, crowd_now = slow_figures(session, q)
        if q.id not in stored:  # never written to: only a question nobody forecast
            assert slow_figures(session, q)[1] == 0 and not session.scalar(
                select(Forecast.id).where(Forecast.question_id == q.id).limit(1))
            stored[q.id] = question_stats.stats_of(session, q)
        for got in (stored[q.id], fresh[q.id]):
            assert (got.forecasters, got.forecasts, got.last_forecast_at) == (n, count, last), q.slug
            if crowd_now is None:
                assert got.crowd is None
            else:
                assert got.crowd == pytest.approx(crowd_now, abs=1e-12), q.slug


def random_world(session, seed: int):
    rng = random.Random(seed)
    now = timeutil.now()
    users = [make_user(session, f"user{i}") for i in range(rng.randint(2, 6))]
    # The crowd is what these tests are about: their questions show it to everyone.
    window = {"open_at": timeutil.iso(now - timedelta(days=100)),
              "close_at": timeutil.iso(now + timedelta(days=100)), **SHOW_CROWD}
    questions = [create_question(session, question_data(slug=f"bin-{i}", **window))
                 for i in range(3)]
    questions += [create_question(session, mc_data(slug=f"mc-{i}", **window)) for i in range(2)]
    questions.append(create_question(session, question_data(slug="empty", **window)))
    for _ in range(rng.randint(20, 60)):
        q = rng.choice(questions[:-1])
        user = rng.choice(users)
        # Coarse times, so that equal times (ties to the later record) happen.
        at = now - timedelta(days=rng.randint(1, 99))
        if q.kind == "binary":
            submit_forecast(session, q, user, probability=rng.choice([0.1, 0.3, 0.5, 0.77]), at=at)
        else:
            raw = [rng.random() + 0.01 for _ in q.options]
            submit_forecast(session, q, user, probabilities=[v / sum(raw) for v in raw], at=at)
    session.flush()
    return now, questions


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stats_equal_fresh_computation_through_resolution_and_correction(session, seed):
    now, questions = random_world(session, seed)
    check_all(session, questions)
    binary, mc = questions[0], questions[3]
    # Resolved with a known_at inside the forecasts: the later ones stop counting.
    resolution.resolve(session, binary, "yes", known_at=now - timedelta(days=50), actor="root",
                       now=now)
    resolution.resolve(session, mc, mc.options[1], known_at=now - timedelta(days=30),
                       actor="root", now=now)
    check_all(session, questions)
    # A correction (resolve --force) with another known_at.
    corrections.resolve(session, binary, "no", known_at=now - timedelta(days=20), actor="root",
                        force=True, now=now + timedelta(seconds=1))
    check_all(session, questions)
    # An annulled question counts every forecast again, and so does a reopened one.
    corrections.annul(session, mc, "void", actor="root", force=True,
                      now=now + timedelta(seconds=2))
    check_all(session, questions)
    resolution.reopen(session, binary, now=now + timedelta(seconds=3))
    check_all(session, questions)
    session.commit()


def test_versions_bump_on_every_change(session):
    now, questions = random_world(session, 7)
    q = questions[0]
    before = session.get(QuestionStats, q.id).version
    submit_forecast(session, q, make_user(session, "newcomer"), probability=0.4,
                    at=now - timedelta(days=1))
    after_forecast = session.scalar(select(QuestionStats.version).where(
        QuestionStats.question_id == q.id))
    resolution.resolve(session, q, "yes", actor="root", now=now)
    after_resolution = session.scalar(select(QuestionStats.version).where(
        QuestionStats.question_id == q.id))
    assert before < after_forecast < after_resolution


def test_missing_rows_are_computed_and_refresh_fills_them(session):
    """A database migrated to 0005 has no rows: readers compute them, refresh stores them;
    a forecast on a question without a row stores the full figures, not an increment."""
    now, questions = random_world(session, 4)
    session.execute(QuestionStats.__table__.delete())
    session.flush()
    read = question_stats.stats_for(session, [q.id for q in questions])
    for q in questions:
        n, count, last, crowd_now = slow_figures(session, q)
        got = read[q.id]
        assert (got.forecasters, got.forecasts, got.last_forecast_at) == (n, count, last)
        assert got.crowd == (None if crowd_now is None else pytest.approx(crowd_now, abs=1e-12))
    assert session.scalar(select(QuestionStats).limit(1)) is None
    submit_forecast(session, questions[1], make_user(session, "late"), probability=0.6,
                    at=now - timedelta(hours=1))
    assert question_stats.refresh(session, None) == len(questions)
    check_all(session, questions)


def test_refresh_after_a_bulk_insert(session):
    """Rows written without submit_forecast (the bulk paths) are counted by refresh."""
    now, questions = random_world(session, 5)
    user = make_user(session, "bulk")
    q = questions[2]
    session.execute(insert(Forecast), [
        {"question_id": q.id, "user_id": user.id, "at": now - timedelta(minutes=i),
         "probability": 0.05 + i / 100} for i in range(30)])
    question_stats.refresh(session, [q.id])
    check_all(session, questions)


def test_thin_keeps_first_last_and_the_largest_moves():
    rng = np.random.default_rng(0)
    m = 5000
    times = np.cumsum(rng.integers(1, 100, m))
    values = np.cumsum(rng.normal(0, 0.001, (m, 2)), axis=0)
    jump = 1234
    values[jump:] += 0.5  # one move far larger than the others
    kept = crowd.thin(times, values, 400)
    assert len(kept) <= 400
    assert kept[0] == 0 and kept[-1] == m - 1
    assert np.all(np.diff(kept) > 0)
    assert jump in kept
    # Every one of the 200 evenly spaced instants shows the value that stood there.
    edges = np.linspace(times[0], times[-1], 200)
    standing = np.searchsorted(times, edges, side="right") - 1
    assert set(standing.tolist()) <= set(kept.tolist())
    # Short series are kept whole.
    assert np.array_equal(crowd.thin(times[:300], values[:300], 400), np.arange(300))


def test_history_is_thinned_with_the_exact_current_value(session):
    now = timeutil.now()
    users = [make_user(session, f"u{i}") for i in range(40)]
    q = create_question(session, question_data(
        slug="busy", open_at=timeutil.iso(now - timedelta(days=30)),
        close_at=timeutil.iso(now + timedelta(days=30))))
    rng = random.Random(9)
    session.execute(insert(Forecast), [
        {"question_id": q.id, "user_id": rng.choice(users).id,
         "at": now - timedelta(days=29) + timedelta(minutes=10 * i),
         "probability": round(rng.uniform(0.01, 0.99), 3)} for i in range(2000)])
    question_stats.refresh(session, [q.id])
    found = crowd.history(session, q, None, recent=60)
    stats = question_stats.stats_of(session, q)
    assert found.total == 2000 and len(found.points) <= crowd.CHART_POINTS
    assert found.points[-1] == found.recent[-1]
    assert found.points[-1][1] == pytest.approx(stats.crowd, abs=1e-15)
    assert found.points[-1][2] == stats.forecasters
    assert len(found.recent) == 60 and found.late == 0 and found.forecasts == 2000
    assert crowd.History.from_doc(json.loads(json.dumps(found.to_doc()))) == found


def test_page_history_extended_per_forecast_equals_a_fresh_one(app, session, monkeypatch):
    """The page's cached history, extended by each new forecast, shows the same recent
    rows, totals and current point as a fresh computation; a backdated forecast, a gap
    between views or a resolution makes it recompute."""
    from forecasts.web.question_page import HISTORY_ROWS, page_history

    fresh_history = crowd.history
    passes = []
    monkeypatch.setattr(crowd, "history", lambda *a, **k: passes.append(1) or fresh_history(*a, **k))
    now = timeutil.now()
    users = [make_user(session, f"u{i}") for i in range(30)]
    q = create_question(session, question_data(
        slug="busy", open_at=timeutil.iso(now - timedelta(days=30)),
        close_at=timeutil.iso(now + timedelta(days=30))))
    rng = random.Random(2)
    steps, backdated, unseen = 460, 300, 200
    with app.app_context():
        for i in range(steps):
            at = now - timedelta(days=29) + timedelta(minutes=7 * i)
            if i == backdated:
                at -= timedelta(days=1)  # not after the last point: recomputed
            submit_forecast(session, q, rng.choice(users), probability=rng.choice(
                [0.1, 0.2, 0.5, 0.8]), at=at)
            if i == unseen:
                continue  # a forecast nobody viewed: the next view recomputes
            shown = page_history(session, q, None, question_stats.stats_of(session, q))
            if i % 20 and i != steps - 1:
                continue
            fresh = fresh_history(session, q, None, recent=HISTORY_ROWS)
            assert (shown.recent, shown.total, shown.late, shown.forecasts) == (
                fresh.recent, fresh.total, fresh.late, fresh.forecasts)
            assert shown.points[0] == fresh.points[0] and shown.points[-1] == fresh.points[-1]
            assert len(shown.points) <= crowd.CHART_POINTS
        # The first view, the one after the gap and the one after the backdated forecast.
        assert len(passes) == 3
        resolution.resolve(session, q, "yes", known_at=now - timedelta(days=28), actor="root",
                           now=now)
        found = current_resolution(session, q)
        shown = page_history(session, q, found, question_stats.stats_of(session, q))
        assert shown == fresh_history(session, q, found, recent=HISTORY_ROWS)
        assert shown.late > 0 and len(passes) == 4


def test_question_page_history_is_shared_through_redis(env, session, monkeypatch):
    """Two apps (two workers) on one Redis: the second serves the first one's history."""
    import uuid

    from forecasts import create_app

    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    prefix = f"test-question-history-{uuid.uuid4().hex}:"
    now, questions = random_world(session, 6)
    session.commit()
    fresh_history = crowd.history
    passes = []
    monkeypatch.setattr(crowd, "history", lambda *a, **k: passes.append(1) or fresh_history(*a, **k))
    pages = []
    try:
        for _ in range(2):
            app = create_app({**env, "TESTING": True, "CACHE_URL": "redis://127.0.0.1:6379/0",
                              "CACHE_KEY_PREFIX": prefix})
            response = app.test_client().get(f"/questions/{questions[0].slug}/crowd.svg")
            assert response.status_code == 200
            pages.append(response.data)
            app.extensions["forecasts_db"].dispose()
        assert len(passes) == 1 and pages[0] == pages[1]
        assert list(client.scan_iter(match=prefix + "*"))
    finally:
        keys = list(client.scan_iter(match=prefix + "*"))
        client.delete(*keys) if keys else None


def test_concurrent_forecasts_keep_the_figures_exact(db_url, database):
    """Forecasts committed at once from several connections (PostgreSQL runs them
    concurrently) lose no update: the row equals a fresh computation afterwards,
    including for the first forecasts, which race to create the row."""
    import threading

    from forecasts.db import Database
    from forecasts.services.questions import get_question
    from forecasts.services.users import get_user
    from tests.builders import make_question

    with database.transaction() as s:
        make_question(s, open_at="2020-01-01T00:00:00Z", close_at="2099-01-01T00:00:00Z")
        for i in range(4):
            make_user(s, f"user{i}")
    start = threading.Barrier(4)

    def work(i: int) -> None:
        db = Database(db_url)
        try:
            start.wait()
            for k in range(10):
                with db.transaction() as s:
                    submit_forecast(s, get_question(s, "strike-2027"), get_user(s, f"user{i}"),
                                    probability=0.1 + 0.02 * k + 0.01 * i)
        finally:
            db.dispose()

    assert errors_in_threads(work, 4) == []
    with database.session() as s:
        q = get_question(s, "strike-2027")
        assert s.get(QuestionStats, q.id).version >= 1
        check_all(s, [q])
        assert s.get(QuestionStats, q.id).forecasts == 40
