"""Tournaments: the list, one tournament with its leaderboard, and joining or leaving."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Response, jsonify, url_for

from forecasts import timeutil
from forecasts.api import auth, paging, params
from forecasts.api.blueprint import bp
from forecasts.api.forecasts import PRIVATE
from forecasts.db import get_session
from forecasts.errors import InvalidInput, NotFound
from forecasts.models import Tournament
from forecasts.services import tournament_access, tournaments
from forecasts.services.questions import SLUG


def _summary(t: Tournament, members: int) -> dict[str, Any]:
    return {"slug": t.slug, "title": t.title, "description": t.description,
            "start": timeutil.iso(t.start_at), "end": timeutil.iso(t.end_at),
            "members": members,
            "url": url_for("api.tournament", slug=t.slug, _external=True)}


@bp.get("/tournaments", merge_slashes=False)
def tournament_list() -> Response:
    """A page of the tournaments, newest first, with their numbers of questions and members."""
    args = params.query("listTournaments")
    page = paging.page_request(args, "tournaments")
    if page.after is not None:  # this list gives out offset cursors only
        raise InvalidInput("is not a cursor this list gave out; start again without it",
                           where="cursor")
    # Tournaments are few (an admin makes each one): the service gives them all.
    rows = tournaments.list_tournaments(get_session())
    shown = rows[page.offset:page.offset + page.limit]
    items = [{**_summary(t, m), "questions": q} for t, q, m in shown]
    more = len(rows) > page.offset + page.limit
    next_cursor = paging.encode_cursor("tournaments", offset=page.offset + page.limit) \
        if more else None
    return jsonify(paging.page(items, page.limit, next_cursor))


@bp.get("/tournaments/<slug>", merge_slashes=False)
def tournament(slug: str) -> Response:
    """The tournament, its questions' slugs and its leaderboard of members by Σ peer."""
    params.query("getTournament")
    if not SLUG.match(slug):
        raise NotFound(f"no tournament with slug {slug[:100]!r}", where="tournament")
    session = get_session()
    found = tournaments.get(session, slug)
    board = tournaments.leaderboard(session, slug)
    return jsonify({**_summary(found, len(board)),
                    "questions": [q.slug for q in tournaments.questions_of(session, slug)],
                    "leaderboard": [asdict(s) for s in board]})


def _set(slug: str, username: str, operation: str,
         member: bool) -> tuple[Response, dict[str, str]]:
    session = get_session()
    actor = auth.authenticated_user(session, write=True)
    params.query(operation)
    state = tournament_access.set_membership(session, actor, slug, username, member)
    session.commit()
    return jsonify(asdict(state)), PRIVATE


@bp.put("/tournaments/<slug>/members/<username>", merge_slashes=False)
def join_tournament(slug: str, username: str) -> tuple[Response, dict[str, str]]:
    """Join the tournament as yourself (an admin: as anyone); idempotent."""
    return _set(slug, username, "joinTournament", True)


@bp.delete("/tournaments/<slug>/members/<username>", merge_slashes=False)
def leave_tournament(slug: str, username: str) -> tuple[Response, dict[str, str]]:
    """Leave the tournament as yourself (an admin: anyone's membership); idempotent."""
    return _set(slug, username, "leaveTournament", False)
