"""No forecast is ever stored at or after a settled question's effective close, however
a resolution races the forecasts: several processes forecast on a question while it is
resolved with known_at = now, run after run (issue #11, point 3)."""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time

from sqlalchemy import func, select

from forecasts.db import Database
from forecasts.errors import Conflict
from forecasts.models import Forecast
from forecasts.services import corrections
from forecasts.services.questions import current_resolution, get_question
from forecasts.services.resolution import effective_close
from tests.builders import make_question, make_user
from tests.servers import ROOT

RUNS, WORKERS, PER_RUN = 10, 4, 50
TIMEOUT_S = 180  # a bound for a loaded machine; about 15 s when it is idle


def work(db_url: str, username: str, slugs: list[str], per_run: int) -> None:
    """A worker process: on each question in turn, forecast until refused or `per_run`
    attempts; print {slug: [accepted ids, refused]} as JSON."""
    from forecasts.services.forecasts import submit_forecast
    from forecasts.services.users import get_user

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
