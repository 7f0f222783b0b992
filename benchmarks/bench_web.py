"""Web benchmark: gunicorn with 2 workers under a bounded load; one JSON line per case.

    python benchmarks/bench_web.py [--databases sqlite,postgresql] [--seconds 10]

For each database it builds the data set with `forecasts synth` (BENCH_WEB_FORECASTS
forecasts, default 1,000,000, over one question per 100 forecasts and one user per
1,000, plus one open binary question with BENCH_WEB_HOT_FORECASTS, default a tenth of
that), issues API tokens to a few users, starts `gunicorn --workers 2` on a free port of
127.0.0.1, and drives it from a second process: `--clients` threads (default 8), each with
its own keep-alive connection, for `--seconds` (default 10) or `--requests` per case,
whichever ends first, after `--warmup` (default 2) unmeasured requests per client (the
load generator and the gunicorn helpers are in benchmarks/webload.py). The cases: a static file
first (the baseline), then the question list, the open list, the hot question's page and
its crowd chart, the leaderboard, the busiest user's profile, the API question list, the
API detail of the hot question, the API leaderboard, and last forecast submission (API
POST on the hot question, tokens of several users, any status but 201 is an error).

Each line: case, database, path, requests, errors, statuses, p50_ms, p99_ms,
requests_per_s, bytes (the last response body's size), worker_rss_mb (each gunicorn
worker's resident memory after the case, from /proc), and p50_to_static (p50 over the
static file's p50 in the same run). SQLite goes to a temporary directory (or `--keep DIR`,
reused when it already holds a database of the same size); PostgreSQL to BENCH_PG_URL
(default postgresql://postgres@127.0.0.1:5432/bench, created when missing and emptied
before the build, then ANALYZEd). The gunicorn processes get this process's environment, so settings
such as CACHE_URL apply to them; rate limits are off (RATELIMIT_ENABLED=0) unless set.
Workers are gunicorn's sync workers (one request at a time, no keep-alive), or gthread
workers with BENCH_WEB_THREADS (or `--threads`) above 1.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import webload  # noqa: E402
BIN = Path(sys.executable).parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench"
TOKENS = 8  # users posting forecasts in the submission case


# --- the data set ------------------------------------------------------------------------

def sizes(n_forecasts: int, hot: int | None) -> dict[str, int]:
    """synth's arguments for about ``n_forecasts`` forecasts."""
    return {"questions": max(n_forecasts // 100, 10), "users": max(n_forecasts // 1000, 20),
            "forecasts": n_forecasts,
            "hot_question_forecasts": n_forecasts // 10 if hot is None else hot}


def forecasts_cli() -> list[str]:
    """The `forecasts` command of this interpreter's environment."""
    exe = BIN / "forecasts"
    return [str(exe)] if exe.exists() else [sys.executable, str(ROOT / "cli.py")]


def prepare_postgres(url: str) -> None:
    """Create the database when missing, then empty it (it is the benchmark's own)."""
    from sqlalchemy import create_engine, text
    sys.path.insert(0, str(ROOT))
    from forecasts.db import normalise_url
    parts = urllib.parse.urlsplit(normalise_url(url))
    name = parts.path.lstrip("/")
    if name in ("", "postgres", "test"):
        raise SystemExit(f"BENCH_PG_URL: refusing to empty database {name!r}")
    admin = create_engine(urllib.parse.urlunsplit(parts._replace(path="/postgres")),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def build(url: str, size: dict[str, int], env: dict[str, str]) -> float:
    """Migrate and fill the database with `forecasts synth`; returns the seconds taken."""
    sys.path.insert(0, str(ROOT))
    from forecasts import migrate
    from forecasts.db import Database
    db = Database(url)
    migrate.upgrade(db)  # as `forecasts init-db`, without starting another interpreter
    db.dispose()
    start = time.perf_counter()
    subprocess.run([*forecasts_cli(), "synth", "--questions", str(size["questions"]),
                    "--users", str(size["users"]), "--forecasts", str(size["forecasts"]),
                    "--hot-question-forecasts", str(size["hot_question_forecasts"]),
                    "--seed", "1"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def holds(url: str, size: dict[str, int]) -> bool:
    """Whether the database already holds this size's synth data set (for --keep)."""
    from sqlalchemy import create_engine, text
    from forecasts.db import normalise_url
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            n = conn.execute(text("SELECT count(*) FROM questions")).scalar()
            hot = conn.execute(text("SELECT count(*) FROM questions WHERE slug = :s"),
                               {"s": f"s1-q-{size['questions']}"}).scalar()
        return n == size["questions"] + 1 and hot == 1
    except Exception:  # no schema yet: build it
        return False
    finally:
        engine.dispose()


def analyze(url: str) -> None:
    """Refresh PostgreSQL's planner statistics."""
    from sqlalchemy import create_engine, text
    from forecasts.db import normalise_url
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def targets(url: str, size: dict[str, int]) -> dict:
    """Slugs, a username and fresh API tokens for the cases, read from the database."""
    from sqlalchemy import func, select
    sys.path.insert(0, str(ROOT))
    from forecasts.db import Database
    from forecasts.models import Forecast, Question, User
    from forecasts.services import tokens
    db = Database(url)
    with db.transaction() as session:
        # synth adds the hot question last (seed 1 names it s1-q-<questions>).
        hot = session.scalars(select(Question).where(
            Question.slug == f"s1-q-{size['questions']}")).one()
        hot_count = session.scalar(select(func.count()).where(Forecast.question_id == hot.id))
        busiest = session.execute(
            select(Forecast.user_id).group_by(Forecast.user_id)
            .order_by(func.count().desc()).limit(1)).scalar_one()
        users = session.scalars(select(User).order_by(User.id).limit(TOKENS)).all()
        plain = [tokens.create_token(session, u, "bench-web")[1] for u in users]
        result = {"hot": hot.slug, "hot_kind": hot.kind, "hot_forecasts": hot_count,
                  "hot_options": len(json.loads(hot.options_json)) if hot.options_json else 2,
                  "profile": session.get(User, busiest).username, "tokens": plain}
    db.dispose()
    return result


def cases(t: dict) -> list[dict]:
    """The benchmark's requests, the static baseline first and the writes last."""
    if t["hot_kind"] == "binary":
        bodies = [{"probability": round(0.05 + 0.9 * i / 97, 3)} for i in range(97)]
    else:
        k = t["hot_options"]
        share = round(1 / k, 3)
        bodies = [{"probabilities": [share] * (k - 1) + [round(1 - (k - 1) * share, 3)]}]
    hot = urllib.parse.quote(t["hot"])
    get = lambda name, path: {"case": name, "method": "GET", "path": path}  # noqa: E731
    return [
        get("static", "/static/style.css"),
        get("questions", "/"),
        get("questions_open", "/?status=open"),
        get("question_hot", f"/questions/{hot}"),
        get("chart_hot", f"/questions/{hot}/crowd.svg"),
        get("leaderboard", "/leaderboard"),
        get("profile", f"/users/{urllib.parse.quote(t['profile'])}"),
        get("api_questions", "/api/v1/questions"),
        get("api_question_hot", f"/api/v1/questions/{hot}"),
        get("api_leaderboard", "/api/v1/leaderboard"),
        {"case": "submit_forecast", "method": "POST", "path": f"/api/v1/questions/{hot}/forecasts",
         "expect": 201, "bodies": bodies, "tokens": t["tokens"]},
    ]


# --- one database ----------------------------------------------------------------------------

def bench_database(kind: str, url: str, size: dict[str, int], args, env: dict[str, str]) -> None:
    """Build (or reuse), serve, and print one line per case for one database."""
    env = {**env, "DATABASE_URL": url}
    build_s = None
    if kind == "postgresql":
        if not (args.keep and holds(url, size)):
            prepare_postgres(url)
            build_s = build(url, size, env)
        # The planner has no statistics on freshly bulk-loaded tables until autovacuum gets
        # to them; without them it picks nested loops over 10,000 x 6,000 rows. A DBA runs
        # ANALYZE after a bulk load, and so does the benchmark.
        analyze(url)
    elif not args.reuse:
        # Built under a temporary name, so an interrupted build is never reused.
        path = Path(url.removeprefix("sqlite:///"))
        part = path.with_name(path.name + ".part")
        for stale in (part, part.with_name(part.name + "-wal"), part.with_name(part.name + "-shm")):
            stale.unlink(missing_ok=True)
        build_s = build(f"sqlite:///{part}", size, {**env, "DATABASE_URL": f"sqlite:///{part}"})
        os.replace(part, path)
    t = targets(url, size)
    print(json.dumps({"case": "data_set", "database": kind, **size,
                      "hot_forecasts": t["hot_forecasts"],
                      "build_seconds": None if build_s is None else round(build_s, 1)}),
          flush=True)
    port = webload.free_port()
    with tempfile.NamedTemporaryFile("w+", prefix="bench-web-gunicorn-", suffix=".log",
                                     delete=False) as log:
        proc = webload.start_gunicorn(port, env, log, args.threads)
        try:
            static_p50 = None
            for case in cases(t):
                if args.cases and case["case"] not in args.cases and case["case"] != "static":
                    continue
                job = {"port": port, "case": case, "clients": args.clients,
                       "seconds": args.seconds, "requests": args.requests,
                       "warmup": args.warmup}
                out = subprocess.run([sys.executable, webload.__file__], input=json.dumps(job),
                                     capture_output=True, text=True, timeout=args.seconds + 600)
                if out.returncode:
                    raise SystemExit(f"the load generator failed on {case['case']}:\n{out.stderr}")
                r = json.loads(out.stdout)
                if case["case"] == "static":
                    static_p50 = r["p50_ms"]
                ratio = (round(r["p50_ms"] / static_p50, 1)
                         if r["p50_ms"] is not None and static_p50 else None)
                rss = [webload.rss_mb(p) for p in webload.workers(proc.pid)]
                print(json.dumps({"case": case["case"], "database": kind, "path": case["path"],
                                  **r, "worker_rss_mb": rss,
                                  "p50_to_static": ratio}), flush=True)
        finally:
            webload.stop(proc)
    if os.path.getsize(log.name) and proc.returncode not in (0, -signal.SIGTERM):
        print(f"gunicorn log: {log.name}", file=sys.stderr)
    else:
        os.unlink(log.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql",
                        help="Comma-separated: sqlite, postgresql.")
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("BENCH_WEB_SECONDS", 10)))
    parser.add_argument("--requests", type=int, default=100_000,
                        help="At most this many measured requests per case.")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2,
                        help="Unmeasured requests per client before each case.")
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_WEB_THREADS", 1)),
                        help="Threads per gunicorn worker; above 1, gthread workers (keep-alive).")
    parser.add_argument("--keep", metavar="DIR",
                        help="Keep (and reuse) the SQLite database here; reuse a PostgreSQL "
                             "database that already holds the data set.")
    parser.add_argument("--cases", type=lambda text: set(filter(None, text.split(","))),
                        help="Comma-separated case names to run (the static baseline always "
                             "runs); default all.")
    args = parser.parse_args()
    n = int(os.environ.get("BENCH_WEB_FORECASTS", 1_000_000))
    hot = os.environ.get("BENCH_WEB_HOT_FORECASTS")
    size = sizes(n, int(hot) if hot else None)
    env = {**os.environ, "FORECASTS_ENV": os.environ.get("FORECASTS_ENV", "production"),
           # Throughput, not throttling, is measured here: the limits stay off unless set.
           "RATELIMIT_ENABLED": os.environ.get("RATELIMIT_ENABLED", "0"),
           "SECRET_KEY": os.environ.get("SECRET_KEY", os.urandom(16).hex()),
           "PYTHONPATH": str(ROOT)}
    print(json.dumps({"case": "machine", "cpus": os.cpu_count(),
                      "load_1min": round(os.getloadavg()[0], 2), "clients": args.clients,
                      "seconds_per_case": args.seconds, "gunicorn_workers": 2,
                      "threads_per_worker": args.threads}), flush=True)
    tmp = None
    for kind in [d.strip() for d in args.databases.split(",") if d.strip()]:
        if kind == "sqlite":
            if args.keep:
                Path(args.keep).mkdir(parents=True, exist_ok=True)
                name = f"bench-web-{n}-{size['hot_question_forecasts']}.sqlite3"
                path = Path(args.keep).resolve() / name
            else:
                tmp = tempfile.mkdtemp(prefix="bench-web-")
                path = Path(tmp) / "bench.sqlite3"
            args.reuse = path.exists()
            bench_database("sqlite", f"sqlite:///{path}", size, args,
                           {**env, "FORECASTS_INSTANCE_PATH": str(path.parent)})
        elif kind == "postgresql":
            args.reuse = False
            bench_database("postgresql", os.environ.get("BENCH_PG_URL", DEFAULT_PG), size, args,
                           env)
        else:
            parser.error(f"--databases: unknown {kind!r} (sqlite or postgresql)")
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
