"""Notifications: events a user is told of in the app and, per their settings, by mail.

Each event has a unique key (e.g. `reply:<comment id>`), so recording it again, from
any number of schedulers at once, keeps exactly one.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.bulk import insert_ignore
from forecasts.db import Database
from forecasts.models import NOTIFICATION_KINDS, Notification, User

# The user's switch for each kind.
SWITCH = {"closing": "notify_closing", "resolved": "notify_resolved",
          "stale": "notify_stale", "reply": "notify_reply"}


def mail_state(user: User, kind: str) -> str:
    """`pending` when this user wants mail of this kind and can get it, else `none`."""
    return "pending" if getattr(user, SWITCH[kind]) and user.email_verified else "none"


def record(session: Session, user: User, kind: str, key: str, *, question_id: int | None = None,
           comment_id: int | None = None, payload: Mapping[str, Any] | None = None) -> bool:
    """Record an event for `user` once: False when `key` was recorded before."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    return insert_ignore(session, Notification, [{
        "user_id": user.id, "kind": kind, "key": key, "question_id": question_id,
        "comment_id": comment_id, "payload_json": json.dumps(dict(payload or {}), sort_keys=True),
        "created_at": timeutil.now(), "mail_state": mail_state(user, kind)}]) == 1


def run_due(db: Database, *, now: datetime, settings: Mapping[str, Any]) -> list[str]:
    """The scheduler's notifications job: record what is due as of `now` (questions
    closing within 24 h, resolutions, stale forecasts) and queue the mail it calls for,
    one message each or daily digests; one line per thing done."""
    return []  # TODO(#12): the generation and mail composition land here
