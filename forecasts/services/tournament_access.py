"""Who may change a tournament membership: the user themselves, or an admin for anyone.

The API's join and leave go through here; forecasts.services.tournaments does the change.
Services take a session and never commit; the view owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from forecasts.errors import NotFound, PermissionDenied
from forecasts.models import User
from forecasts.services import tournaments
from forecasts.services.questions import SLUG
from forecasts.services.users import USERNAME, get_user


@dataclass(frozen=True)
class Membership:
    """A membership after a request: `changed` is False when it already was so."""

    tournament: str
    user: str
    member: bool
    changed: bool


def set_membership(session: Session, actor: User, slug: str, username: str,
                   member: bool) -> Membership:
    """Join (`member`) or leave the tournament as `username`, on behalf of `actor`.

    NotFound for an unknown (or malformed) tournament slug or username, in that order;
    PermissionDenied when `actor` is another user and not an admin. Idempotent.
    """
    if not SLUG.match(slug):
        raise NotFound(f"no tournament with slug {slug[:100]!r}", where="tournament")
    tournament = tournaments.get(session, slug)
    if not USERNAME.match(username):
        raise NotFound(f"no user named {username[:100]!r}", where="user")
    user = get_user(session, username)
    if user.id != actor.id and not actor.is_admin:
        raise PermissionDenied(f"only {user.username!r} or an admin may change "
                               f"{user.username!r}'s membership of {tournament.slug!r}",
                               where="username")
    if member:
        changed = tournaments.join(session, tournament.slug, user.username)
    else:
        changed = tournaments.leave(session, tournament.slug, user.username)
    return Membership(tournament.slug, user.username, member, changed)
