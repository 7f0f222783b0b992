"""The mail outbox: every mail is a row written in the transaction that decides to send
it, and sent later by the scheduler's mail job (forecasts/mail.py), so that a web request
never waits on an SMTP server and a mail is never lost with a rolled-back transaction.
"""
from __future__ import annotations

import json
from typing import Any, Mapping
from urllib.parse import urljoin

from sqlalchemy.orm import Session

from forecasts.models import MailMessage

KINDS = ("notification", "digest", "verify", "reset", "notice")


def absolute_url(settings: Mapping[str, Any], path: str) -> str:
    """`path` (e.g. from url_for) on the site's public address, SITE_URL."""
    return urljoin(settings["SITE_URL"].rstrip("/") + "/", path.lstrip("/"))


def enqueue(session: Session, *, kind: str, to: str, subject: str, text: str,
            html: str | None = None, user_id: int | None = None,
            headers: Mapping[str, str] | None = None) -> MailMessage:
    """Queue one mail (plain text, optionally with an HTML alternative); the caller's
    transaction commits it, and the next pass of the mail job sends it."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    message = MailMessage(kind=kind, to_addr=to, subject=subject, body_text=text,
                          body_html=html, user_id=user_id,
                          headers_json=json.dumps(dict(headers or {}), sort_keys=True))
    session.add(message)
    session.flush()
    return message
