"""Smoke test of `make bench-web`: benchmarks/bench_web.py on a tiny data set.

It builds the data set with `forecasts synth`, serves it with gunicorn (2 workers on
127.0.0.1), drives every case from a client process and prints one JSON line per case;
the forecasts the submission case reports as accepted must be in the database.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from forecasts.db import Database, normalise_url
from forecasts.models import Forecast

ROOT = Path(__file__).resolve().parent.parent
CASES = ["static", "questions", "questions_open", "question_hot", "chart_hot", "leaderboard",
         "profile", "api_questions", "api_question_hot", "api_leaderboard", "submit_forecast"]
FORECASTS, HOT, CLIENTS = 2000, 300, 2
PG_URL = os.environ.get("TEST_DATABASE_URL")


def run_bench(tmp_path: Path, databases: str, extra_env: dict[str, str]) -> list[dict]:
    env = {**os.environ, "BENCH_WEB_FORECASTS": str(FORECASTS),
           "BENCH_WEB_HOT_FORECASTS": str(HOT), **extra_env}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_web.py"), "--databases", databases,
         "--seconds", "0.2", "--requests", "40", "--clients", str(CLIENTS), "--warmup", "0",
         "--keep", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return [json.loads(line) for line in out.stdout.splitlines()]


def check(lines: list[dict], database: str, url: str) -> None:
    mine = [x for x in lines if x.get("database") == database]
    data_set = next(x for x in mine if x["case"] == "data_set")
    assert data_set["hot_forecasts"] == HOT
    rows = {x["case"]: x for x in mine if x["case"] != "data_set"}
    assert list(rows) == CASES
    for name, r in rows.items():
        assert 0 < r["requests"] <= 40, name
        assert r["errors"] == 0, (name, r["statuses"])
        assert 0 < r["p50_ms"] <= r["p99_ms"], name
        assert r["requests_per_s"] > 0 and r["bytes"] > 0, name
        assert len(r["worker_rss_mb"]) == 2 and all(m > 10 for m in r["worker_rss_mb"]), name
        assert r["p50_to_static"] == pytest.approx(r["p50_ms"] / rows["static"]["p50_ms"], abs=0.06)
    # Every 201 counted is a stored forecast, and nothing else was stored (no warm-up).
    db = Database(url)
    with db.session() as session:
        stored = session.scalar(select(func.count()).select_from(Forecast))
    db.dispose()
    accepted = rows["submit_forecast"]["statuses"]["201"]
    assert stored - FORECASTS - HOT == accepted


def test_bench_web_sqlite(tmp_path):
    lines = run_bench(tmp_path, "sqlite", {})
    assert lines[0]["case"] == "machine"
    (path,) = tmp_path.glob("bench-web-*.sqlite3")
    check(lines, "sqlite", f"sqlite:///{path}")


@pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not a PostgreSQL database")
def test_bench_web_postgresql(tmp_path):
    # A sibling of the test database: the benchmark empties its database before building.
    parts = urllib.parse.urlsplit(PG_URL)
    name = parts.path.lstrip("/") + "_bench"
    url = urllib.parse.urlunsplit(parts._replace(path="/" + name))
    try:
        check(run_bench(tmp_path, "postgresql", {"BENCH_PG_URL": url}), "postgresql", url)
    finally:
        postgres = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        admin = create_engine(normalise_url(postgres), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
