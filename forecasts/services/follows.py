"""Following questions: followers hear when a question is about to close.

Forecasting follows a question automatically, unless the user unfollowed it before:
an unfollow is kept as a row with `following` False, so it sticks.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import and_, exists, func, insert, select, true, update
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.bulk import chunks, insert_ignore
from forecasts.errors import Conflict
from forecasts.models import PUBLISHED, Follow, Forecast, Question, Resolution, User
from forecasts.services.questions import question_status


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
    """Whether the user follows the question now."""
    return bool(session.scalar(select(Follow.following).where(
        Follow.user_id == user.id, Follow.question_id == question.id)))


def set_following(session: Session, user: User, question: Question, following: bool) -> None:
    """Follow (True) or unfollow (False) a published question; an unfollow is kept, so a
    later forecast does not follow it back. Idempotent and safe against a concurrent
    call: the row is inserted if missing, then set."""
    if question.review_state != PUBLISHED:
        raise Conflict(f"question {question.slug!r} is a {question.review_state} proposal; "
                       "only published questions can be followed", where="question")
    now = timeutil.now()
    # insert_ignore's count is not relied on: PostgreSQL's driver may report -1.
    insert_ignore(session, Follow, [{"user_id": user.id, "question_id": question.id,
                                     "following": following, "created_at": now}])
    session.execute(update(Follow).where(
        Follow.user_id == user.id, Follow.question_id == question.id,
        Follow.following.is_not(following)).values(following=following, created_at=now),
        execution_options={"synchronize_session": False})


@dataclass(frozen=True)
class Followed:
    """A question the user follows, its status now, and since when it is followed."""

    question: Question
    status: str
    since: datetime


def _followed(user: User):  # noqa: ANN202 (a select builder)
    return (select(Question, Resolution, Follow.created_at).join(
                Follow, and_(Follow.question_id == Question.id, Follow.user_id == user.id,
                             Follow.following.is_(True)))
            .outerjoin(Resolution, and_(Resolution.question_id == Question.id,
                                        Resolution.superseded_at.is_(None)))
            .where(Question.review_state == PUBLISHED))


def followed(session: Session, user: User, *, now: datetime, limit: int, offset: int = 0
             ) -> list[Followed]:
    """A page of the questions the user follows, most recently followed first."""
    rows = session.execute(_followed(user).order_by(Follow.created_at.desc(), Question.id.desc())
                           .limit(limit).offset(offset or None)).all()
    return [Followed(q, question_status(q, r, now), since) for q, r, since in rows]


def count_followed(session: Session, user: User) -> int:
    """How many published questions the user follows."""
    return int(session.scalar(select(func.count()).select_from(
        _followed(user).with_only_columns(Question.id).subquery())) or 0)
