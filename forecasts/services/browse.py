"""Read-only lookups for pages: tags in use, a user's forecasts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from forecasts.models import PUBLISHED, Forecast, Question, QuestionTag, Resolution, User


def tags_in_use(session: Session) -> list[str]:
    """Every tag of some published question, alphabetically (a draft's tags stay private)."""
    # From the few distinct tags (the tag index) to one published question each, rather
    # than from every published question to its tags.
    tags = select(QuestionTag.tag).distinct().subquery()
    tagged = aliased(QuestionTag)
    published = (select(tagged.question_id).join(Question, Question.id == tagged.question_id)
                 .where(tagged.tag == tags.c.tag, Question.review_state == PUBLISHED).exists())
    return list(session.scalars(select(tags.c.tag).where(published).order_by(tags.c.tag)))


@dataclass(frozen=True)
class QuestionEntry:
    """A question a user forecast: their latest forecast, how many they made, the outcome."""

    question: Question
    latest: Forecast
    count: int
    outcome: str | None


def user_questions(session: Session, user: User) -> list[QuestionEntry]:
    """The questions the user forecast, most recently forecast first."""
    per_question = (select(Forecast.question_id, func.max(Forecast.at).label("at"),
                           func.count(Forecast.id).label("n"))
                    .where(Forecast.user_id == user.id).group_by(Forecast.question_id).subquery())
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    rows = session.execute(
        select(Forecast, Question, per_question.c.n, Resolution.outcome)
        .join(per_question, and_(per_question.c.question_id == Forecast.question_id,
                                 per_question.c.at == Forecast.at))
        .join(Question, Question.id == Forecast.question_id)
        .outerjoin(Resolution, current)
        .where(Forecast.user_id == user.id)
        .order_by(Forecast.at.desc(), Forecast.id.desc())).all()
    entries: dict[int, QuestionEntry] = {}
    for forecast, question, n, outcome in rows:
        # Two forecasts at the same instant: the later-recorded one (listed first) stands.
        entries.setdefault(question.id, QuestionEntry(question, forecast, int(n), outcome))
    return list(entries.values())


def user_activity(session: Session, user: User) -> tuple[int, int, datetime | None]:
    """(forecasts, distinct questions, time of the first forecast) of the user."""
    n, questions, first = session.execute(
        select(func.count(Forecast.id), func.count(func.distinct(Forecast.question_id)),
               func.min(Forecast.at)).where(Forecast.user_id == user.id)).one()
    return int(n), int(questions), first
