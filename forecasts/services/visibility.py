"""Whether a viewer may see a question's crowd: the one definition of the hidden crowd.

Against anchoring, a question with `hide_crowd_until_forecast` (or any question, for a
user who chose "always hide the crowd until I have forecast") withholds from a viewer
who has not forecast it: the crowd's number and chart, other forecasters' rationales,
and the numbers attached to comments. The crowd is revealed by the viewer's first
forecast, and to everyone once the question has closed or been settled. A viewer
who is not logged in has not forecast. Pages and the API leave the withheld figures
out of what they send (not merely hidden with CSS).
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.models import Forecast, Question, Resolution, User


def _closed(question: Question, resolution: Resolution | None, now: datetime) -> bool:
    return resolution is not None or now >= question.close_at


def hides(question: Question, viewer: User | None) -> bool:
    """True when the question's crowd waits for the viewer's forecast (while it is open)."""
    return hidden_by(question, viewer) is not None


def hidden_by(question: Question, viewer: User | None) -> str | None:
    """Whose setting withholds the crowd until the viewer forecasts: "question" (the
    question's own), "user" (the viewer's "always hide"), or None."""
    if question.hide_crowd_until_forecast:
        return "question"
    return "user" if viewer is not None and viewer.hide_crowd else None


def crowd_visible(session: Session, question: Question, viewer: User | None, *,
                  resolution: Resolution | None = None, now: datetime | None = None,
                  has_forecast: bool | None = None) -> bool:
    """May `viewer` see the crowd of `question`? `resolution` is its current one (None:
    unsettled); `has_forecast` may be passed when the caller already knows it."""
    now = now or timeutil.now()
    if _closed(question, resolution, now) or not hides(question, viewer):
        return True
    if viewer is None:
        return False
    if has_forecast is None:
        has_forecast = session.scalar(select(Forecast.id).where(
            Forecast.question_id == question.id, Forecast.user_id == viewer.id).limit(1)) is not None
    return has_forecast


def forecast_question_ids(session: Session, viewer: User | None,
                          question_ids: Iterable[int]) -> set[int]:
    """Of `question_ids`, those the viewer has forecast (one query, for lists)."""
    ids = list(question_ids)
    if viewer is None or not ids:
        return set()
    return set(session.scalars(select(Forecast.question_id).distinct().where(
        Forecast.user_id == viewer.id, Forecast.question_id.in_(ids))))


def hidden_question_ids(session: Session, viewer: User | None,
                        questions: Sequence[tuple[Question, Resolution | None]], *,
                        now: datetime, forecast_ids: set[int] | None = None) -> set[int]:
    """Of these (question, current resolution) pairs, the ids whose crowd the viewer may
    not see; `forecast_ids` (the questions the viewer forecast) when the caller knows
    them, otherwise one query, and none when no question hides its crowd."""
    waiting = [q.id for q, r in questions if not _closed(q, r, now) and hides(q, viewer)]
    if not waiting or viewer is None:
        return set(waiting)
    if forecast_ids is None:
        forecast_ids = forecast_question_ids(session, viewer, waiting)
    return set(waiting) - forecast_ids
