"""The crowd forecast of open and settled questions, for pages and the API."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from forecasts import timeutil
from forecasts.models import Question
from forecasts.queries import forecast_arrays


def crowd_history(session: Session, question: Question) -> list[tuple[datetime, list[float], int]]:
    """(time, crowd probabilities, forecasters) after each forecast time, oldest first."""
    k = len(question.options)
    f = forecast_arrays(session, np.array([question.id]), np.array([k]))
    if len(f.at) == 0:
        return []
    times, crowd, n = scoring.crowd_series(f.user, f.at, f.probs.reshape(-1, k))
    return [(timeutil.from_micros(t), row.tolist(), int(c))
            for t, row, c in zip(times.tolist(), crowd, n.tolist())]


def current_crowds(session: Session, question_ids: Sequence[int]
                   ) -> dict[int, tuple[list[float] | None, int]]:
    """The crowd of each user's latest forecast: {question id: (probabilities or None, forecasters)}."""
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    labels = dict(session.execute(select(Question.id, Question.options_json)
                                  .where(Question.id.in_(ids))).all())
    qid = np.array([i for i in ids if i in labels], np.int64)
    n_options = np.array([len(json.loads(labels[i])) if labels[i] else 2 for i in qid.tolist()],
                         np.int64)
    current = scoring.current_crowd(n_options, forecast_arrays(session, qid, n_options))
    crowd, n = current.probs, current.n_forecasters
    return {q: (None if n[i] == 0 else crowd[i, :n_options[i]].tolist(), int(n[i]))
            for i, q in enumerate(qid.tolist())}
