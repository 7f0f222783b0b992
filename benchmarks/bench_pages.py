"""In-process page timings: the leaderboard and the busiest forecaster's profile.

    python benchmarks/bench_pages.py DATABASE_URL [--repeat 5] [--path /extra ...]

Runs against a database `forecasts synth` already filled (benchmarks/bench_web.py's data
set, e.g. `--keep DIR`); no server, the Flask test client in this process. Each case is
requested once unmeasured (so caches hold what a running site's would) and then
`--repeat` times; one JSON line per case with the median and best milliseconds, the
body's bytes, and the median over the static file's median in the same run, and a
first `machine` line with the load average (the figures mean little without it).
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def busiest(app) -> str:
    """The username with the most forecasts (bench_web.py's profile case)."""
    from sqlalchemy import func, select

    from forecasts.models import Forecast, User
    with app.extensions["forecasts_db"].session() as session:
        user_id = session.execute(select(Forecast.user_id).group_by(Forecast.user_id)
                                  .order_by(func.count().desc()).limit(1)).scalar_one()
        return session.get(User, user_id).username


def timed(client, path: str, repeat: int) -> dict:
    """Median and best of `repeat` GETs of `path` after one unmeasured GET."""
    first = client.get(path)
    if first.status_code != 200:
        raise SystemExit(f"{path}: status {first.status_code}")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "best_ms": round(min(times), 1),
            "bytes": len(response.get_data())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--path", action="append", default=[],
                        help="Another page to time (repeatable).")
    args = parser.parse_args()
    from forecasts import create_app
    app = create_app({"DATABASE_URL": args.database_url, "TESTING": True,
                      "RATELIMIT_ENABLED": False, "FORECASTS_ENV": "testing"})
    user = busiest(app)
    client = app.test_client()
    print(json.dumps({"case": "machine", "cpus": os.cpu_count(),
                      "load": [round(x, 2) for x in os.getloadavg()]}), flush=True)
    cases = [("static", "/static/style.css"), ("leaderboard", "/leaderboard"),
             ("leaderboard_page_5", "/leaderboard?page=5"),
             ("profile", f"/users/{urllib.parse.quote(user)}"),
             ("calibration_svg", f"/users/{urllib.parse.quote(user)}/calibration.svg"),
             *((p, p) for p in args.path)]
    static = None
    for name, path in cases:
        result = timed(client, path, args.repeat)
        static = static or result["median_ms"]
        print(json.dumps({"case": name, "path": path, **result,
                          "median_to_static": round(result["median_ms"] / static, 1),
                          "load": round(os.getloadavg()[0], 2)}), flush=True)


if __name__ == "__main__":
    main()
