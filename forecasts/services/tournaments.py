"""Tournaments: a named set of questions with an optional start and end, the forecasters who
joined it, and its leaderboard (Σ peer over its resolved, scored questions, Metaculus-style).

Services take a session and never commit; the command or view owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import (PUBLISHED, Question, QuestionScore, Resolution, Tournament,
                              TournamentMember, TournamentQuestion, User)
from forecasts.services.questions import SLUG, question_status
from forecasts.services.users import get_user

# As for a question's description (services.questions).
MAX_DESCRIPTION = 20_000
# Addresses the web's own tournament pages use.
RESERVED = frozenset({"new"})


@dataclass(frozen=True)
class Standing:
    """A member's row on a tournament leaderboard; `rank` is None without a scored question."""

    rank: int | None
    user: str
    questions: int
    peer_total: float
    brier: float | None
    coverage: float | None


def find(session: Session, slug: str) -> Tournament | None:
    return session.scalars(select(Tournament).where(Tournament.slug == slug)).first()


def get(session: Session, slug: str) -> Tournament:
    tournament = find(session, slug)
    if tournament is None:
        raise NotFound(f"no tournament with slug {slug!r}", where="tournament")
    return tournament


def create(session: Session, slug: str, title: str, description: str = "", *,
           start: datetime | None = None, end: datetime | None = None,
           actor: str = "cli") -> Tournament:
    """A new tournament; the slug follows the question slug rule and must be unused."""
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise InvalidInput(f"{slug!r} is not a slug (3-80 of a-z, 0-9 and '-')",
                           where="tournament.slug")
    if slug in RESERVED:
        raise InvalidInput(f"{slug!r} is reserved (/tournaments/{slug} is another page)",
                           where="tournament.slug")
    title, description = _checked(title, description, start, end)
    if find(session, slug) is not None:
        raise Conflict(f"a tournament with slug {slug!r} already exists", where="tournament.slug")
    tournament = Tournament(slug=slug, title=title, description=description or "",
                            start_at=start, end_at=end, created_by=actor)
    session.add(tournament)
    session.flush()
    return tournament


def _checked(title: str | None, description: str | None, start: datetime | None,
             end: datetime | None) -> tuple[str, str]:
    """The title (stripped) and description after the checks create and update share."""
    title = (title or "").strip()
    if not title or len(title) > 300:
        raise InvalidInput("a title of 1-300 characters is required", where="tournament.title")
    description = description or ""
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(f"a description of at most {MAX_DESCRIPTION} characters",
                           where="tournament.description")
    if start is not None and end is not None and not start < end:
        raise InvalidInput("the start must be before the end", where="tournament.end")
    return title, description


def update(session: Session, slug: str, *, title: str, description: str = "",
           start: datetime | None = None, end: datetime | None = None) -> Tournament:
    """Change a tournament's title, description, start and end (checked as by create);
    the slug stays."""
    tournament = get(session, slug)
    title, description = _checked(title, description, start, end)
    tournament.title, tournament.description = title, description
    tournament.start_at, tournament.end_at = start, end
    session.flush()
    return tournament


def list_tournaments(session: Session) -> list[tuple[Tournament, int, int]]:
    """Every tournament with its numbers of questions and members, newest start first."""
    questions = (select(func.count()).where(TournamentQuestion.tournament_id == Tournament.id)
                 .correlate(Tournament).scalar_subquery())
    members = (select(func.count()).where(TournamentMember.tournament_id == Tournament.id)
               .correlate(Tournament).scalar_subquery())
    rows = session.execute(select(Tournament, questions, members)
                           .order_by(Tournament.created_at.desc(), Tournament.slug)).all()
    return [(t, q, m) for t, q, m in rows]


def choices(session: Session) -> list[tuple[str, str]]:
    """(slug, title) of every tournament by title: the question list's filter."""
    return [(slug, title) for slug, title in session.execute(
        select(Tournament.slug, Tournament.title).order_by(Tournament.title, Tournament.slug))]


def _questions_by_slug(session: Session, slugs: Iterable[str], *,
                       published: bool = False) -> list[Question]:
    """The named questions, else NotFound naming every unknown slug (with `published`,
    a draft or rejected proposal counts as unknown, as for the other commands)."""
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        raise InvalidInput("name at least one question", where="questions")
    query = select(Question).where(Question.slug.in_(wanted))
    if published:
        query = query.where(Question.review_state == PUBLISHED)
    found = {q.slug: q for q in session.scalars(query)}
    missing = [s for s in wanted if s not in found]
    if missing:
        raise NotFound("no question with slug " + ", ".join(repr(s) for s in missing),
                       where="questions")
    return [found[s] for s in wanted]


def add_questions(session: Session, slug: str, question_slugs: Iterable[str]) -> int:
    """Add questions (an existing pair is left as is); returns how many were new."""
    tournament = get(session, slug)
    chosen = _questions_by_slug(session, question_slugs, published=True)
    present = set(session.scalars(select(TournamentQuestion.question_id).where(
        TournamentQuestion.tournament_id == tournament.id)))
    new = [q for q in chosen if q.id not in present]
    session.add_all(TournamentQuestion(tournament_id=tournament.id, question_id=q.id) for q in new)
    session.flush()
    return len(new)


def remove_questions(session: Session, slug: str, question_slugs: Iterable[str]) -> int:
    """Take questions out of the tournament; returns how many were in it."""
    tournament = get(session, slug)
    ids = [q.id for q in _questions_by_slug(session, question_slugs)]
    result = session.execute(delete(TournamentQuestion).where(
        TournamentQuestion.tournament_id == tournament.id,
        TournamentQuestion.question_id.in_(ids)))
    return result.rowcount or 0


def questions_of(session: Session, slug: str) -> list[Question]:
    tournament = get(session, slug)
    return list(session.scalars(
        select(Question).join(TournamentQuestion, TournamentQuestion.question_id == Question.id)
        .where(TournamentQuestion.tournament_id == tournament.id).order_by(Question.slug)))


def _membership(session: Session, slug: str, username: str) -> tuple[Tournament, User, bool]:
    tournament = get(session, slug)
    user = get_user(session, username)
    member = session.get(TournamentMember, (tournament.id, user.id)) is not None
    return tournament, user, member


def join(session: Session, slug: str, username: str) -> bool:
    """Make the user a member; False when they already were."""
    tournament, user, member = _membership(session, slug, username)
    if not member:
        session.add(TournamentMember(tournament_id=tournament.id, user_id=user.id))
        session.flush()
    return not member


def leave(session: Session, slug: str, username: str) -> bool:
    """End the user's membership; False when they were not a member."""
    tournament, user, member = _membership(session, slug, username)
    if member:
        session.execute(delete(TournamentMember).where(
            TournamentMember.tournament_id == tournament.id, TournamentMember.user_id == user.id))
    return member


def leaderboard(session: Session, slug: str) -> list[Standing]:
    """The members ranked by Σ peer over the tournament's scored questions (ties share a
    rank: 1, 2, 2, 4; then by username); members without a scored question come last."""
    return _leaderboard(session, get(session, slug))


def _leaderboard(session: Session, tournament: Tournament) -> list[Standing]:
    in_tournament = select(TournamentQuestion.question_id).where(
        TournamentQuestion.tournament_id == tournament.id)
    scored = (select(QuestionScore.user_id, func.count().label("n"),
                     func.sum(QuestionScore.peer).label("peer"),
                     func.avg(QuestionScore.brier).label("brier"),
                     func.avg(QuestionScore.coverage).label("coverage"))
              .where(QuestionScore.question_id.in_(in_tournament))
              .group_by(QuestionScore.user_id).subquery())
    rows = session.execute(
        select(User.username, scored.c.n, scored.c.peer, scored.c.brier, scored.c.coverage)
        .join(TournamentMember, TournamentMember.user_id == User.id)
        .outerjoin(scored, scored.c.user_id == User.id)
        .where(TournamentMember.tournament_id == tournament.id)).all()
    active = sorted((r for r in rows if r.n), key=lambda r: (-float(r.peer), r.username.lower()))
    idle = sorted((r for r in rows if not r.n), key=lambda r: r.username.lower())
    standings: list[Standing] = []
    for position, r in enumerate(active, start=1):
        rank = standings[-1].rank if standings and standings[-1].peer_total == float(r.peer) \
            else position
        # The mean Brier skips numeric and date questions (NULL); None with only those.
        standings.append(Standing(rank, r.username, int(r.n), float(r.peer),
                                  None if r.brier is None else float(r.brier),
                                  float(r.coverage)))
    standings += [Standing(None, r.username, 0, 0.0, None, None) for r in idle]
    return standings


def tournaments_of_question(session: Session, question_id: int) -> list[Tournament]:
    """The tournaments a question is in, by title."""
    return list(session.scalars(
        select(Tournament)
        .join(TournamentQuestion, TournamentQuestion.tournament_id == Tournament.id)
        .where(TournamentQuestion.question_id == question_id)
        .order_by(Tournament.title, Tournament.slug)))


def is_member(session: Session, tournament: Tournament, user: User) -> bool:
    return session.get(TournamentMember, (tournament.id, user.id)) is not None


@dataclass(frozen=True)
class TournamentPage:
    """What a tournament's page shows: a page of its questions with their status (closing
    soonest first) and a page of its members' leaderboard, how many of its questions are
    scored (resolved, not annulled: the N of a member's "n of N") and whether the viewer
    is a member (None without a viewer)."""

    tournament: Tournament
    questions: list[tuple[Question, str]]
    standings: list[Standing]
    scored: int
    member: bool | None
    n_questions: int = 0
    n_members: int = 0
    question_page: int = 1
    question_pages: int = 1
    board_page: int = 1
    board_pages: int = 1


BOARD_PAGE = 100
QUESTION_PAGE = 50


def _slice(rows: list, number: int, size: int, where: str) -> tuple[list, int]:
    """Page `number` (from 1) of `rows` and the number of pages; a page past the last is
    an error naming `where`."""
    pages = max(1, -(-len(rows) // size))
    if number > pages:
        raise InvalidInput(f"is past the last page ({pages})", where=where)
    return rows[(number - 1) * size:number * size], pages


def page(session: Session, slug: str, *, viewer: User | None, now: datetime,
         board_page: int = 1, question_page: int = 1, board_size: int = BOARD_PAGE,
         question_size: int = QUESTION_PAGE) -> TournamentPage:
    """A tournament's page as `viewer` (None: logged out) sees it at `now`, in four
    statements whatever its size: page `board_page` of the leaderboard (`board_size`
    members a page) and page `question_page` of the questions."""
    tournament = get(session, slug)
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    rows = session.execute(
        select(Question, Resolution)
        .join(TournamentQuestion, TournamentQuestion.question_id == Question.id)
        .outerjoin(Resolution, current)
        .where(TournamentQuestion.tournament_id == tournament.id)
        .order_by(Question.close_at, Question.slug)).all()
    questions = [(q, question_status(q, r, now)) for q, r in rows]
    standings = _leaderboard(session, tournament)
    shown_questions, question_pages = _slice(questions, question_page, question_size, "qpage")
    shown_standings, board_pages = _slice(standings, board_page, board_size, "page")
    return TournamentPage(tournament, shown_questions, shown_standings,
                          sum(1 for _, status in questions if status == "resolved"),
                          None if viewer is None else is_member(session, tournament, viewer),
                          len(questions), len(standings), question_page, question_pages,
                          board_page, board_pages)
