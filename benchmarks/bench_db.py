"""Database benchmark: rescoring all forecasts and answering the leaderboard.

Builds a synthetic database with `forecasts synth` (default: 1,000,000 forecasts over
10,000 questions by 1,000 users, on a temporary SQLite file), then times, each as the median of
several runs:
- `rescore`: rescoring every resolved question from the database, in one transaction;
- `leaderboard`: the leaderboard service for metric brier with the crowd row;
- `leaderboard_cli`: `forecasts leaderboard --format json` as a fresh process;
- `cli_imports`: a fresh process that only imports what that command imports (the
  start-up part of `leaderboard_cli`);
and, as baselines in the same process, a plain fetch of the forecast rows and of the
score rows. Prints one JSON line. Run: python benchmarks/bench_db.py [--forecasts N]

`--keep PATH` builds the SQLite database at PATH and keeps it; a later run with the
same PATH reuses it (skipping the build, so `build_seconds` is null) instead of building
again, which saves minutes while iterating. `--forecasts` must then match the first
run's (checked); delete the file to rebuild.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forecasts import migrate  # noqa: E402
from forecasts.db import Database  # noqa: E402
from forecasts.services import leaderboard, scores, synth  # noqa: E402

def build(db: Database, n_forecasts: int, n_questions: int, n_users: int, hot: int,
          seed: int) -> None:
    """The data set of `forecasts synth` (valid bundle rows, so the database exports and
    re-imports), in one transaction."""
    with db.transaction() as session:
        synth.synth(session, questions=n_questions, users=n_users, forecasts=n_forecasts,
                    hot_question_forecasts=hot, seed=seed)


def timed(func, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forecasts", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--hot-question-forecasts", type=int, default=0,
                        help="Forecasts on one extra open question (issue #10 uses 50,000).")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", help="Default: a temporary SQLite file.")
    parser.add_argument("--keep", metavar="PATH",
                        help="SQLite file to build once and reuse on later runs.")
    args = parser.parse_args()
    if args.keep and args.database_url:
        parser.error("--keep and --database-url exclude each other")
    tmp = tempfile.TemporaryDirectory()
    reuse = bool(args.keep) and Path(args.keep).exists()
    if args.keep:
        url = f"sqlite:///{Path(args.keep).resolve()}"
    else:
        url = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    db = Database(url)
    build_seconds = None
    if reuse:
        if not migrate.is_current(db):
            parser.error(f"{args.keep} does not hold a current schema; delete it to rebuild")
        with db.engine.connect() as conn:
            held = conn.exec_driver_sql("SELECT count(*) FROM forecasts").scalar()
        if held != args.forecasts + args.hot_question_forecasts:
            parser.error(f"{args.keep} holds {held} forecasts, not "
                         f"{args.forecasts + args.hot_question_forecasts}; "
                         "delete it to rebuild")
    else:
        if not db.is_sqlite:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        migrate.upgrade(db)
        start = time.perf_counter()
        build(db, args.forecasts, args.questions, args.users, args.hot_question_forecasts, seed=1)
        build_seconds = round(time.perf_counter() - start, 2)

    def rescore() -> None:
        with db.transaction() as session:
            scores.rescore_questions(session, None)

    def fetch_forecasts() -> None:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT question_id, user_id, at, probability, probabilities_json "
                                 "FROM forecasts ORDER BY id").fetchall()

    def board() -> None:
        with db.session() as session:
            leaderboard.leaderboard(session, metric="brier", with_crowd=True)

    def fetch_scores() -> None:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT user_id, brier, log, peer, coverage "
                                 "FROM question_scores").fetchall()

    def board_cli() -> None:
        subprocess.run([sys.executable, "-m", "cli", "leaderboard", "--format", "json"],
                       cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "DATABASE_URL": url})

    def cli_imports() -> None:
        subprocess.run([sys.executable, "-c", "import cli, forecasts.services.leaderboard"],
                       cwd=ROOT, check=True, capture_output=True)

    rescore_s = timed(rescore, args.runs)
    fetch_s = timed(fetch_forecasts, args.runs)
    board_s = timed(board, max(args.runs, 5))
    scores_fetch_s = timed(fetch_scores, max(args.runs, 5))
    cli_s = timed(board_cli, args.runs)
    imports_s = timed(cli_imports, args.runs)
    with db.engine.connect() as conn:
        score_rows = conn.exec_driver_sql("SELECT count(*) FROM question_scores").scalar()
    print(json.dumps({
        "database": db.engine.dialect.name, "forecasts": args.forecasts,
        "questions": args.questions, "users": args.users,
        "hot_question_forecasts": args.hot_question_forecasts, "score_rows": score_rows,
        "build_seconds": build_seconds,
        "rescore_seconds": round(rescore_s, 3), "fetch_forecasts_seconds": round(fetch_s, 3),
        "rescore_to_fetch_ratio": round(rescore_s / fetch_s, 2),
        "leaderboard_seconds": round(board_s, 3), "fetch_scores_seconds": round(scores_fetch_s, 3),
        "leaderboard_to_fetch_ratio": round(board_s / scores_fetch_s, 2),
        "leaderboard_cli_seconds": round(cli_s, 3), "cli_imports_seconds": round(imports_s, 3),
    }))
    db.dispose()


if __name__ == "__main__":
    main()
