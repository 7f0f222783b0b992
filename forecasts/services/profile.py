"""A forecaster's profile in bounded work (issue #10): pages of their scored questions and
of the questions they forecast, and the counts above them, without rendering or loading
every row.

Two per-user indexes are cached, each under a key that changes whenever its contents can:
- the scored questions in display order (latest close first), under the score version,
  since only a score change can change them;
- the forecast questions in display order (latest forecast first) with each one's latest
  forecast and number of updates, under the user's forecast count and largest forecast
  id. Forecasts are append-only, so a new forecast changes both; reading that key is
  one index-only lookup on the forecasts' user index.
A page then reads its 50 rows by key. The standing (rank, means, interval) comes from the
default leaderboard's snapshot (services/leaderboard.standing) and the calibration from
its own cache (services/calibration).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, defer, lazyload

from forecasts import timeutil
from forecasts.cache import cached
from forecasts.errors import NotFound
from forecasts.models import CrowdScore, Forecast, Question, QuestionScore, Resolution, User
from forecasts.queries import fetch_columns, raw_time
from forecasts.services import score_version
from forecasts.services.browse import QuestionEntry

PER_PAGE = 50
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, its number (from 1), the number of pages and of items."""

    items: list[T]
    number: int
    pages: int
    total: int


@dataclass(frozen=True)
class ForecastIndex:
    """The questions a user forecast, most recently forecast first: each one's id, the id
    of the forecast standing on it and how many forecasts the user made on it."""

    n_forecasts: int
    first_at: datetime | None
    question_ids: list[int]
    latest_ids: list[int]
    counts: list[int]


def window(total: int, number: int, per_page: int, where: str) -> tuple[int, int, int]:
    """(pages, start, end) of page `number`; NotFound naming `where` past the last page."""
    pages = max(1, -(-total // per_page))
    if number < 1 or number > pages:
        raise NotFound(f"has no page {number} (the last is {pages})", where=where)
    start = (number - 1) * per_page
    return pages, start, min(start + per_page, total)


# --- the questions forecast ------------------------------------------------------------

def forecast_index(session: Session, user: User) -> ForecastIndex:
    """The user's ForecastIndex, from the cache while no forecast of theirs has been added
    (or removed) since it was built."""
    n, top = session.execute(select(func.count(Forecast.id), func.max(Forecast.id))
                             .where(Forecast.user_id == user.id)).one()
    if not n:
        return ForecastIndex(0, None, [], [], [])
    return cached(f"forecast-index:{user.id}:{int(n)}:{int(top)}",
                  lambda: _forecast_index(session, user))


def _forecast_index(session: Session, user: User) -> ForecastIndex:
    question, at, fid = fetch_columns(
        session, select(Forecast.question_id, raw_time(Forecast.at), Forecast.id)
        .where(Forecast.user_id == user.id), (np.int64, np.int64, np.int64))
    if not len(question):
        return ForecastIndex(0, None, [], [], [])
    order = np.lexsort((fid, at, question))  # by question, then time, then id
    question, at, fid = question[order], at[order], fid[order]
    starts = np.flatnonzero(np.diff(question, prepend=-1))
    ends = np.append(starts[1:], len(question))
    last = ends - 1  # per question the latest forecast; at one instant the later-recorded
    shown = np.lexsort((-fid[last], -at[last]))  # latest forecast first
    return ForecastIndex(n_forecasts=len(question),
                         first_at=timeutil.from_micros(int(at.min())),
                         question_ids=question[last][shown].tolist(),
                         latest_ids=fid[last][shown].tolist(),
                         counts=(ends - starts)[shown].tolist())


def forecast_page(session: Session, user: User, number: int = 1, *,
                  per_page: int = PER_PAGE, index: ForecastIndex | None = None
                  ) -> Page[QuestionEntry]:
    """Page `number` of the questions the user forecast, most recently forecast first,
    each with the standing forecast, the number of updates and the outcome."""
    index = index or forecast_index(session, user)
    pages, start, end = window(len(index.question_ids), number, per_page, "forecasts_page")
    ids = index.latest_ids[start:end]
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    rows = session.execute(
        select(Forecast, Question, Resolution.outcome)
        .join(Question, Question.id == Forecast.question_id)
        .outerjoin(Resolution, current).where(Forecast.id.in_(ids))
        # A row shows the title, the options and the outcome: not the tags or the text.
        .options(lazyload(Question.tag_rows), defer(Question.description),
                 defer(Question.rule_json))).all() if ids else []
    found = {forecast.id: (forecast, question, outcome) for forecast, question, outcome in rows}
    items = [QuestionEntry(found[i][1], found[i][0], n, found[i][2])
             for i, n in zip(ids, index.counts[start:end]) if i in found]
    return Page(items, number, pages, len(index.question_ids))


# --- the scored questions --------------------------------------------------------------

def _scored_ids(session: Session, user: User) -> list[int]:
    return list(session.scalars(
        select(QuestionScore.question_id).join(Question, Question.id == QuestionScore.question_id)
        .where(QuestionScore.user_id == user.id)
        .order_by(Question.close_at.desc(), Question.id.desc())))


def scored_ids(session: Session, user: User) -> list[int]:
    """Ids of the questions the user has scores on, latest close first (then newest
    question), cached under the score version."""
    version = score_version.for_cache(session)
    if not version:
        return _scored_ids(session, user)
    return cached(f"scored-ids:{version}:{user.id}", lambda: _scored_ids(session, user))


SCORE_KEYS = ("question", "title", "brier", "crps", "log", "rps", "peer", "coverage",
              "crowd_brier", "crowd_crps")


def scores_page(session: Session, user: User, number: int = 1, *,
                per_page: int = PER_PAGE) -> Page[dict[str, Any]]:
    """Page `number` of the user's stored scores, one row per question
    {"question", "title", "brier", "crps", "log", "rps", "peer", "coverage", "crowd_brier",
    "crowd_crps"} (the crowd's Brier, or CRPS on a numeric or date question, None without
    one), latest close first."""
    order = scored_ids(session, user)
    pages, start, end = window(len(order), number, per_page, "scores_page")
    ids = order[start:end]
    rows = session.execute(
        select(QuestionScore.question_id, Question.slug, Question.title, QuestionScore.brier,
               QuestionScore.crps, QuestionScore.log, QuestionScore.rps, QuestionScore.peer,
               QuestionScore.coverage, CrowdScore.brier, CrowdScore.crps)
        .join(Question, Question.id == QuestionScore.question_id)
        .outerjoin(CrowdScore, CrowdScore.question_id == QuestionScore.question_id)
        .where(QuestionScore.user_id == user.id, QuestionScore.question_id.in_(ids))
    ).all() if ids else []
    found = {row[0]: dict(zip(SCORE_KEYS, row[1:])) for row in rows}
    return Page([found[i] for i in ids if i in found], number, pages, len(order))
