"""Discussion: threaded comments on questions.

A forecast's rationale is a comment too, marked with the forecast it came with
(`forecast_id`), written in the forecast's transaction.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.orm import Session

from forecasts.bulk import chunks
from forecasts.models import Comment, Forecast


def from_forecast(session: Session, forecast: Forecast) -> Comment | None:
    """The comment carrying a new forecast's rationale (None without a rationale)."""
    if not forecast.rationale:
        return None
    comment = Comment(question_id=forecast.question_id, user_id=forecast.user_id,
                      forecast_id=forecast.id, body=forecast.rationale, created_at=forecast.at)
    session.add(comment)
    session.flush()
    return comment


def from_rationales(session: Session, question_ids: Sequence[int]) -> None:
    """After a bulk load of forecasts: a comment for each rationale of these questions
    that has none yet."""
    has_one = exists().where(Comment.forecast_id == Forecast.id)
    for ids in chunks(list(question_ids)):
        source = (select(Forecast.question_id, Forecast.user_id, Forecast.id, Forecast.rationale,
                         Forecast.at)
                  .where(and_(Forecast.question_id.in_(ids), Forecast.rationale.is_not(None)),
                         ~has_one)
                  .order_by(Forecast.id))
        session.execute(insert(Comment).from_select(
            ["question_id", "user_id", "forecast_id", "body", "created_at"], source))
