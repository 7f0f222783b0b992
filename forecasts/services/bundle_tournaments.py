"""The bundle's `tournaments` (SPEC section 7): checking and writing them on import, and
the list export writes.

Each entry is `{"slug", "title", "description", "start", "end", "questions": [slug...],
"members": [username...]}`; only `slug` and `title` are required. A question must be a
published one, of the bundle or already stored; a member a user of the bundle (listed,
forecasting or proposing) or already stored. Errors name the entry and field, as in
`tournaments[2].questions[0]`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.errors import ForecastsError, InvalidInput
from forecasts.models import (PUBLISHED, Question, Tournament, TournamentMember,
                              TournamentQuestion, User)
from forecasts.services import tournaments
from forecasts.services.questions import SLUG
from forecasts.services.text import check_storable
from forecasts.services.users import check_username

FIELDS = {"slug", "title", "description", "start", "end", "questions", "members"}


@dataclass(frozen=True)
class TournamentEntry:
    """One checked entry of the bundle's `tournaments`; `index` is its position there."""

    index: int
    slug: str
    title: str
    description: str
    start: datetime | None
    end: datetime | None
    questions: tuple[str, ...]
    members: tuple[str, ...]


def _names(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput("must be a list", where=where)
    return value


def _text(value: object, where: str, *, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidInput("must be text", where=where)
    return check_storable(value, where=where)


def check_tournaments(session: Session, entries: list, *, published: Mapping[str, bool],
                      usernames: Iterable[str]) -> list[TournamentEntry]:
    """The bundle's tournaments, checked against the bundle's questions (`published`: by
    slug, whether it is published) and users (`usernames`), and against what is stored."""
    bundle_users = {name.lower() for name in usernames}
    checked: list[TournamentEntry] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        where = f"tournaments[{i}]"
        if not isinstance(entry, Mapping):
            raise InvalidInput("must be a JSON object", where=where)
        unknown = sorted(set(entry) - FIELDS)
        if unknown:
            raise InvalidInput(f"unknown field(s): {', '.join(map(str, unknown))}", where=where)
        slug = entry.get("slug")
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise InvalidInput(f"{slug!r} is not a slug (3-80 of a-z, 0-9 and '-')",
                               where=f"{where}.slug")
        if slug in seen:
            raise InvalidInput(f"duplicate slug {slug!r} (also tournaments[{seen[slug]}])",
                               where=f"{where}.slug")
        seen[slug] = i
        questions = _names(entry.get("questions"), f"{where}.questions")
        for k, name in enumerate(questions):
            if not isinstance(name, str):
                raise InvalidInput("must be a question's slug", where=f"{where}.questions[{k}]")
        members = [check_username(name, where=f"{where}.members[{k}]")
                   for k, name in enumerate(_names(entry.get("members"), f"{where}.members"))]
        checked.append(TournamentEntry(
            i, slug, _text(entry.get("title"), f"{where}.title", required=True),
            _text(entry.get("description"), f"{where}.description", required=False),
            timeutil.parse_optional(entry.get("start"), where=f"{where}.start"),
            timeutil.parse_optional(entry.get("end"), where=f"{where}.end"),
            tuple(dict.fromkeys(questions)), tuple(dict.fromkeys(m.lower() for m in members))))

    existing = sorted(session.scalars(select(Tournament.slug).where(
        Tournament.slug.in_(list(seen)))))
    if existing:
        raise InvalidInput(f"a tournament with slug {existing[0]!r} already exists",
                           where=f"tournaments[{seen[existing[0]]}].slug")
    # Only slugs that can be one are looked up (PostgreSQL refuses text with a NUL).
    wanted_q = {s for e in checked for s in e.questions if SLUG.match(s)} - set(published)
    stored_q = set(session.scalars(select(Question.slug).where(
        Question.slug.in_(list(wanted_q)), Question.review_state == PUBLISHED)))
    wanted_u = {m for e in checked for m in e.members} - bundle_users
    stored_u = set(session.scalars(select(func.lower(User.username)).where(
        func.lower(User.username).in_(list(wanted_u)))))
    for e in checked:
        where = f"tournaments[{e.index}]"
        for k, slug in enumerate(e.questions):
            if published.get(slug) is False:
                raise InvalidInput(f"question {slug!r} is not published (a draft or rejected "
                                   "proposal)", where=f"{where}.questions[{k}]")
            if slug not in published and slug not in stored_q:
                raise InvalidInput(f"no question {slug!r}", where=f"{where}.questions[{k}]")
        for k, name in enumerate(e.members):
            if name not in bundle_users and name not in stored_u:
                raise InvalidInput(f"no user {name!r} (name each member in `users`)",
                                   where=f"{where}.members[{k}]")
    return checked


def write_tournaments(session: Session, entries: list[TournamentEntry], *, actor: str,
                      question_ids: Mapping[str, int]) -> int:
    """Create the checked tournaments with their questions and members, once the bundle's
    questions (`question_ids` by slug, with the stored ones it names) and users are written;
    the service checks title, description, start and end."""
    wanted = sorted({m for e in entries for m in e.members})
    user_ids = dict(session.execute(select(func.lower(User.username), User.id).where(
        func.lower(User.username).in_(wanted))).all()) if wanted else {}
    missing = sorted({s for e in entries for s in e.questions} - set(question_ids))
    if missing:
        question_ids = {**question_ids, **dict(session.execute(
            select(Question.slug, Question.id).where(Question.slug.in_(missing))).all())}
    for entry in entries:
        try:
            made = tournaments.create(session, entry.slug, entry.title, entry.description,
                                      start=entry.start, end=entry.end, actor=actor)
        except ForecastsError as error:
            field = (error.where or "").removeprefix("tournament.")
            raise type(error)(error.message,
                              where=f"tournaments[{entry.index}].{field}") \
                from None
        if entry.questions:
            session.execute(insert(TournamentQuestion), [
                {"tournament_id": made.id, "question_id": question_ids[s]}
                for s in entry.questions])
        if entry.members:
            session.execute(insert(TournamentMember), [
                {"tournament_id": made.id, "user_id": user_ids[m]} for m in entry.members])
    return len(entries)


def export_tournaments(session: Session) -> list[dict[str, Any]]:
    """Every tournament as the bundle carries it, in the order they were made."""
    slugs: dict[int, list[str]] = {}
    for tid, slug in session.execute(
            select(TournamentQuestion.tournament_id, Question.slug)
            .join(Question, Question.id == TournamentQuestion.question_id)
            .order_by(Question.slug)):
        slugs.setdefault(tid, []).append(slug)
    names: dict[int, list[str]] = {}
    for tid, name in session.execute(
            select(TournamentMember.tournament_id, User.username)
            .join(User, User.id == TournamentMember.user_id)
            .order_by(func.lower(User.username), User.username)):
        names.setdefault(tid, []).append(name)
    return [{"slug": t.slug, "title": t.title, "description": t.description,
             "start": timeutil.iso(t.start_at), "end": timeutil.iso(t.end_at),
             "questions": slugs.get(t.id, []), "members": names.get(t.id, [])}
            for t in session.scalars(select(Tournament).order_by(Tournament.id))]
