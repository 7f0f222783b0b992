"""Scores: computed by the engine from database arrays, persisted with each resolution."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

import scoring
from forecasts.models import CrowdScore, QuestionScore
from forecasts.queries import score_inputs


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
