"""Leaderboards (SPEC section 6) from the persisted per-question scores.

The default ranking is the global peer score, sum(peer) / max(P, sum(coverage)) with
P = LEADERBOARD_PEER_PRIOR. Numeric and date questions (SPEC section 11) enter log, peer
and peer_global like the others; they have a CRPS and no Brier, so `brier` is the mean over
the user's questions that have one and `crps` over those that have one (None without
any), and the `brier` and `crps` boards rank over only those questions. Every row carries
relative_brier, the mean of (the user's
Brier - the crowd's Brier) over the user's questions; the crowd's own row has 0 there
(it is the baseline), and no peer scores. An interval is None when there is none to give:
a single question, or the crowd ranked by a peer metric.

Serving (issue #10): every transaction that changes scores bumps the score version and,
in the same transaction, stores a snapshot of the default board (peer_global over all
questions, minimum 1, with the crowd; `store_snapshots`). `leaderboard` serves a snapshot whose
version is current, and computes any other board on demand, caching it in the shared
cache under (score version, arguments, digest of the chosen questions): a tag edit on a
settled question changes a filtered board without changing scores, the digest sees it.
"""
from __future__ import annotations

import hashlib
import json
import sys
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import and_, case, delete, select
from sqlalchemy.orm import Session

import scoring
from forecasts import config, csvout
from forecasts.cache import cached
from forecasts.leaderboard_metrics import (DEFAULT_METRIC, LOWER_IS_BETTER, METRICS,
                                           OWN_QUESTIONS)
from forecasts.errors import InvalidInput
from forecasts.models import (CrowdScore, LeaderboardSnapshot, Question, QuestionScoreBlock,
                              QuestionTag, Resolution, User)
from forecasts.queries import SCORE_RECORD, fetch_columns
from forecasts.services import score_version

SNAPSHOT_METRICS = (DEFAULT_METRIC,)  # boards stored with every score change
COLUMNS = ("rank", "user", "questions", "brier", "log", "peer", "peer_total", "peer_global",
           "relative_brier", "coverage", "interval_low", "interval_high", "crps")
DEFAULT_BOOTSTRAP: int = config.DEFAULTS["LEADERBOARD_BOOTSTRAP"]
DEFAULT_SEED: int = config.DEFAULTS["LEADERBOARD_SEED"]
DEFAULT_PEER_PRIOR: float = config.DEFAULTS["LEADERBOARD_PEER_PRIOR"]


def question_filter(tag: str | None, resolved_from: datetime | None,
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


def leaderboard(session: Session, *, metric: str = DEFAULT_METRIC, tag: str | None = None,
                resolved_from: datetime | None = None, resolved_to: datetime | None = None,
                min_questions: int = 1, with_crowd: bool = False,
                n_boot: int = DEFAULT_BOOTSTRAP, seed: int = DEFAULT_SEED,
                peer_prior: float = DEFAULT_PEER_PRIOR) -> list[dict[str, Any]]:
    """Ranked rows {"rank", "user", "questions", "brier", "log", "peer", "peer_total",
    "peer_global", "relative_brier", "coverage", "interval", "crps"} (SPEC section 8);
    `brier` and `crps` are None for a user without a question having one. The crowd's
    row, if asked for, comes last with rank None. Served from a snapshot or the cache
    when one is current (the same rows as a fresh computation)."""
    if metric not in METRICS:
        raise InvalidInput(f"is not a metric (choose {', '.join(METRICS)})", where="metric")
    if isinstance(min_questions, bool) or not isinstance(min_questions, int) or min_questions < 1:
        raise InvalidInput("is not a whole number of at least 1", where="min_questions")
    tag = tag.strip().lower() if tag else None
    chosen = question_filter(tag, resolved_from, resolved_to)
    params = (n_boot, seed, float(peer_prior))

    def fresh() -> list[dict[str, Any]]:  # with the crowd, which callers may drop
        return compute(session, chosen, metric, min_questions, True, *params)

    version = score_version.for_cache(session)
    if not version:
        return compute(session, chosen, metric, min_questions, with_crowd, *params)
    if tag is None and resolved_from is None and resolved_to is None and min_questions == 1:
        key = snapshot_key(metric, *params)
        rows = _snapshot(session, key, version)
        if rows is None:
            rows = cached(f"leaderboard:{version}:{key}", fresh)
    else:
        digest = hashlib.blake2b(np.array(session.scalars(chosen.order_by(Question.id)).all(),
                                          np.int64).tobytes(), digest_size=12).hexdigest()
        key = "|".join((metric, f"min={min_questions}", f"boot={n_boot}", f"seed={seed}",
                        f"prior={float(peer_prior)!r}", f"questions={digest}"))
        rows = cached(f"leaderboard:{version}:{key}", fresh)
    return rows if with_crowd else [r for r in rows if r["rank"] is not None]


def compute(session: Session, chosen, metric: str, min_questions: int, with_crowd: bool,
            n_boot: int, seed: int, peer_prior: float) -> list[dict[str, Any]]:
    """The board of the `chosen` questions computed from the stored scores (no cache)."""
    board, means = _board(session, chosen, metric, min_questions, n_boot, seed, peer_prior)
    out = _rows(session, board, means, range(len(board.user)))
    out.sort(key=lambda r: (r["rank"], r["user"].lower()))
    if with_crowd:
        crowd = _crowd_row(session, chosen, metric, n_boot, seed)
        if crowd:
            out.append(crowd)
    return out


def snapshot_key(metric: str, n_boot: int, seed: int, peer_prior: float) -> str:
    """The snapshot key of a metric's board over all questions, minimum 1, with the crowd."""
    return f"{metric}|min=1|boot={n_boot}|seed={seed}|prior={float(peer_prior)!r}"


# Per process, the last snapshot read of each (database, key) with its score version: a
# snapshot never changes once committed at a version, and parsing its JSON costs more than
# a page's rendering. Callers must not modify the rows they are served.
_SERVED: dict[tuple[str, str], tuple[int, list[dict[str, Any]]]] = {}


def _snapshot(session: Session, key: str, version: int) -> list[dict[str, Any]] | None:
    where = (str(session.get_bind().url), key)
    served = _SERVED.get(where)
    if served is not None and served[0] == version:
        return list(served[1])
    data = session.scalar(select(LeaderboardSnapshot.data).where(
        LeaderboardSnapshot.key == key, LeaderboardSnapshot.score_version == version))
    if data is None:
        return None
    rows = json.loads(data)
    _SERVED[where] = (version, rows)
    return list(rows)


def board_settings() -> tuple[int, int, float]:
    """(bootstrap, seed, peer prior) of the running web app, else of the environment,
    so snapshots are drawn as the pages that read them will ask."""
    if "flask" in sys.modules:
        from flask import current_app, has_app_context
        if has_app_context():
            values = current_app.config
            return (values["LEADERBOARD_BOOTSTRAP"], values["LEADERBOARD_SEED"],
                    float(values["LEADERBOARD_PEER_PRIOR"]))
    values = config.load()
    return (values["LEADERBOARD_BOOTSTRAP"], values["LEADERBOARD_SEED"],
            float(values["LEADERBOARD_PEER_PRIOR"]))


def store_snapshots(session: Session, version: int) -> None:
    """Replace the snapshots with the default board at `version` (caller's transaction).

    Only the default: each board costs a bootstrap inside every score-changing
    transaction (SQLite's write lock is held meanwhile), and the other metrics are read
    far less often; they are computed on first request and cached."""
    params = board_settings()
    chosen = question_filter(None, None, None)
    session.execute(delete(LeaderboardSnapshot))
    session.add_all(LeaderboardSnapshot(
        key=snapshot_key(metric, *params), score_version=version,
        data=json.dumps(compute(session, chosen, metric, 1, True, *params)))
        for metric in SNAPSHOT_METRICS)
    session.flush()


def standing(session: Session, user: User, *, n_boot: int = DEFAULT_BOOTSTRAP,
             seed: int = DEFAULT_SEED, peer_prior: float = DEFAULT_PEER_PRIOR
             ) -> tuple[dict[str, Any] | None, int]:
    """One forecaster's row of the default (global peer) leaderboard over all questions
    (None if unranked) and the number of ranked forecasters, read from the board's
    snapshot (or cache) rather than recomputed."""
    rows = leaderboard(session, n_boot=n_boot, seed=seed, peer_prior=peer_prior)
    mine = [r for r in rows if r["user"] == user.username]
    return (mine[0] if mine else None), len(rows)


def _score_records(session: Session, chosen) -> tuple[np.ndarray, np.ndarray]:
    """The packed score records of the chosen questions, ordered by (question, user), and
    the crowd's Brier on each record's question (NaN if the crowd has no score)."""
    rows = session.execute(
        select(QuestionScoreBlock.question_id, QuestionScoreBlock.data, CrowdScore.brier)
        .outerjoin(CrowdScore, CrowdScore.question_id == QuestionScoreBlock.question_id)
        .where(QuestionScoreBlock.question_id.in_(chosen))
        .order_by(QuestionScoreBlock.question_id)).all()
    records = np.frombuffer(b"".join(data for _, data, _ in rows), SCORE_RECORD)
    sizes = np.array([len(data) // SCORE_RECORD.itemsize for _, data, _ in rows], np.int64)
    crowd = np.array([np.nan if b is None else b for _, _, b in rows], np.float64)
    return records, np.repeat(crowd, sizes)


def _board(session: Session, chosen, metric: str, min_questions: int, n_boot: int, seed: int,
           peer_prior: float) -> tuple[scoring.Leaderboard, dict[str, np.ndarray]]:
    """The engine's board and, aligned with its rows, the means that skip questions
    without the score: "brier", "crps" and "relative_brier" (NaN where none)."""
    # Ordered by (question, user), so the bootstrap intervals agree across databases.
    records, crowd_brier = _score_records(session, chosen)
    if metric in OWN_QUESTIONS:
        keep = ~np.isnan(records[metric])
        records, crowd_brier = records[keep], crowd_brier[keep]
    values = {k: records[k] for k in ("log", "peer", "coverage")}
    # The engine ranks "brier" on whichever score the board is of; the other rows' NaN
    # are zeros for it, and the means below replace the column it gives.
    ranked = "crps" if metric == "crps" else "brier"
    values["brier"] = np.nan_to_num(records[ranked], nan=0.0)
    board = scoring.leaderboard(records["user_id"], values,
                                metric="brier" if metric == "crps" else metric,
                                min_questions=min_questions, n_boot=n_boot, seed=seed,
                                peer_prior=peer_prior,
                                crowd_brier=None if metric == "crps" else crowd_brier)
    user = records["user_id"]
    has_brier = ~np.isnan(records["brier"])
    means = {"brier": _means(board.user, user, records["brier"], has_brier),
             "crps": _means(board.user, user, records["crps"], ~np.isnan(records["crps"])),
             "relative_brier": _means(board.user, user, records["brier"] - crowd_brier,
                                      has_brier)}
    return board, means


def _means(board_user: np.ndarray, user: np.ndarray, x: np.ndarray,
           mask: np.ndarray) -> np.ndarray:
    """Per user of `board_user`, the mean of `x` over their rows where `mask` holds (a NaN
    there makes it NaN), NaN for a user with none."""
    ids, code = np.unique(user, return_inverse=True)
    total = np.bincount(code, weights=np.where(mask, x, 0.0), minlength=ids.size)
    count = np.bincount(code, weights=mask.astype(np.float64), minlength=ids.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
    return mean[np.searchsorted(ids, board_user)]


def _number(x: float) -> float | None:
    """A float for JSON: NaN (unknown) becomes None."""
    return None if np.isnan(x) else float(x)


def _interval(low: float, high: float) -> list[float] | None:
    return None if np.isnan(low) or np.isnan(high) else [float(low), float(high)]


def _rows(session: Session, board: scoring.Leaderboard, means: dict[str, np.ndarray],
          which) -> list[dict[str, Any]]:
    """Rows of ``board`` at the positions ``which``, with usernames and ``means``."""
    ids = [int(board.user[i]) for i in which]
    names = dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())
    return [{"rank": int(board.rank[i]), "user": names[int(board.user[i])],
             "questions": int(board.questions[i]), "brier": _number(means["brier"][i]),
             "log": float(board.log[i]), "peer": float(board.peer[i]),
             "peer_total": float(board.peer_total[i]),
             "peer_global": float(board.peer_global[i]),
             "relative_brier": _number(means["relative_brier"][i]),
             "coverage": float(board.coverage[i]),
             "interval": _interval(board.interval_low[i], board.interval_high[i]),
             "crps": _number(means["crps"][i])}
            for i in which]


def _crowd_row(session: Session, chosen, metric: str, n_boot: int, seed: int) -> dict | None:
    brier, log, crps = fetch_columns(session, select(CrowdScore.brier, CrowdScore.log,
                                                     CrowdScore.crps)
                                     .where(CrowdScore.question_id.in_(chosen))
                                     .order_by(CrowdScore.question_id),
                                     (np.float64, np.float64, np.float64))
    if metric in OWN_QUESTIONS:
        keep = ~np.isnan(brier if metric == "brier" else crps)
        brier, log, crps = brier[keep], log[keep], crps[keep]
    if not brier.size:
        return None
    interval = None  # the crowd has no peer score, so no interval of one
    if metric in LOWER_IS_BETTER:
        zeros = np.zeros(brier.size)
        ranked = crps if metric == "crps" else brier
        board = scoring.leaderboard(np.zeros(brier.size, np.int64),
                                    {"brier": np.nan_to_num(ranked, nan=0.0), "log": log,
                                     "peer": zeros, "coverage": zeros + 1},
                                    metric="log" if metric == "log" else "brier",
                                    n_boot=n_boot, seed=seed)
        interval = _interval(board.interval_low[0], board.interval_high[0])

    def mean(x: np.ndarray) -> float | None:
        x = x[~np.isnan(x)]
        return float(x.mean()) if x.size else None

    return {"rank": None, "user": "crowd", "questions": brier.size, "brier": mean(brier),
            "log": float(log.mean()), "peer": None, "peer_total": None, "peer_global": None,
            "relative_brier": 0.0 if mean(brier) is not None else None, "coverage": None,
            "interval": interval, "crps": mean(crps)}


def flat_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the interval as two columns (empty when there is none), for tables and CSV."""
    return [{**{k: v for k, v in r.items() if k != "interval"},
             "interval_low": (r["interval"] or [None, None])[0],
             "interval_high": (r["interval"] or [None, None])[1]} for r in rows]


def leaderboard_csv(rows: list[dict[str, Any]]) -> str:
    """CSV of leaderboard rows through the one CSV writer (formula-like text neutralised)."""
    return csvout.write(flat_rows(rows), COLUMNS)
