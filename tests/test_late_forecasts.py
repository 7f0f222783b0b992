"""No forecast is ever stored at or after a settled question's effective close, however
a resolution races the forecasts: several processes forecast on a question while it is
resolved with known_at = now, run after run (issue #11, point 3)."""
from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time

import pytest

from sqlalchemy import func, select

from forecasts import timeutil
from forecasts.db import Database
from forecasts.errors import Conflict
from forecasts.models import Forecast
from forecasts.services import corrections
from forecasts.services.forecasts import submit_forecast
from forecasts.services.questions import current_resolution, get_question
from forecasts.services.resolution import effective_close
from forecasts.services.users import get_user
from tests.builders import make_question, make_user
from tests.servers import ROOT

RUNS, WORKERS, PER_RUN = 10, 4, 50
WAIT_S = 0.3  # long enough for the other transaction to be waiting on the lock
TIMEOUT_S = 180  # a bound for a loaded machine; about 15 s when it is idle


def work(db_url: str, username: str, slugs: list[str], per_run: int) -> None:
    """A worker process: on each question in turn, forecast until refused or `per_run`
    attempts; print {slug: [accepted ids, refused]} as JSON."""
    db = Database(db_url)
    pause = random.Random(username).uniform
    print("ready", flush=True)
    sys.stdin.readline()
    done: dict[str, tuple[list[int], int]] = {}
    for slug in slugs:
        accepted, refused = [], 0
        for k in range(per_run):
            try:
                with db.transaction() as s:
                    forecast = submit_forecast(s, get_question(s, slug), get_user(s, username),
                                               probability=0.05 + 0.9 * k / per_run)
                    accepted.append(forecast.id)
            except Conflict:
                refused += 1
                break
            # A client's think time (up to 2 ms): without it SQLite's busy handler, which
            # sleeps between retries, can leave the resolution waiting out the whole burst.
            time.sleep(pause(0, 0.002))
        done[slug] = (accepted, refused)
    db.dispose()
    print(json.dumps(done), flush=True)


def _start_workers(db_url: str, slugs: list[str]) -> list[subprocess.Popen]:
    code = ("import json, sys; from tests.test_late_forecasts import work; "
            "work(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url, f"user{i}", json.dumps(slugs),
                               str(PER_RUN)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for i in range(WORKERS)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:  # all at once, so they contend from the first forecast
        proc.stdin.write("go\n")
        proc.stdin.flush()
    return procs


def _count(database: Database, slug: str) -> int:
    with database.session() as s:
        question = get_question(s, slug)
        return s.scalar(select(func.count()).select_from(Forecast)
                        .where(Forecast.question_id == question.id))


def _resolve_mid_burst(database: Database, slug: str, threshold: int, deadline: float) -> None:
    """Resolve `slug` (known_at defaults to now) once `threshold` forecasts are stored."""
    while _count(database, slug) < threshold and time.monotonic() < deadline:
        time.sleep(0.002)
    with database.transaction() as s:
        corrections.resolve(s, get_question(s, slug), "yes", actor="hammer")


def test_no_forecast_lands_after_a_resolution_made_during_a_burst(db_url, database):
    slugs = [f"race-{run:02d}" for run in range(RUNS)]
    with database.transaction() as s:
        for run, slug in enumerate(slugs):
            # Half the questions have a rule (undecided: its series has no observation),
            # which a forecast checks first, as on a live site.
            rule = ({"type": "manual"} if run % 2 else
                    {"type": "threshold", "series": "race", "op": ">=", "value": 1, "when": "any"})
            make_question(s, slug=slug, open_at="2020-01-01T00:00:00Z",
                          close_at="2099-01-01T00:00:00Z", rule=rule)
        for i in range(WORKERS):
            make_user(s, f"user{i}")
    rng = random.Random(11)
    deadline = time.monotonic() + TIMEOUT_S
    procs = _start_workers(db_url, slugs)
    try:
        for slug in slugs:
            _resolve_mid_burst(database, slug, rng.randrange(4, WORKERS * PER_RUN // 5),
                               deadline)
        outputs = [json.loads(proc.communicate(timeout=max(1, deadline - time.monotonic()))[0])
                   for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    assert [proc.returncode for proc in procs] == [0] * WORKERS

    closest = []
    with database.session() as s:
        for slug in slugs:
            question = get_question(s, slug)
            resolution = current_resolution(s, question)
            assert resolution is not None and resolution.known_at is not None
            t1 = effective_close(question, resolution)
            stored = dict(s.execute(select(Forecast.id, Forecast.at)
                                    .where(Forecast.question_id == question.id)).all())
            late = [i for i, at in stored.items() if at >= t1]
            assert late == [], f"{slug}: forecasts {late} stored at or after {t1}"
            accepted = [i for out in outputs for i in out[slug][0]]
            assert sorted(accepted) == sorted(stored), f"{slug}: acknowledged != stored"
            # The resolution came mid-burst: some worker was refused, some forecast landed.
            assert sum(out[slug][1] for out in outputs) > 0, f"{slug}: resolved after the burst"
            assert accepted, f"{slug}: resolved before any forecast"
            closest.append((t1 - max(stored.values())).total_seconds())
    print(f"closest forecast before the effective close: {min(closest) * 1000:.3f} ms")


def _in_thread(db_url: str, job) -> tuple[threading.Thread, list]:
    """Run `job(session)` in its own database connection and thread; the list gets
    its result or the exception it raised."""
    outcome: list = []

    def run() -> None:
        db = Database(db_url)
        try:
            with db.transaction() as s:
                outcome.append(job(s))
        except Exception as exc:
            outcome.append(exc)
        finally:
            db.dispose()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.fixture
def question(database):
    with database.transaction() as s:
        make_question(s, open_at="2020-01-01T00:00:00Z", close_at="2099-01-01T00:00:00Z")
        make_user(s, "alice")


def test_a_resolution_waiting_on_a_forecast_in_flight_is_known_after_it(db_url, database,
                                                                       question):
    with database.transaction() as s:
        forecast = submit_forecast(s, get_question(s, "strike-2027"), get_user(s, "alice"),
                                   probability=0.3)
        thread, outcome = _in_thread(db_url, lambda other: corrections.resolve(
            other, get_question(other, "strike-2027"), "yes", actor="test").resolution.known_at)
        time.sleep(WAIT_S)
        assert thread.is_alive() and outcome == []  # it waits for this transaction
        at, committing = forecast.at, timeutil.now()
    thread.join(30)
    assert at < committing < outcome[0]  # known_at was read once it held the lock


def test_a_forecast_waiting_on_a_resolution_in_flight_is_refused(db_url, database, question):
    with database.transaction() as s:
        corrections.resolve(s, get_question(s, "strike-2027"), "yes", actor="test")
        thread, outcome = _in_thread(db_url, lambda other: submit_forecast(
            other, get_question(other, "strike-2027"), get_user(other, "alice"), probability=0.3))
        time.sleep(WAIT_S)
        assert thread.is_alive() and outcome == []
    thread.join(30)
    assert isinstance(outcome[0], Conflict) and "is resolved" in str(outcome[0])
    with database.session() as s:
        assert s.scalars(select(Forecast.id)).all() == []
