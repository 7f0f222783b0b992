"""Following questions: followers hear when a question is about to close.

Forecasting follows a question automatically, unless the user unfollowed it before:
an unfollow is kept as a row with `following` False, so it sticks.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import and_, exists, func, insert, select, true
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.bulk import chunks, insert_ignore
from forecasts.models import Follow, Forecast, Question, User


def auto_follow(session: Session, user: User, question: Question) -> None:
    """Follow the question on forecasting it, unless the user chose otherwise before."""
    insert_ignore(session, Follow, [{"user_id": user.id, "question_id": question.id,
                                     "following": True, "created_at": timeutil.now()}])


def follow_forecasters(session: Session, question_ids: Sequence[int]) -> None:
    """After a bulk load of forecasts: everyone who forecast these questions follows them
    (where they have no row yet)."""
    mine = and_(Follow.user_id == Forecast.user_id, Follow.question_id == Forecast.question_id)
    for ids in chunks(list(question_ids)):
        source = (select(Forecast.user_id, Forecast.question_id, true(), func.min(Forecast.at))
                  .where(Forecast.question_id.in_(ids), ~exists().where(mine))
                  .group_by(Forecast.user_id, Forecast.question_id))
        session.execute(insert(Follow).from_select(
            ["user_id", "question_id", "following", "created_at"], source))


def is_following(session: Session, user: User, question: Question) -> bool:
    return bool(session.scalar(select(Follow.following).where(
        Follow.user_id == user.id, Follow.question_id == question.id)))
