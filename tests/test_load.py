"""Load and fault tests against the real servers (issue #11, point 7): gunicorn with two
worker processes and waitress (`forecasts serve`), on this run's database (SQLite, or
PostgreSQL with TEST_DATABASE_URL). Twenty API clients post fifty forecasts each over
keep-alive connections while `forecasts resolve` settles one question mid-burst; then a
gunicorn worker is killed with SIGKILL mid-burst. Nothing acknowledged may be lost."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import pytest
from sqlalchemy import select

from forecasts.models import CrowdScore, Forecast, Question, QuestionScore
from forecasts.services.questions import current_resolution, get_question
from forecasts.services.resolution import effective_close
from forecasts.services.tokens import create_token
from tests import servers
from tests.builders import make_question, make_user

CLIENTS, PER_CLIENT = 20, 50
PER_CLIENT_KILLED = 20  # a shorter burst: the respawned worker's start-up dominates
SLUGS = [f"load-{i}" for i in range(8)]  # PostgreSQL locks one question row at a time
RESOLVED = SLUGS[0]
CLI_TIMEOUT_S = 60


@pytest.fixture
def tokens(database) -> list[str]:
    """Four open questions, and one API token for each of CLIENTS users."""
    with database.transaction() as s:
        for slug in SLUGS:
            make_question(s, slug=slug, open_at="2020-01-01T00:00:00Z",
                          close_at="2099-01-01T00:00:00Z")
        return [create_token(s, make_user(s, f"client{i:02d}"), "load")[1]
                for i in range(CLIENTS)]


@pytest.fixture
def server_env(db_url, tmp_path) -> dict[str, str]:
    """A production configuration (no test shortcuts) on this test's database."""
    return {"DATABASE_URL": db_url, "FORECASTS_ENV": "production",
            "SECRET_KEY": "load-test-secret", "FORECASTS_INSTANCE_PATH": str(tmp_path / "inst")}


@dataclass
class Burst:
    """What the clients saw: acknowledged forecasts by id, and every other answer."""

    acknowledged: dict[int, tuple[str, str]] = field(default_factory=dict)  # id: slug, marker
    statuses: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)  # 409s by question
    connection_errors: int = 0
    third_at: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    third: threading.Event = field(default_factory=threading.Event)


def _client(server: servers.Server, token: str, i: int, burst: Burst, count: int) -> None:
    conn = server.connection()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for k in range(count):
            slug, marker = SLUGS[(i + k) % len(SLUGS)], f"c{i:02d}k{k:02d}"
            body = {"probability": round(0.05 + 0.9 * ((i * 7 + k) % 50) / 50, 3),
                    "rationale": marker}
            try:
                status, answer = servers.send(conn, "POST", f"/api/v1/questions/{slug}/forecasts",
                                              body, headers)
            except (OSError, http.client.HTTPException):
                # Not acknowledged: the forecast may or may not be stored.
                conn.close()
                conn = server.connection()
                with burst.lock:
                    burst.connection_errors += 1
                continue
            with burst.lock:
                burst.statuses[status] += 1
                if status == 201:
                    assert answer["id"] not in burst.acknowledged
                    burst.acknowledged[answer["id"]] = (slug, marker)
                    if len(burst.acknowledged) >= burst.third_at:
                        burst.third.set()
                elif status == 409:
                    burst.refused[slug] += 1
    finally:
        conn.close()
        burst.third.set()  # never leave the main thread waiting on a failed client


def run_burst(server: servers.Server, tokens: list[str], mid_burst: Callable[[], None],
              count: int = PER_CLIENT) -> Burst:
    """One thread per token posting `count` forecasts; `mid_burst` runs once a third of
    them are acknowledged, while the others are still posting."""
    burst, t0 = Burst(third_at=len(tokens) * count // 3), time.monotonic()
    threads = [threading.Thread(target=_client, args=(server, token, i, burst, count))
               for i, token in enumerate(tokens)]
    for thread in threads:
        thread.start()
    burst.third.wait(60)
    mid_burst()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    print(f"burst: {time.monotonic() - t0:.1f} s, {dict(burst.statuses)}, "
          f"{burst.connection_errors} connection errors")
    return burst


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(servers.BIN / "forecasts"), *args], env=servers.server_env(env),
                          cwd=servers.ROOT, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _scores(database) -> tuple[list, list]:
    with database.session() as s:
        users = s.execute(select(QuestionScore.question_id, QuestionScore.user_id,
                                 QuestionScore.brier, QuestionScore.log, QuestionScore.peer,
                                 QuestionScore.coverage)
                          .order_by(QuestionScore.question_id, QuestionScore.user_id)).all()
        crowd = s.execute(select(CrowdScore.question_id, CrowdScore.brier, CrowdScore.log)
                          .order_by(CrowdScore.question_id)).all()
    return [tuple(r) for r in users], [tuple(r) for r in crowd]


def check_nothing_lost(database, burst: Burst) -> None:
    """Every acknowledged forecast stored once, as acknowledged; no server error."""
    assert not [s for s in burst.statuses if s >= 500], burst.statuses
    assert set(burst.statuses) <= {201, 409}, burst.statuses
    with database.session() as s:
        rows = s.execute(select(Forecast.id, Question.slug, Forecast.rationale)
                         .join(Question, Question.id == Forecast.question_id)).all()
    stored = {fid: (slug, marker) for fid, slug, marker in rows}
    markers = Counter(marker for _, marker in stored.values())
    assert [m for m, n in markers.items() if n > 1] == []  # nothing stored twice
    assert {fid: stored.get(fid) for fid in burst.acknowledged} == burst.acknowledged
    # The only forecasts stored but not acknowledged are those whose answer was cut off.
    assert len(stored) - len(burst.acknowledged) <= burst.connection_errors


def check_closed_and_scored(database, env: dict[str, str], burst: Burst) -> None:
    """None at or after the resolved question's effective close; scores as a rescore's."""
    assert burst.refused[RESOLVED] > 0, "the resolution came after the burst"
    with database.session() as s:
        question = get_question(s, RESOLVED)
        resolution = current_resolution(s, question)
        t1 = effective_close(question, resolution)
        late = s.scalars(select(Forecast.id).where(Forecast.question_id == question.id,
                                                   Forecast.at >= t1)).all()
    assert late == []
    assert resolution.known_at is not None and resolution.known_at < question.close_at
    before = _scores(database)
    forecasters = {marker[:3] for slug, marker in burst.acknowledged.values() if slug == RESOLVED}
    assert len(before[0]) == len(forecasters) > 1  # one score row each, only this question
    _cli(env, "rescore")
    assert _scores(database) == before


@pytest.mark.parametrize("kind", ["gunicorn", "waitress"])
def test_a_burst_with_a_resolution_in_the_middle(kind, database, tokens, server_env, tmp_path):
    start = servers.gunicorn if kind == "gunicorn" else servers.waitress
    with start(server_env, tmp_path / f"{kind}.log") as server:
        burst = run_burst(server, tokens, lambda: _cli(server_env, "resolve", RESOLVED, "yes"))
        log = server.output()
    assert burst.connection_errors == 0, log
    assert burst.statuses[201] + burst.statuses[409] == CLIENTS * PER_CLIENT
    check_nothing_lost(database, burst)
    check_closed_and_scored(database, server_env, burst)
    assert "Traceback" not in log


def test_killing_a_gunicorn_worker_mid_burst_loses_nothing_acknowledged(
        database, tokens, server_env, tmp_path):
    with servers.gunicorn(server_env, tmp_path / "gunicorn.log") as server:
        victims = server.children()
        assert len(victims) == 2
        burst = run_burst(server, tokens, lambda: os.kill(victims[0], signal.SIGKILL),
                          PER_CLIENT_KILLED)
        replaced = server.children()
    assert victims[0] not in replaced  # gunicorn started a new worker in its place
    check_nothing_lost(database, burst)
    assert burst.statuses[201] > 0
