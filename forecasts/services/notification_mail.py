"""Mail for notifications: one message per notification, or a daily digest.

Each notification with mail_state `pending` is claimed (`pending` -> `queued`, rowcount
1) in the transaction that writes its outbox message, and a digest claims the user's
`last_digest_at` first, so any number of schedulers at once queue each mail once. Every
message carries a signed one-click unsubscribe link, in its bodies and in the
`List-Unsubscribe` / `List-Unsubscribe-Post` headers (RFC 8058).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence
from urllib.parse import quote

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from forecasts import signing
from forecasts.db import Database
from forecasts.models import NOTIFICATION_KINDS, Notification, User
from forecasts.services import mail_render, outbox
from forecasts.services.notifications import mail_state

DIGEST_EVERY = timedelta(hours=24)
ALL = "all"
# How each kind is named where a user chooses (settings, unsubscribe, digest headings).
LABELS = {"closing": "A question you follow closes within 24 hours",
          "resolved": "A question you forecast is resolved, with your scores",
          "stale": "Your forecast on an open question is getting old",
          "reply": "Someone replies to your comment"}
HEADINGS = {"closing": "Closing soon", "resolved": "Resolved", "stale": "Stale forecasts",
            "reply": "Replies"}


@dataclass(frozen=True)
class Item:
    """A notification as mail and pages describe it."""

    id: int
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    path: str

    @property
    def title(self) -> str:
        return str(self.payload.get("title", ""))


def path_of(kind: str, payload: Mapping[str, Any]) -> str:
    """The page a notification links to: the question, or the reply's permalink."""
    question = f"/questions/{quote(str(payload.get('question', '')), safe='')}"
    if kind == "reply" and payload.get("comment_id") is not None:
        return f"{question}/comments/{int(payload['comment_id'])}"
    return question


def item(notification_id: int, kind: str, payload_json: str, created_at: datetime) -> Item:
    """An Item from a notification's columns."""
    payload = json.loads(payload_json)
    return Item(notification_id, kind, payload, created_at, path_of(kind, payload))


def unsubscribe_token(settings: Mapping[str, Any], user_id: int, kind: str) -> str:
    """The signed token of `/unsubscribe/<token>`: switches `kind` (or all) off."""
    if kind != ALL and kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    return signing.sign(settings, "unsubscribe", {"u": user_id, "k": kind})


def subject(it: Item) -> str:
    """The subject line of a single notification's mail, naming its question."""
    p = it.payload
    text = {"closing": f"Closing within 24 hours: {it.title}",
            "resolved": f"Resolved: {it.title}",
            "stale": f"Your forecast on {it.title} is {p.get('days')} days old",
            "reply": f"{p.get('author')} replied to your comment on {it.title}"}[it.kind]
    return _one_line(text)


def digest_subject(items: Sequence[Item]) -> str:
    """A digest's subject: how many, and the first question it names."""
    rest = len(items) - 1
    more = f" and {rest} more" if rest else ""
    return _one_line(f"Forecasts digest: {items[0].title}{more}")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _message(session: Session, settings: Mapping[str, Any], user: User, *, kind: str,
             template: str, subject_line: str, context: Mapping[str, Any]) -> int:
    token_kind = ALL if template == "digest" else kind
    unsubscribe = outbox.absolute_url(
        settings, f"/unsubscribe/{unsubscribe_token(settings, user.id, token_kind)}")
    text, html = mail_render.render(
        template, settings, user=user.username, unsubscribe_url=unsubscribe,
        settings_url=outbox.absolute_url(settings, "/settings"),
        url=lambda path: outbox.absolute_url(settings, path),
        what=LABELS.get(token_kind, "all notification mail"), **context)
    assert user.email is not None
    message = outbox.enqueue(
        session, kind="digest" if template == "digest" else "notification", to=user.email,
        subject=subject_line, text=text, html=html, user_id=user.id,
        headers={"List-Unsubscribe": f"<{unsubscribe}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
    return message.id


def _claim(session: Session, notification_id: int) -> bool:
    return session.execute(
        update(Notification).where(Notification.id == notification_id,
                                   Notification.mail_state == "pending")
        .values(mail_state="queued").execution_options(synchronize_session=False)).rowcount == 1


def _attach(session: Session, ids: Sequence[int], mail_id: int) -> None:
    session.execute(update(Notification).where(Notification.id.in_(list(ids)))
                    .values(mail_id=mail_id).execution_options(synchronize_session=False))


def _claim_digest(session: Session, user_id: int, now: datetime) -> bool:
    cutoff = now - DIGEST_EVERY
    return session.execute(
        update(User).where(User.id == user_id, or_(User.last_digest_at.is_(None),
                                                   User.last_digest_at <= cutoff))
        .values(last_digest_at=now).execution_options(synchronize_session=False)).rowcount == 1


def compose_for(session: Session, user_id: int, *, now: datetime,
                settings: Mapping[str, Any]) -> int:
    """Queue the mail of one user's pending notifications; returns the mails queued."""
    user = session.get(User, user_id)
    if user is None:
        return 0
    rows = session.execute(
        select(Notification.id, Notification.kind, Notification.payload_json,
               Notification.created_at)
        .where(Notification.user_id == user_id, Notification.mail_state == "pending")
        .order_by(Notification.id)).all()
    wanted = []
    for row in rows:  # the user may have switched a kind off, or lost the address, since
        if user.active and mail_state(user, row.kind) == "pending":
            wanted.append(item(*row))
        else:
            session.execute(update(Notification).where(
                Notification.id == row.id, Notification.mail_state == "pending")
                .values(mail_state="none").execution_options(synchronize_session=False))
    if not wanted:
        return 0
    if not user.mail_digest:
        queued = 0
        for it in wanted:
            if _claim(session, it.id):
                mail_id = _message(session, settings, user, kind=it.kind, template="notification",
                                   subject_line=subject(it), context={"item": it})
                _attach(session, [it.id], mail_id)
                queued += 1
        return queued
    if not _claim_digest(session, user_id, now):
        return 0  # one digest a day: these wait for the next
    claimed = [it for it in wanted if _claim(session, it.id)]
    if not claimed:
        return 0
    groups = [(kind, HEADINGS[kind], [it for it in claimed if it.kind == kind])
              for kind in NOTIFICATION_KINDS]
    mail_id = _message(session, settings, user, kind=ALL, template="digest",
                       subject_line=digest_subject(claimed),
                       context={"groups": [g for g in groups if g[2]], "count": len(claimed)})
    _attach(session, [it.id for it in claimed], mail_id)
    return 1


def compose(db: Database, *, now: datetime, settings: Mapping[str, Any]) -> int:
    """Queue the mail of every pending notification, one transaction per user; returns
    the number of mails queued."""
    with db.session() as session:
        users = list(session.scalars(select(Notification.user_id).distinct()
                                     .where(Notification.mail_state == "pending")
                                     .order_by(Notification.user_id)))
    queued = 0
    for user_id in users:  # bounded by the users with pending notifications
        with db.transaction() as session:
            queued += compose_for(session, user_id, now=now, settings=settings)
    return queued
