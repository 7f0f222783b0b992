"""Reaffirming forecasts, and "My forecasts": the user's standing forecast on each open
question, oldest first, with how the crowd moved since.

Reaffirming records a new forecast with the same probabilities and rationale as the
user's latest one (the rationale is already in the discussion, so no new comment).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

import scoring
from forecasts.errors import Conflict, ForecastsError
from forecasts.models import PUBLISHED, Forecast, Question, Resolution, User
from forecasts.services import question_stats
from forecasts.services.crowd import History
from forecasts.services.forecasts import submit_forecast
from forecasts.services.question_stats import Stats
from forecasts.services.question_list import latest_forecasts

PAGE_SIZE = 50
# The crowd histories of unsettled questions by id (the question page's cached ones).
Histories = Callable[[Session, list[tuple[Question, Stats]]], dict[int, History]]


def reaffirm(session: Session, question: Question, user: User, *,
             aggregator: scoring.Aggregator = scoring.MEDIAN) -> Forecast:
    """A new forecast now, repeating the user's latest one on the question (probabilities
    and rationale); refused as submit_forecast refuses (JustSettled included)."""
    latest = latest_forecasts(session, user, [question.id]).get(question.id)
    if latest is None:
        raise Conflict(f"you have not forecast question {question.slug!r}; there is nothing "
                       "to reaffirm", where="question")
    return _repeat(session, question, user, latest, aggregator)


def _repeat(session: Session, question: Question, user: User, latest: Forecast,
            aggregator: scoring.Aggregator) -> Forecast:
    if question.continuous:
        values = {"cdf": latest.cdf_values}
    elif question.kind == "binary":
        values = {"probability": latest.probability}
    else:
        values = {"probabilities": latest.probabilities}
    return submit_forecast(session, question, user, rationale=latest.rationale,
                           as_comment=False, aggregator=aggregator, **values)


@dataclass(frozen=True)
class Outcome:
    """What reaffirming every listed forecast did: the new forecasts, and the questions
    skipped with the reason each was refused."""

    reaffirmed: list[Forecast]
    skipped: list[tuple[Question, str]]


def reaffirm_all(session: Session, user: User, *, now: datetime,
                 aggregator: scoring.Aggregator = scoring.MEDIAN) -> Outcome:
    """Reaffirm the user's forecast on every question "My forecasts" lists, in the
    caller's one transaction. A refused question is skipped and reported; its refusal
    wrote nothing, except the settlement of a question its rule could decide, which
    stands (as for a single forecast)."""
    rows = session.execute(_standing(user, now).order_by(Forecast.at, Forecast.id)).all()
    done: list[Forecast] = []
    skipped: list[tuple[Question, str]] = []
    for forecast, question in rows:
        try:
            done.append(_repeat(session, question, user, forecast, aggregator))
        except ForecastsError as error:
            skipped.append((question, error.message))
    return Outcome(done, skipped)


def _standing(user: User, now: datetime) -> Select:
    """(Forecast, Question): the user's latest forecast on each published question open
    now and not settled."""
    ranked = (select(Forecast.id, func.row_number().over(
                  partition_by=Forecast.question_id,
                  order_by=(Forecast.at.desc(), Forecast.id.desc())).label("n"))
              .where(Forecast.user_id == user.id).subquery())
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    return (select(Forecast, Question).join(ranked, ranked.c.id == Forecast.id)
            .join(Question, Question.id == Forecast.question_id)
            .outerjoin(Resolution, current)
            .where(ranked.c.n == 1, Resolution.id.is_(None), Question.review_state == PUBLISHED,
                   Question.open_at <= now, Question.close_at > now))


@dataclass(frozen=True)
class Row:
    """One standing forecast: `value` is my probability of yes (binary) or of my top
    option (`option`); `crowd_then` and `crowd_now` the crowd's probability of the same,
    at my forecast's time (my forecast included) and now. A numeric or date forecast has
    none of these (None): the page shows its median and interval instead."""

    forecast: Forecast
    question: Question
    option: str | None
    value: float | None
    crowd_then: float | None
    crowd_now: float | None
    age_days: int
    stale: bool


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    number: int
    pages: int
    total: int


def crowd_at(history: History, at: datetime) -> list[float] | None:
    """The crowd standing at `at` (the last change at or before it) by the history's
    points: exact where the question has few changes or `at` is recent, else the nearest
    earlier point the thinned chart series kept."""
    best = None
    for t, probs, _ in (*history.points, *history.recent):
        if t <= at and (best is None or t >= best[0]):
            best = (t, probs)
    return None if best is None else best[1]


def page(session: Session, user: User, *, now: datetime, histories: Histories,
         number: int = 1, size: int = PAGE_SIZE, stale_days: int = 30) -> Page:
    """Page `number` of the user's standing forecasts on open questions, oldest first.
    Statements per page do not grow with its rows: one count, one page, one read of the
    figures, and (for histories not cached) one read of the page's forecasts."""
    standing = _standing(user, now).subquery()
    total = int(session.scalar(select(func.count()).select_from(standing)) or 0)
    found = session.execute(_standing(user, now).order_by(Forecast.at, Forecast.id)
                            .limit(size).offset((number - 1) * size or None)).all() \
        if total > (number - 1) * size else []
    figures = question_stats.stats_for(session, [q.id for _, q in found])
    crowds = histories(session, [(q, figures[q.id]) for _, q in found])
    rows = [_row(f, q, figures[q.id], crowds[q.id], now, stale_days) for f, q in found]
    return Page(rows, number, max(1, -(-total // size)), total)


def _row(forecast: Forecast, question: Question, stats: Stats, history: History,
         now: datetime, stale_days: int) -> Row:
    age = now - forecast.at
    stale = age > timedelta(days=stale_days)
    if question.continuous:  # a distribution: no one probability to follow the crowd on
        return Row(forecast, question, None, None, None, None, age.days, stale)
    mine = forecast.probabilities
    index = 1 if question.kind == "binary" else max(range(len(mine)), key=mine.__getitem__)
    then = crowd_at(history, forecast.at)
    return Row(forecast, question, None if question.kind == "binary" else question.options[index],
               mine[index], None if then is None else then[index],
               None if stats.crowd is None else stats.crowd[index], age.days, stale)
