"""Scores: computed by the engine from database arrays, persisted with each resolution."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

import scoring
from forecasts.models import CrowdScore, Question, QuestionScore, User
from forecasts.queries import score_inputs
from forecasts.services.questions import current_resolution


def _nullable(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else float(v) for v in values]


def rescore_questions(session: Session, question_ids: Sequence[int] | None = None) -> int:
    """Replace the stored scores of these questions (all questions when None).

    Runs in the caller's transaction, so a failure leaves the old scores in place.
    Returns the number of (question, user) score rows written.
    """
    if question_ids is not None and not question_ids:
        return 0
    inputs = score_inputs(session, question_ids)
    if question_ids is None:
        session.execute(delete(QuestionScore))
        session.execute(delete(CrowdScore))
    else:
        ids = list(question_ids)
        session.execute(delete(QuestionScore).where(QuestionScore.question_id.in_(ids)))
        session.execute(delete(CrowdScore).where(CrowdScore.question_id.in_(ids)))
    if len(inputs.question_id) == 0:
        return 0
    result = scoring.score_questions(inputs.questions, inputs.forecasts)
    qid = inputs.question_id
    rows = [{"question_id": q, "user_id": u, "brier": b, "log": lg, "rps": r, "peer": p,
             "coverage": c}
            for q, u, b, lg, r, p, c in zip(qid[result.question].tolist(), result.user.tolist(),
                                            result.brier.tolist(), result.log.tolist(),
                                            _nullable(result.rps), result.peer.tolist(),
                                            result.coverage.tolist())]
    if rows:
        session.execute(insert(QuestionScore), rows)
    crowd = np.flatnonzero(~np.isnan(result.crowd_brier))
    if len(crowd):
        session.execute(insert(CrowdScore), [
            {"question_id": q, "brier": b, "log": lg, "rps": r}
            for q, b, lg, r in zip(qid[crowd].tolist(), result.crowd_brier[crowd].tolist(),
                                   result.crowd_log[crowd].tolist(),
                                   _nullable(result.crowd_rps[crowd]))])
    session.flush()
    return len(rows)


def question_scores(session: Session, question: Question) -> dict[str, Any] | None:
    """SPEC section 8's `scores` document; None while the question is unsettled."""
    resolution = current_resolution(session, question)
    if resolution is None:
        return None
    users: dict[str, dict[str, float]] = {}
    rows = session.execute(
        select(User.username, QuestionScore.brier, QuestionScore.log, QuestionScore.rps,
               QuestionScore.peer, QuestionScore.coverage)
        .join(User, User.id == QuestionScore.user_id)
        .where(QuestionScore.question_id == question.id).order_by(User.username)).all()
    for name, brier, log, rps, peer, coverage in rows:
        users[name] = {"brier": brier, "log": log, "peer": peer, "coverage": coverage}
        if question.ordered:
            users[name]["rps"] = rps
    crowd = session.get(CrowdScore, question.id)
    return {"question": question.slug, "outcome": resolution.outcome, "users": users,
            "crowd": {"brier": crowd.brier, "log": crowd.log} if crowd else None}


def user_scores(session: Session, user: User) -> list[dict[str, Any]]:
    """A user's stored scores, one row per scored question, latest resolution first."""
    rows = session.execute(
        select(Question.slug, Question.title, QuestionScore.brier, QuestionScore.log,
               QuestionScore.rps, QuestionScore.peer, QuestionScore.coverage)
        .join(Question, Question.id == QuestionScore.question_id)
        .where(QuestionScore.user_id == user.id).order_by(Question.close_at.desc())).all()
    keys = ("question", "title", "brier", "log", "rps", "peer", "coverage")
    return [dict(zip(keys, row)) for row in rows]
