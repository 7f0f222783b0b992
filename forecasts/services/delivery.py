"""The scheduler's mail job: send what the outbox holds through SMTP_URL.

Each due row is claimed in its own short transaction before anything is said to the
server (state `sending`, `claimed_by`, one more attempt): the UPDATE matches only a row
still `pending`, so of any number of workers at once exactly one gets it, and a crash
after the claim leaves the row `sending`, never sent twice (at most once; `forecasts
mail requeue` puts such a row back by hand). What the server answers then settles it:
accepted -> `sent`; refused for good (5xx) -> `failed`; refused for now (4xx, a dropped
connection) or no server to talk to -> `pending` again, after a backoff that doubles
with each attempt.
"""
from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from forecasts import mail, timeutil
from forecasts.db import Database
from forecasts.errors import Conflict, NotFound
from forecasts.models import MailMessage

log = logging.getLogger("forecasts.mail")
BATCH = 200
BACKOFF_S = 60.0
MAX_BACKOFF_S = 3600.0
WORKER = f"{socket.gethostname()}:{os.getpid()}"


class _Retry(Exception):
    """The server put this message off (4xx, disconnect): try it again later."""


class _Refused(Exception):
    """The server refused this message for good (5xx)."""


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 60 s doubling, at most 1 h."""
    return timedelta(seconds=min(BACKOFF_S * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S))


def _claimant() -> str:
    return f"{WORKER}:{threading.current_thread().name}"[:120]


def due_ids(db: Database, now: datetime, limit: int = BATCH) -> list[int]:
    """The ids of the pending messages due at `now`, oldest first, at most `limit`."""
    with db.session() as session:
        return list(session.scalars(
            select(MailMessage.id)
            .where(MailMessage.state == "pending", MailMessage.next_attempt_at <= now)
            .order_by(MailMessage.next_attempt_at, MailMessage.id).limit(limit)))


def claim(db: Database, message_id: int, now: datetime) -> MailMessage | None:
    """Mark one due message `sending` for this worker and commit; None if another
    worker claimed it first (or it is no longer due)."""
    with db.transaction() as session:
        result = session.execute(
            update(MailMessage)
            .where(MailMessage.id == message_id, MailMessage.state == "pending",
                   MailMessage.next_attempt_at <= now)
            .values(state="sending", claimed_by=_claimant(), attempts=MailMessage.attempts + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return session.get(MailMessage, message_id)


def _settle(db: Database, message: MailMessage, **values: Any) -> None:
    with db.transaction() as session:
        session.execute(update(MailMessage).where(MailMessage.id == message.id,
                                                  MailMessage.state == "sending")
                        .values(**values).execution_options(synchronize_session=False))


def _put_back(db: Database, message: MailMessage, now: datetime, error: str) -> datetime:
    later = now + backoff(message.attempts)
    _settle(db, message, state="pending", next_attempt_at=later, last_error=error[:2000],
            claimed_by=None)
    return later


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


def _send(smtp: smtplib.SMTP | None, message: MailMessage, settings: Mapping[str, Any]) -> None:
    """Send, turning the server's answers into _Retry / _Refused."""
    try:
        mail.send(smtp, message, settings)
    except smtplib.SMTPRecipientsRefused as exc:
        answers = list(exc.recipients.values())
        error = "; ".join(_reply(code, text) for code, text in answers)
        if answers and all(code >= 500 for code, _ in answers):
            raise _Refused(error) from exc
        raise _Retry(error) from exc
    except smtplib.SMTPResponseException as exc:
        error = _reply(exc.smtp_code, exc.smtp_error)
        raise (_Refused(error) if exc.smtp_code >= 500 else _Retry(error)) from exc
    except (OSError, smtplib.SMTPException) as exc:  # disconnected or timed out mid-send
        raise _Retry(f"{type(exc).__name__}: {exc}") from exc


def waiting(db: Database) -> int:
    """How many messages wait to be sent (pending, due or not)."""
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(MailMessage)
                              .where(MailMessage.state == "pending")) or 0


def _quit(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def deliver(db: Database, *, now: datetime, settings: Mapping[str, Any],
            limit: int = BATCH) -> list[str]:
    """Send the outbox's due messages; one line per message sent or failed (and one if
    the server cannot be reached: then the rest wait for the next pass)."""
    if settings.get("SMTP_URL"):
        mail.parse_url(settings["SMTP_URL"])  # a bad SMTP_URL fails the job before any claim
    lines: list[str] = []
    smtp: smtplib.SMTP | None = None
    try:
        for message_id in due_ids(db, now, limit):
            message = claim(db, message_id, now)
            if message is None:
                continue
            if smtp is None and settings.get("SMTP_URL"):
                try:
                    smtp = mail.connect(settings)
                except (OSError, smtplib.SMTPException) as exc:
                    error = f"cannot reach the SMTP server: {type(exc).__name__}: {exc}"
                    _put_back(db, message, now, error)
                    log.warning("mail: %s; %d waiting", error, waiting(db))
                    return lines + [f"mail: server unavailable ({exc}), "
                                    f"{waiting(db)} waiting"]
            try:
                _send(smtp, message, settings)
            except _Refused as exc:
                _settle(db, message, state="failed", last_error=str(exc)[:2000])
                lines.append(f"mail #{message.id} to {message.to_addr} refused: {exc}")
                continue
            except _Retry as exc:
                later = _put_back(db, message, now, str(exc))
                lines.append(f"mail #{message.id} to {message.to_addr} put off until "
                             f"{timeutil.iso(later)}: {exc}")
                if isinstance(exc.__cause__, (OSError, smtplib.SMTPServerDisconnected)):
                    _quit(smtp)
                    smtp = None  # the next message opens a fresh connection
                continue
            _settle(db, message, state="sent", sent_at=timeutil.now(), last_error=None)
            lines.append(f"mailed {message.kind} #{message.id} to {message.to_addr}")
    finally:
        _quit(smtp)
    return lines


def kick(db: Database, settings: Mapping[str, Any]) -> threading.Thread | None:
    """Send the due mail now in a daemon thread (for a request that just queued a
    verification or reset mail; it never waits). Without SMTP_URL there is nothing to
    hurry: the scheduler's next pass logs it. Returns the thread, or None."""
    if not settings.get("SMTP_URL"):
        return None

    def run() -> None:
        try:
            deliver(db, now=timeutil.now(), settings=settings)
        except Exception:  # a thread's error would otherwise vanish
            log.exception("mail: sending right away failed; the scheduler will retry")

    thread = threading.Thread(target=run, name="forecasts-mail-kick", daemon=True)
    thread.start()
    return thread


STATES = ("pending", "sending", "sent", "failed")


def counts(session: Session) -> dict[str, int]:
    """How many outbox messages are in each state (every state, zero included)."""
    found = dict(session.execute(select(MailMessage.state, func.count())
                                 .group_by(MailMessage.state)).all())
    return {state: found.get(state, 0) for state in STATES}


def in_state(session: Session, state: str, limit: int = 100) -> list[MailMessage]:
    """The oldest `limit` messages in `state` (e.g. `sending`: claimed, fate unknown)."""
    return list(session.scalars(select(MailMessage).where(MailMessage.state == state)
                                .order_by(MailMessage.id).limit(limit)))


def requeue(session: Session, ids: Sequence[int], *, now: datetime) -> list[MailMessage]:
    """Put messages left `sending` (a worker died after claiming them: check that they
    did not arrive) or `failed` back to `pending`, due at `now`. NotFound for an unknown
    id, Conflict for one already sent or still pending; nothing changes then."""
    messages = []
    for message_id in dict.fromkeys(ids):
        message = session.get(MailMessage, message_id, with_for_update=True)
        if message is None:
            raise NotFound(f"no mail #{message_id}", where="ID")
        if message.state not in ("sending", "failed"):
            raise Conflict(f"mail #{message_id} is {message.state}; only sending or failed "
                           "mail is requeued", where="ID")
        messages.append(message)
    for message in messages:
        message.state, message.next_attempt_at, message.claimed_by = "pending", now, None
    session.flush()
    return messages
