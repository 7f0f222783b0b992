"""A user's side of notifications: the list with its unread count, the settings page's
choices, and one-click unsubscribe from a signed link."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forecasts import signing
from forecasts.errors import InvalidInput
from forecasts.models import NOTIFICATION_KINDS, Notification, User
from forecasts.services.notification_mail import ALL, LABELS, Item, item
from forecasts.services.notifications import SWITCH

PER_PAGE = 50
DELIVERY = ("immediately", "digest")


@dataclass(frozen=True)
class Entry:
    """A notification on the list page."""

    item: Item
    unread: bool


@dataclass(frozen=True)
class InboxPage:
    """One page of a user's notifications, newest first."""

    entries: list[Entry]
    number: int
    pages: int
    total: int
    unread: int


def unread_count(session: Session, user: User) -> int:
    """How many of the user's notifications are unread (the bell's number)."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def inbox(session: Session, user: User, number: int = 1) -> InboxPage:
    """Page `number` of the user's notifications, newest first, PER_PAGE a page."""
    total = session.scalar(select(func.count()).select_from(Notification)
                           .where(Notification.user_id == user.id)) or 0
    pages = max(1, -(-total // PER_PAGE))
    rows = session.execute(
        select(Notification.id, Notification.kind, Notification.payload_json,
               Notification.created_at, Notification.read_at)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(PER_PAGE).offset((number - 1) * PER_PAGE)).all()
    entries = [Entry(item(r.id, r.kind, r.payload_json, r.created_at), r.read_at is None)
               for r in rows]
    return InboxPage(entries, number, pages, total, unread_count(session, user))


def mark_all_read(session: Session, user: User, now: datetime) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return session.execute(
        update(Notification).where(Notification.user_id == user.id,
                                   Notification.read_at.is_(None))
        .values(read_at=now).execution_options(synchronize_session=False)).rowcount or 0


def preferences(user: User) -> dict[str, Any]:
    """The settings page's values: one switch per kind, the delivery and hide_crowd."""
    return {**{kind: getattr(user, SWITCH[kind]) for kind in NOTIFICATION_KINDS},
            "delivery": "digest" if user.mail_digest else "immediately",
            "hide_crowd": user.hide_crowd}


def save_preferences(session: Session, user: User, form: Mapping[str, str]) -> None:
    """Save the settings form: a kind is on when its box is sent (`notify_<kind>`), the
    delivery is `immediately` or `digest`, `hide_crowd` likewise a box."""
    delivery = form.get("delivery", "")
    if delivery not in DELIVERY:
        raise InvalidInput("choose a daily digest or each mail immediately", where="delivery")
    for kind in NOTIFICATION_KINDS:
        setattr(user, SWITCH[kind], bool(form.get(SWITCH[kind])))
    user.mail_digest = delivery == "digest"
    user.hide_crowd = bool(form.get("hide_crowd"))
    session.flush()


@dataclass(frozen=True)
class Unsubscribe:
    """What an unsubscribe link switches off: a kind, or all of them."""

    user: User
    kind: str

    @property
    def kinds(self) -> tuple[str, ...]:
        return NOTIFICATION_KINDS if self.kind == ALL else (self.kind,)

    @property
    def labels(self) -> list[str]:
        return [LABELS[k] for k in self.kinds]


def unsubscribe_target(session: Session, settings: Mapping[str, Any], token: str) -> Unsubscribe:
    """The account and kind a signed unsubscribe token names; InvalidInput (where
    "link") for one that is forged, altered, or names no account."""
    payload = signing.unsign(settings, "unsubscribe", token, where="link")
    kind = payload.get("k") if isinstance(payload, dict) else None
    user_id = payload.get("u") if isinstance(payload, dict) else None
    if kind not in (*NOTIFICATION_KINDS, ALL) or not isinstance(user_id, int):
        raise InvalidInput("this link is not an unsubscribe link", where="link")
    user = session.get(User, user_id)
    if user is None:
        raise InvalidInput("this link names an account that no longer exists", where="link")
    return Unsubscribe(user, kind)


def unsubscribe(session: Session, target: Unsubscribe) -> None:
    """Switch off the mail and notifications the link names."""
    for kind in target.kinds:
        setattr(target.user, SWITCH[kind], False)
    session.flush()
