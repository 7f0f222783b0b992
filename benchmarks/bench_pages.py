"""In-process page timings: the question list, the hot question's page, the leaderboard,
the busiest forecaster's profile, the API list and forecast submission.

    python benchmarks/bench_pages.py DATABASE_URL [--repeat 5] [--path /extra ...]
        [--submissions 200] [--statements]

Runs against a database `forecasts synth` already filled (benchmarks/bench_web.py's data
set, e.g. `--keep DIR`); no server, the Flask test client in this process. Each case is
requested once unmeasured (so caches hold what a running site's would) and then
`--repeat` times; one JSON line per case with the median and best milliseconds, the
body's bytes, the SQL statements of one request, and the median over the static file's
median in the same run, and a first `machine` line with the load average (the figures
mean little without it). The hot question's page is timed logged out and logged in as
one of its forecasters (who is given a password for the purpose: the database is the
benchmark's own). Last, `--submissions` API forecasts on the hot question (tokens of
several forecasters, every answer must be 201) give submissions a second.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKENS = 8


def busiest(app) -> str:
    """The username with the most forecasts (bench_web.py's profile case)."""
    from sqlalchemy import func, select

    from forecasts.models import Forecast, User
    with app.extensions["forecasts_db"].session() as session:
        user_id = session.execute(select(Forecast.user_id).group_by(Forecast.user_id)
                                  .order_by(func.count().desc()).limit(1)).scalar_one()
        return session.get(User, user_id).username


def hot_question(app) -> dict[str, Any]:
    """The question with the most forecasts, a forecaster of it made able to log in, and
    API tokens of several users."""
    from sqlalchemy import func, select

    from forecasts.models import Forecast, Question, User
    from forecasts.services import tokens
    with app.extensions["forecasts_db"].transaction() as session:
        qid = session.execute(select(Forecast.question_id).group_by(Forecast.question_id)
                              .order_by(func.count().desc()).limit(1)).scalar_one()
        question = session.get(Question, qid)
        forecaster = session.get(User, session.scalars(
            select(Forecast.user_id).where(Forecast.question_id == qid).limit(1)).one())
        if not forecaster.password_hash:
            forecaster.password_hash = "bench"  # only for the session cookie below
        users = session.scalars(select(User).order_by(User.id).limit(TOKENS)).all()
        plain = [tokens.create_token(session, u, "bench-pages")[1] for u in users]
        return {"slug": question.slug, "kind": question.kind,
                "options": len(question.options), "forecaster_id": forecaster.id,
                "epoch": forecaster.session_epoch, "tokens": plain}


def counting(app):
    """The SQL statements run on the app's engine inside the block."""
    return app.extensions["forecasts_db"].statements()


def timed(app, client, path: str, repeat: int) -> dict:
    """Median and best of `repeat` GETs of `path` after one unmeasured GET."""
    first = client.get(path)
    if first.status_code != 200:
        raise SystemExit(f"{path}: status {first.status_code}")
    with counting(app) as seen:
        client.get(path)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "best_ms": round(min(times), 1),
            "bytes": len(response.get_data()), "statements": len(seen)}


def submissions(app, client, hot: dict[str, Any], n: int) -> dict:
    """`n` API forecasts on the hot question, round robin over the tokens."""
    if hot["kind"] == "binary":
        bodies = [{"probability": round(0.05 + 0.9 * i / 97, 3)} for i in range(97)]
    else:
        k = hot["options"]
        share = round(1 / k, 3)
        bodies = [{"probabilities": [share] * (k - 1) + [round(1 - (k - 1) * share, 3)]}]
    path = f"/api/v1/questions/{urllib.parse.quote(hot['slug'])}/forecasts"

    def post(i: int) -> None:
        response = client.post(path, json=bodies[i % len(bodies)], headers={
            "Authorization": f"Bearer {hot['tokens'][i % len(hot['tokens'])]}"})
        if response.status_code != 201:
            raise SystemExit(f"{path}: status {response.status_code} {response.get_data()[:200]}")

    post(0)
    with counting(app) as seen:
        post(1)
    start = time.perf_counter()
    for i in range(n):
        post(i)
    seconds = time.perf_counter() - start
    return {"per_second": round(n / seconds, 1), "median_ms": round(seconds / n * 1000, 1),
            "submissions": n, "statements": len(seen)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--path", action="append", default=[],
                        help="Another page to time (repeatable).")
    parser.add_argument("--submissions", type=int, default=200,
                        help="API forecasts to post on the hot question (0: none).")
    parser.add_argument("--only", action="append", default=[],
                        help="Time only these cases (repeatable; the static file always).")
    args = parser.parse_args()
    from forecasts import create_app
    app = create_app({"DATABASE_URL": args.database_url, "TESTING": True,
                      "RATELIMIT_ENABLED": False, "FORECASTS_ENV": "testing"})
    user = urllib.parse.quote(busiest(app))
    hot = hot_question(app)
    slug = urllib.parse.quote(hot["slug"])
    client, member = app.test_client(), app.test_client()
    with member.session_transaction() as cookie:
        cookie["_user_id"] = f"{hot['forecaster_id']}:{hot['epoch']}"
        cookie["_fresh"] = True
    print(json.dumps({"case": "machine", "cpus": os.cpu_count(),
                      "load": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    cases = [("static", client, "/static/style.css"), ("questions", client, "/"),
             ("questions_open", client, "/?status=open"),
             ("question_hot", client, f"/questions/{slug}"),
             ("question_hot_forecaster", member, f"/questions/{slug}"),
             ("api_questions", client, "/api/v1/questions"),
             ("api_question_hot", client, f"/api/v1/questions/{slug}"),
             ("leaderboard", client, "/leaderboard"),
             ("leaderboard_page_5", client, "/leaderboard?page=5"),
             ("profile", client, f"/users/{user}"),
             ("calibration_svg", client, f"/users/{user}/calibration.svg"),
             *((p, client, p) for p in args.path)]
    static = None
    for name, who, path in cases:
        if args.only and name != "static" and name not in args.only:
            continue
        result = timed(app, who, path, args.repeat)
        static = static or result["median_ms"]
        print(json.dumps({"case": name, "path": path, **result,
                          "median_to_static": round(result["median_ms"] / static, 1),
                          "load": round(os.getloadavg()[0], 2)}), flush=True)
    if args.submissions and (not args.only or "submit_forecast" in args.only):
        result = submissions(app, client, hot, args.submissions)
        print(json.dumps({"case": "submit_forecast", **result,
                          "load": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
