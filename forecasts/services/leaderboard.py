"""Leaderboards (SPEC section 6) from the persisted per-question scores."""
from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

import scoring
from forecasts.errors import InvalidInput
from forecasts.models import CrowdScore, Question, QuestionTag, Resolution, User
from forecasts.queries import fetch_columns, score_records

METRICS = ("brier", "log", "peer", "peer_total")
COLUMNS = ("rank", "user", "questions", "brier", "log", "peer", "peer_total", "coverage",
           "interval_low", "interval_high")
DEFAULT_BOOTSTRAP = 1000
DEFAULT_SEED = 20260101


def _question_filter(tag: str | None, resolved_from: datetime | None,
                     resolved_to: datetime | None):
    """Ids of scored questions passing the filters, as a subquery."""
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    effective_close = case((and_(Resolution.known_at.is_not(None),
                                 Resolution.known_at < Question.close_at), Resolution.known_at),
                           else_=Question.close_at)
    stmt = select(Question.id).join(Resolution, current)
    if tag:
        stmt = stmt.where(Question.id.in_(select(QuestionTag.question_id)
                                          .where(QuestionTag.tag == tag.strip().lower())))
    if resolved_from is not None:
        stmt = stmt.where(effective_close >= resolved_from)
    if resolved_to is not None:
        stmt = stmt.where(effective_close < resolved_to)
    return stmt


def leaderboard(session: Session, *, metric: str = "brier", tag: str | None = None,
                resolved_from: datetime | None = None, resolved_to: datetime | None = None,
                min_questions: int = 1, with_crowd: bool = False,
                n_boot: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """Ranked rows {"rank", "user", "questions", "brier", "log", "peer", "peer_total",
    "coverage", "interval"}; the crowd's row, if asked for, comes last with rank None."""
    if metric not in METRICS:
        raise InvalidInput(f"{metric!r} is not a metric ({', '.join(METRICS)})", where="metric")
    if isinstance(min_questions, bool) or not isinstance(min_questions, int) or min_questions < 1:
        raise InvalidInput(f"{min_questions!r} is not a whole number of at least 1",
                           where="min_questions")
    chosen = _question_filter(tag, resolved_from, resolved_to)
    board = _board(session, chosen, metric, min_questions, n_boot, seed)
    out = _rows(session, board, range(len(board.user)))
    out.sort(key=lambda r: (r["rank"], r["user"].lower()))
    if with_crowd:
        crowd = _crowd_row(session, chosen, metric, n_boot, seed)
        if crowd:
            out.append(crowd)
    return out


def standing(session: Session, user: User, *, n_boot: int = DEFAULT_BOOTSTRAP,
             seed: int = DEFAULT_SEED) -> tuple[dict[str, Any] | None, int]:
    """One forecaster's row of the Brier leaderboard over all questions (None if
    unranked) and the number of ranked forecasters. The bootstrap interval is
    drawn for that forecaster only; it equals the full leaderboard's to rounding."""
    board = _board(session, _question_filter(None, None, None), "brier", 1, n_boot, seed,
                   intervals_for=[user.id])
    at = np.flatnonzero(board.user == user.id)
    return (_rows(session, board, at.tolist())[0] if at.size else None), len(board.user)


def _board(session: Session, chosen, metric: str, min_questions: int, n_boot: int, seed: int,
           intervals_for: list[int] | None = None) -> scoring.Leaderboard:
    # Ordered by (question, user), so the bootstrap intervals agree across databases.
    records = score_records(session, chosen)
    return scoring.leaderboard(records["user_id"],
                               {k: records[k] for k in ("brier", "log", "peer", "coverage")},
                               metric=metric, min_questions=min_questions, n_boot=n_boot,
                               seed=seed, intervals_for=intervals_for)


def _rows(session: Session, board: scoring.Leaderboard, which) -> list[dict[str, Any]]:
    """Rows of ``board`` at the positions ``which``, with usernames."""
    ids = [int(board.user[i]) for i in which]
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
    return [{"rank": int(board.rank[i]), "user": names[int(board.user[i])],
             "questions": int(board.questions[i]), "brier": float(board.brier[i]),
             "log": float(board.log[i]), "peer": float(board.peer[i]),
             "peer_total": float(board.peer_total[i]), "coverage": float(board.coverage[i]),
             "interval": [float(board.interval_low[i]), float(board.interval_high[i])]}
            for i in which]


def _crowd_row(session: Session, chosen, metric: str, n_boot: int, seed: int) -> dict | None:
    brier, log = fetch_columns(session, select(CrowdScore.brier, CrowdScore.log)
                               .where(CrowdScore.question_id.in_(chosen))
                               .order_by(CrowdScore.question_id), (np.float64, np.float64))
    if not brier.size:
        return None
    interval = [None, None]
    if metric in ("brier", "log"):
        zeros = np.zeros(brier.size)
        board = scoring.leaderboard(np.zeros(brier.size, np.int64),
                                    {"brier": brier, "log": log, "peer": zeros, "coverage": zeros + 1},
                                    metric=metric, n_boot=n_boot, seed=seed)
        interval = [float(board.interval_low[0]), float(board.interval_high[0])]
    return {"rank": None, "user": "crowd", "questions": brier.size, "brier": float(brier.mean()),
            "log": float(log.mean()), "peer": None, "peer_total": None, "coverage": None,
            "interval": interval}


def flat_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the interval as two columns, for tables and CSV."""
    return [{**{k: v for k, v in r.items() if k != "interval"},
             "interval_low": r["interval"][0], "interval_high": r["interval"][1]} for r in rows]


def _safe_cell(value: Any) -> Any:
    # A spreadsheet runs cells starting with these as formulas (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def leaderboard_csv(rows: list[dict[str, Any]]) -> str:
    """CSV of leaderboard rows, with formula-like text cells neutralised."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in flat_rows(rows):
        writer.writerow({k: _safe_cell(v) for k, v in row.items()})
    return out.getvalue()
