"""Scores: computed by the engine from database arrays, persisted with each resolution."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import scoring
from forecasts.models import CrowdScore, Question, QuestionScore, QuestionScoreBlock, User
from forecasts.numeric_inputs import numeric_inputs
from forecasts.queries import SCORE_RECORD, score_inputs
from forecasts.services import aggregation, leaderboard, score_version
from forecasts.services.questions import current_resolution


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # NaN -> NULL


def rescore_questions(session: Session, question_ids: Sequence[int] | None = None, *,
                      aggregator: scoring.Aggregator = scoring.MEDIAN) -> int:
    """Replace the stored scores of these questions (all questions when None), the
    crowd's made by `aggregator` (the configured one: `aggregation.configured`).

    Runs in the caller's transaction, so a failure leaves the old scores in place. Bumps
    the score version and stores the leaderboard snapshots in that same transaction.
    Returns the number of (question, user) score rows written.
    """
    if question_ids is not None and not question_ids:
        return 0
    # First, so that concurrent score changes queue on the counter's row (PostgreSQL) and
    # each one's snapshots are drawn from every score committed before it.
    version = score_version.bump(session)
    n = _rescore(session, question_ids, aggregator)
    leaderboard.store_snapshots(session, version)
    return n


def _rescore(session: Session, question_ids: Sequence[int] | None,
             aggregator: scoring.Aggregator) -> int:
    for model in (QuestionScore, QuestionScoreBlock, CrowdScore):
        session.execute(delete(model) if question_ids is None else
                        delete(model).where(model.question_id.in_(list(question_ids))))
    return (_rescore_discrete(session, question_ids, aggregator)
            + _rescore_numeric(session, question_ids, aggregator))


def _rescore_discrete(session: Session, question_ids: Sequence[int] | None,
                      aggregator: scoring.Aggregator) -> int:
    """Binary and multiple-choice questions: `scoring.score_questions`."""
    inputs = score_inputs(session, question_ids)
    if len(inputs.question_id) == 0:
        return 0
    result = scoring.score_questions(inputs.questions, inputs.forecasts, method=aggregator)
    qid = inputs.question_id
    row_question = qid[result.question]
    _insert_blocks(session, row_question, result.user,
                   {name: getattr(result, name) for name in ("brier", "log", "peer", "coverage")})
    rows = list(zip(row_question.tolist(), result.user.tolist(), result.brier.tolist(),
                    result.log.tolist(), _nullable(result.rps), result.peer.tolist(),
                    result.coverage.tolist()))
    _insert(session, QuestionScore, ("question_id", "user_id", "brier", "log", "rps", "peer",
                                     "coverage"), rows)
    crowd = np.flatnonzero(~np.isnan(result.crowd_brier))
    made_by = [aggregation.label(aggregator)] * len(crowd)
    _insert(session, CrowdScore, ("question_id", "brier", "log", "rps", "aggregator"),
            list(zip(qid[crowd].tolist(), result.crowd_brier[crowd].tolist(),
                     result.crowd_log[crowd].tolist(), _nullable(result.crowd_rps[crowd]),
                     made_by)))
    return len(rows)


def _rescore_numeric(session: Session, question_ids: Sequence[int] | None,
                     aggregator: scoring.Aggregator) -> int:
    """Numeric and date questions: `scoring.score_numeric` (SPEC section 11); no Brier or
    RPS. Their crowd is always the mean CDF; its row carries the configured aggregator's
    label only so that `aggregation` does not take it for a stale one."""
    inputs = numeric_inputs(session, question_ids)
    if len(inputs.question_id) == 0:
        return 0
    result = scoring.score_numeric(inputs.questions, inputs.forecasts)
    qid = inputs.question_id
    row_question = qid[result.question]
    _insert_blocks(session, row_question, result.user,
                   {name: getattr(result, name) for name in ("log", "peer", "coverage", "crps")})
    rows = list(zip(row_question.tolist(), result.user.tolist(), result.crps.tolist(),
                    result.log.tolist(), result.peer.tolist(), result.coverage.tolist()))
    _insert(session, QuestionScore, ("question_id", "user_id", "crps", "log", "peer",
                                     "coverage"), rows)
    crowd = np.flatnonzero(~np.isnan(result.crowd_crps))
    _insert(session, CrowdScore, ("question_id", "crps", "log", "aggregator"),
            list(zip(qid[crowd].tolist(), result.crowd_crps[crowd].tolist(),
                     result.crowd_log[crowd].tolist(),
                     [aggregation.label(aggregator)] * len(crowd))))
    return len(rows)


def _insert_blocks(session: Session, question_id: np.ndarray, user: np.ndarray,
                   values: dict[str, np.ndarray]) -> None:
    """One QuestionScoreBlock per question: its rows (sorted by user) packed; the
    SCORE_RECORD fields not in `values` are NaN."""
    records = np.empty(len(question_id), SCORE_RECORD)
    records["user_id"] = user
    for name in SCORE_RECORD.names[1:]:
        records[name] = np.nan
    for name, column in values.items():
        records[name] = column
    starts = np.flatnonzero(np.diff(question_id, prepend=-1))
    ends = np.append(starts[1:], len(question_id))
    _insert(session, QuestionScoreBlock, ("question_id", "data"),
            [(q, records[s:e].tobytes())  # a loop over questions, not forecasts
             for q, s, e in zip(question_id[starts].tolist(), starts.tolist(), ends.tolist())])


def _insert(session: Session, model: type, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """A driver-level executemany of plain tuples (no per-row dicts or type processing),
    in the session's transaction."""
    if not rows:
        return
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(f"INSERT INTO {model.__tablename__} ({', '.join(columns)}) "
                         f"VALUES ({', '.join([mark] * len(columns))})", rows)


def question_scores(session: Session, question: Question) -> dict[str, Any] | None:
    """SPEC section 8's `scores` document; None while the question is unsettled.

    Numeric and date questions (SPEC section 11) carry `crps` where others carry `brier`
    (and `rps`, ordered ones), and the resolved `value` beside the outcome."""
    resolution = current_resolution(session, question)
    if resolution is None:
        return None
    users: dict[str, dict[str, float | None]] = {}
    rows = session.execute(
        select(User.username, QuestionScore.brier, QuestionScore.crps, QuestionScore.log,
               QuestionScore.rps, QuestionScore.peer, QuestionScore.coverage)
        .join(User, User.id == QuestionScore.user_id)
        .where(QuestionScore.question_id == question.id).order_by(User.username)).all()
    first = "crps" if question.continuous else "brier"
    for name, brier, crps, log, rps, peer, coverage in rows:
        users[name] = {first: crps if question.continuous else brier, "log": log,
                       "peer": peer, "coverage": coverage}
        if question.ordered and not question.continuous:
            users[name]["rps"] = rps
    crowd = session.get(CrowdScore, question.id)
    doc: dict[str, Any] = {"question": question.slug, "outcome": resolution.outcome}
    if question.continuous:
        doc["value"] = resolution.value
    doc["users"] = users
    doc["crowd"] = ({first: crowd.crps if question.continuous else crowd.brier,
                     "log": crowd.log} if crowd else None)
    return doc


def user_scores(session: Session, user: User) -> list[dict[str, Any]]:
    """A user's stored scores, one row per scored question, latest resolution first."""
    rows = session.execute(
        select(Question.slug, Question.title, QuestionScore.brier, QuestionScore.log,
               QuestionScore.rps, QuestionScore.peer, QuestionScore.coverage,
               QuestionScore.crps)
        .join(Question, Question.id == QuestionScore.question_id)
        .where(QuestionScore.user_id == user.id).order_by(Question.close_at.desc())).all()
    keys = ("question", "title", "brier", "log", "rps", "peer", "coverage", "crps")
    return [dict(zip(keys, row)) for row in rows]
