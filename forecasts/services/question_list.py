"""The list of published questions: filters, full-text search, order and pages, in SQL."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import BigInteger, Select, and_, case, func, select, type_coerce
from sqlalchemy.orm import Session

from forecasts import config
from forecasts.errors import InvalidInput
from forecasts.models import (ANNULLED, PUBLISHED, Forecast, Question, QuestionStats,
                              QuestionTag, Resolution, Tournament, TournamentQuestion, User)
from forecasts.services import question_stats, visibility
from forecasts.services.questions import STATUSES, question_status
from forecasts.services.search import search_hits

# "default": the best match first when searching, otherwise what one can forecast now
# (open, closing soonest), then upcoming, closed awaiting resolution, and settled.
SORTS = ("default", "closing", "forecasters", "newest")
# Filters by the viewer's own forecasts: questions they forecast, questions they have
# not, and open questions whose latest forecast of theirs is older than the STALE_DAYS
# setting (`stale_days`; its default when not given).
OWN_FILTERS = ("mine", "unforecast", "stale")
DEFAULT_STALE_DAYS: int = config.DEFAULTS["STALE_DAYS"]


@dataclass(frozen=True)
class QuestionRow:
    """A question with its current resolution, its number of forecasters, the viewer's
    own latest forecast when a viewer is given, its crowd and its latest forecast's time
    (the figures of question_stats). `crowd_hidden`: the crowd is withheld from the
    viewer (visibility.py), and `crowd` is None."""

    question: Question
    resolution: Resolution | None
    forecasters: int
    status: str
    mine: Forecast | None = None
    crowd: list[float] | None = None
    last_forecast_at: datetime | None = None
    crowd_hidden: bool = False


def _micros(column: Any) -> Any:
    # The UtcMicros columns hold integers: negating one sorts it newest first in a CASE.
    return type_coerce(column, BigInteger)


def _filtered(session: Session, *columns: Any, now: datetime, status: str | None,
              tag: str | None, search: str | None, user: User | None,
              own: str | None, stale_days: int = DEFAULT_STALE_DAYS,
              tournament: str | None = None,
              resolutions: bool = True) -> tuple[Select[Any], Any]:
    """SELECT columns FROM the published questions (with their current resolution)
    that pass every filter; also the search hits to rank by, or None. `resolutions`
    False: the current resolution is joined only when a filter reads it (a question
    has at most one, uq_resolutions_current, so the join never changes a count)."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"{status!r} is not a status ({', '.join(STATUSES)})", where="status")
    if own is not None and own not in OWN_FILTERS:
        raise InvalidInput(f"{own!r} is not one of {', '.join(OWN_FILTERS)}", where="show")
    if own is not None and user is None:
        raise InvalidInput("log in to filter questions by your own forecasts", where="show")
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    stmt = select(*columns).select_from(Question)
    if resolutions or status or own == "stale":
        stmt = stmt.outerjoin(Resolution, current)
    stmt = stmt.where(Question.review_state == PUBLISHED)
    if status:
        stmt = stmt.where(_status_condition(status, now))
    if tag:
        stmt = stmt.where(Question.id.in_(select(QuestionTag.question_id)
                                          .where(QuestionTag.tag == tag.strip().lower())))
    if tournament:
        stmt = stmt.where(Question.id.in_(
            select(TournamentQuestion.question_id)
            .join(Tournament, Tournament.id == TournamentQuestion.tournament_id)
            .where(Tournament.slug == tournament)))
    hits = search_hits(session, search)
    if hits is not None:
        stmt = stmt.join(hits, hits.c.question_id == Question.id)
    if own is not None and user is not None:
        last = (select(Forecast.question_id, func.max(Forecast.at).label("at"))
                .where(Forecast.user_id == user.id).group_by(Forecast.question_id).subquery())
        if own == "unforecast":
            stmt = stmt.where(Question.id.not_in(select(last.c.question_id)))
        else:
            stmt = stmt.join(last, last.c.question_id == Question.id)
        if own == "stale":
            stmt = stmt.where(_status_condition("open", now),
                              last.c.at < now - timedelta(days=stale_days))
    return stmt, hits


def _status_condition(status: str, now: datetime) -> Any:
    """The SQL form of question_status (the current resolution is joined)."""
    unsettled = Resolution.id.is_(None)
    return {
        "resolved": and_(Resolution.id.is_not(None), Resolution.outcome != ANNULLED),
        "annulled": Resolution.outcome == ANNULLED,
        "upcoming": and_(unsettled, Question.open_at > now),
        "open": and_(unsettled, Question.open_at <= now, Question.close_at > now),
        "closed": and_(unsettled, Question.close_at <= now),
    }[status]


def _default_order(now: datetime) -> tuple[Any, ...]:
    """Open (closing soonest), upcoming (opening soonest), closed awaiting resolution
    (most recently closed), then resolved or annulled (most recently settled)."""
    settled, upcoming, closed = (Resolution.id.is_not(None), Question.open_at > now,
                                 Question.close_at <= now)
    group = case((settled, 3), (upcoming, 1), (closed, 2), else_=0)
    within = case((settled, -_micros(Resolution.created_at)),
                  (upcoming, _micros(Question.open_at)),
                  (closed, -_micros(Question.close_at)), else_=_micros(Question.close_at))
    return group, within, Question.close_at.desc(), Question.id


def _check_sort(sort: str) -> None:
    if sort not in SORTS:
        raise InvalidInput(f"{sort!r} is not a sort order ({', '.join(SORTS)})", where="sort")


def list_questions(session: Session, *, now: datetime, status: str | None = None,
                   tag: str | None = None, search: str | None = None, sort: str = "default",
                   user: User | None = None, own: str | None = None,
                   stale_days: int = DEFAULT_STALE_DAYS, tournament: str | None = None,
                   limit: int | None = None, offset: int = 0) -> list[QuestionRow]:
    """Published questions filtered by status, tag, text, tournament (by slug; question_page
    refuses an unknown one) and the user's own forecasts,
    sorted as asked (ties broken by id, so pages are stable); `limit` and `offset`
    select one page. With a user, each row carries that user's latest forecast. The
    crowd is the one `user` (None: a logged-out viewer) may see: withheld rows carry
    None and `crowd_hidden`."""
    _check_sort(sort)
    filters = dict(now=now, status=status, tag=tag, search=search, user=user, own=own,
                   stale_days=stale_days, tournament=tournament)
    # The figures come from question_stats (kept on write); a question without a row
    # (a database not rescored since migration 0005) sorts as unforecast and has its
    # figures computed below.
    stmt, hits = _filtered(session, Question.id, **filters)
    stmt = stmt.outerjoin(QuestionStats, QuestionStats.question_id == Question.id)
    order = {"default": ((hits.c.rank,) if hits is not None else ()) + _default_order(now),
             "closing": (Question.close_at, Question.id),
             "forecasters": (func.coalesce(QuestionStats.forecasters, 0).desc(),
                             Question.close_at, Question.id),
             "newest": (Question.open_at.desc(), Question.id.desc())}[sort]
    # The page's ids first, sorting narrow rows; then the page's questions alone.
    ids = list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset or None)))
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    found = {q.id: (q, r, kept) for q, r, kept in session.execute(
        select(Question, Resolution, QuestionStats).outerjoin(Resolution, current)
        .outerjoin(QuestionStats, QuestionStats.question_id == Question.id)
        .where(Question.id.in_(ids))).all()} if ids else {}
    rows = [found[i] for i in ids]
    figures = question_stats.compute(session, [q.id for q, _, kept in rows if kept is None])
    figures.update((kept.question_id, question_stats.from_row(kept))
                   for _, _, kept in rows if kept is not None)
    mine = latest_forecasts(session, user, [q.id for q, _, _ in rows]) if user else {}
    hidden = visibility.hidden_question_ids(session, user, [(q, r) for q, r, _ in rows],
                                            now=now, forecast_ids=set(mine))
    return [QuestionRow(q, r, figures[q.id].forecasters, question_status(q, r, now),
                        mine.get(q.id), None if q.id in hidden else figures[q.id].crowd,
                        figures[q.id].last_forecast_at, q.id in hidden)
            for q, r, _ in rows]


def count_questions(session: Session, *, now: datetime, status: str | None = None,
                    tag: str | None = None, search: str | None = None,
                    user: User | None = None, own: str | None = None,
                    stale_days: int = DEFAULT_STALE_DAYS, tournament: str | None = None) -> int:
    """How many published questions pass the filters of list_questions."""
    stmt, _ = _filtered(session, Question.id, now=now, status=status, tag=tag, search=search,
                        user=user, own=own, stale_days=stale_days, tournament=tournament,
                        resolutions=False)
    return int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


PAGE_SIZE = 25


@dataclass(frozen=True)
class QuestionPage:
    """One page of the list: its rows, the page number and how many pages the filters give."""

    rows: list[QuestionRow]
    number: int
    pages: int
    total: int


def question_page(session: Session, *, now: datetime, page: int = 1, size: int = PAGE_SIZE,
                  sort: str = "default", **filters: Any) -> QuestionPage:
    """Page `page` (from 1) of list_questions with `size` rows a page; a page past the
    last is empty, not an error, so that a link kept from before still answers. An unknown
    `tournament` slug is an error (the message leaves the value out: links put it there)."""
    if page < 1:
        raise InvalidInput(f"{page} is not a page number (1 or more)", where="page")
    _check_sort(sort)
    if filters.get("tournament") and session.scalar(
            select(Tournament.id).where(Tournament.slug == filters["tournament"])) is None:
        raise InvalidInput("is not the slug of any tournament", where="tournament")
    total = count_questions(session, now=now, **filters)
    rows = list_questions(session, now=now, sort=sort, limit=size, offset=(page - 1) * size,
                          **filters) if total > (page - 1) * size else []
    return QuestionPage(rows, page, max(1, -(-total // size)), total)


def latest_forecasts(session: Session, user: User, question_ids: Sequence[int]
                     ) -> dict[int, Forecast]:
    """The user's latest forecast on each of these questions, in one statement; of two
    at the same instant the later-recorded one stands."""
    if not question_ids:
        return {}
    ranked = (select(Forecast.id, func.row_number().over(
                  partition_by=Forecast.question_id,
                  order_by=(Forecast.at.desc(), Forecast.id.desc())).label("n"))
              .where(Forecast.user_id == user.id, Forecast.question_id.in_(set(question_ids)))
              .subquery())
    found = session.scalars(select(Forecast).join(ranked, ranked.c.id == Forecast.id)
                            .where(ranked.c.n == 1))
    return {f.question_id: f for f in found}
