"""Notifications: events a user is told of in the app and, per their settings, by mail.

Each event has a unique key (e.g. `reply:<comment id>`), so recording it again, from
any number of schedulers at once, keeps exactly one. The scheduler's job (`run_due`)
records what is due as of a moment, each kind in its own transaction(s), then hands the
pending ones to forecasts/services/notification_mail.py. Keys and payloads:

- closing  `closing:{question_id}:{user_id}`  {question, title, closes_at}
- resolved `resolved:{resolution_id}:{user_id}`  {question, title, outcome, brier, log,
  peer, rank, rank_change}; rank on the default leaderboard, rank_change = the rank in
  the user's previous resolved notification minus this one (positive: moved up)
- stale    `stale:{forecast_id}` (the user's latest forecast)  {question, title,
  forecast_at, days}
- reply    `reply:{comment_id}`  {question, title, comment_id, author, excerpt}
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy import String, and_, case, cast, exists, func, literal, select, true, update
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.bulk import chunks, insert_ignore
from forecasts.db import Database
from forecasts.models import (NOTIFICATION_KINDS, PUBLISHED, Follow, Forecast, Notification,
                              Question, QuestionScore, Resolution, User, UtcMicros)

# The user's switch for each kind.
SWITCH = {"closing": "notify_closing", "resolved": "notify_resolved",
          "stale": "notify_stale", "reply": "notify_reply"}
CLOSING_WINDOW = timedelta(hours=24)
_COLUMNS = ("user_id", "kind", "key", "question_id", "payload_json", "created_at", "mail_state")


def mail_state(user: User, kind: str) -> str:
    """`pending` when this user wants mail of this kind and can get it, else `none`."""
    return "pending" if getattr(user, SWITCH[kind]) and user.email_verified else "none"


def _mail_state_sql(kind: str):
    """`mail_state` as SQL over the users table (the same rule as `mail_state`)."""
    wants = and_(getattr(User, SWITCH[kind]) == true(), User.email.is_not(None),
                 User.email_verified_at.is_not(None))
    return case((wants, "pending"), else_="none")


def record(session: Session, user: User, kind: str, key: str, *, question_id: int | None = None,
           comment_id: int | None = None, payload: Mapping[str, Any] | None = None) -> bool:
    """Record an event for `user` once: False when `key` was recorded before."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    return _insert(session, [{
        "user_id": user.id, "kind": kind, "key": key, "question_id": question_id,
        "comment_id": comment_id, "payload_json": json.dumps(dict(payload or {}), sort_keys=True),
        "created_at": timeutil.now(), "mail_state": mail_state(user, kind)}]) == 1


def _unsettled():
    return ~exists().where(Resolution.question_id == Question.id,
                           Resolution.superseded_at.is_(None))


def _open_at(now: datetime):
    """Published questions open for forecasts at `now` and not settled."""
    return and_(Question.review_state == PUBLISHED, Question.open_at <= now,
                now < Question.close_at, _unsettled())


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def notify_closing(session: Session, now: datetime) -> list[str]:
    """Tell the active followers of each open question closing within 24 h of `now`."""
    due = session.execute(select(Question.id, Question.slug, Question.title, Question.close_at)
                          .where(_open_at(now), Question.close_at <= now + CLOSING_WINDOW)
                          .order_by(Question.close_at, Question.id)).all()
    lines = []
    for qid, slug, title, close_at in due:  # a loop over questions; the users stay in SQL
        payload = json.dumps({"question": slug, "title": title,
                              "closes_at": timeutil.iso(close_at)}, sort_keys=True)
        rows = (select(Follow.user_id, literal("closing"),
                       literal(f"closing:{qid}:", String) + cast(Follow.user_id, String),
                       literal(qid), literal(payload, String), literal(now, UtcMicros()),
                       _mail_state_sql("closing"))
                .join(User, User.id == Follow.user_id)
                .where(Follow.question_id == qid, Follow.following == true(),
                       User.deactivated_at.is_(None)))
        n = _insert(session, rows)
        if n:
            lines.append(f"notified closing: {slug} ({_plural(n, 'user')})")
    return lines


def _insert(session: Session, rows) -> int:
    """Insert notifications (a list of row dicts, or a SELECT of _COLUMNS), skipping keys
    recorded before; returns how many were inserted."""
    if isinstance(rows, list):
        return sum(insert_ignore(session, Notification, part) for part in chunks(rows, 1000))
    return insert_ignore(session, Notification, columns=list(_COLUMNS), select=rows)


def due_resolutions(session: Session) -> list[int]:
    """Ids of current resolutions whose notifications are not recorded yet."""
    return list(session.scalars(select(Resolution.id).where(
        Resolution.superseded_at.is_(None), Resolution.notified_at.is_(None))
        .order_by(Resolution.id)))


def default_ranks(session: Session, settings: Mapping[str, Any]) -> dict[str, int]:
    """username -> rank on the default leaderboard (as the pages draw it)."""
    from forecasts.services import leaderboard

    rows = leaderboard.leaderboard(
        session, n_boot=int(settings.get("LEADERBOARD_BOOTSTRAP", leaderboard.DEFAULT_BOOTSTRAP)),
        seed=int(settings.get("LEADERBOARD_SEED", leaderboard.DEFAULT_SEED)),
        peer_prior=float(settings.get("LEADERBOARD_PEER_PRIOR", leaderboard.DEFAULT_PEER_PRIOR)))
    return {row["user"]: row["rank"] for row in rows}


def _previous_ranks(session: Session, user_ids: Sequence[int]) -> dict[int, int | None]:
    """user id -> the rank in that user's latest resolved notification."""
    out: dict[int, int | None] = {}
    for ids in chunks(list(user_ids)):
        latest = (select(func.max(Notification.id)).where(
            Notification.kind == "resolved", Notification.user_id.in_(ids))
            .group_by(Notification.user_id))
        for user_id, payload in session.execute(select(
                Notification.user_id, Notification.payload_json)
                .where(Notification.id.in_(latest))):
            out[user_id] = json.loads(payload).get("rank")
    return out


def notify_resolution(session: Session, resolution_id: int, now: datetime,
                      ranks: Mapping[str, int]) -> str | None:
    """Tell everyone scored on a question of its resolution, once: the claim on
    `notified_at` makes a second scheduler skip it. An annulment is claimed, not told."""
    claimed = session.execute(
        update(Resolution).where(Resolution.id == resolution_id,
                                 Resolution.notified_at.is_(None),
                                 Resolution.superseded_at.is_(None))
        .values(notified_at=now).execution_options(synchronize_session=False)).rowcount
    resolution = session.get(Resolution, resolution_id)
    if claimed != 1 or resolution is None or resolution.annulled:
        return None
    question = resolution.question
    scored = session.execute(
        select(QuestionScore.user_id, User.username, QuestionScore.brier, QuestionScore.log,
               QuestionScore.peer, _mail_state_sql("resolved"), QuestionScore.crps)
        .join(User, User.id == QuestionScore.user_id)
        .where(QuestionScore.question_id == question.id, User.deactivated_at.is_(None))).all()
    previous = _previous_ranks(session, [row[0] for row in scored])
    rows = []
    for user_id, username, brier, log, peer, state, crps in scored:  # the notifications recorded
        rank = ranks.get(username)
        before = previous.get(user_id)
        change = before - rank if rank is not None and before is not None else None
        rows.append({"user_id": user_id, "kind": "resolved",
                     "key": f"resolved:{resolution_id}:{user_id}", "question_id": question.id,
                     "payload_json": json.dumps({
                         "question": question.slug, "title": question.title,
                         "outcome": resolution.outcome, "brier": brier, "log": log,
                         "peer": peer, "rank": rank, "rank_change": change,
                         # Numeric and date questions: a CRPS, and no Brier (None).
                         **({"crps": crps} if crps is not None else {})}, sort_keys=True),
                     "created_at": now, "mail_state": state})
    n = _insert(session, rows)
    return f"notified resolved: {question.slug} ({_plural(n, 'user')})" if n else None


def stale_due(session: Session, now: datetime, stale_days: int) -> list[dict[str, Any]]:
    """The stale notifications not yet recorded, as rows: each active user's latest
    forecast (as of `now`) on an open question, when older than `stale_days` days. Only
    reads, so the scheduler runs it outside any write transaction (SQLite's write lock
    would wait on the scan of the open questions' forecasts)."""
    cutoff = now - timedelta(days=stale_days)
    open_ids = select(Question.id).where(_open_at(now))
    last = (select(Forecast.user_id, Forecast.question_id, func.max(Forecast.at).label("at"))
            .where(Forecast.question_id.in_(open_ids), Forecast.at <= now)
            .group_by(Forecast.user_id, Forecast.question_id)
            .having(func.max(Forecast.at) < cutoff).subquery())
    latest = (select(func.max(Forecast.id))
              .join(last, and_(Forecast.user_id == last.c.user_id,
                               Forecast.question_id == last.c.question_id,
                               Forecast.at == last.c.at))
              .group_by(Forecast.user_id, Forecast.question_id))
    key = literal("stale:", String) + cast(Forecast.id, String)
    found = session.execute(
        select(Forecast.id, Forecast.user_id, Forecast.at, Question.id, Question.slug,
               Question.title, _mail_state_sql("stale"))
        .join(Question, Question.id == Forecast.question_id)
        .join(User, User.id == Forecast.user_id)
        .where(Forecast.id.in_(latest), User.deactivated_at.is_(None),
               ~exists().where(Notification.key == key))
        .order_by(Question.slug, Forecast.id)).all()
    return [{"user_id": user_id, "kind": "stale", "key": f"stale:{forecast_id}",
             "question_id": qid, "created_at": now, "mail_state": state,
             "payload_json": json.dumps({"question": slug, "title": title,
                                         "forecast_at": timeutil.iso(at),
                                         "days": (now - at).days}, sort_keys=True)}
            for forecast_id, user_id, at, qid, slug, title, state in found]  # new ones only


def record_stale(session: Session, rows: list[dict[str, Any]]) -> list[str]:
    """Record the rows of `stale_due` (a key recorded meanwhile is skipped)."""
    if not _insert(session, rows):
        return []
    users: dict[str, int] = {}
    for row in rows:
        slug = json.loads(row["payload_json"])["question"]
        users[slug] = users.get(slug, 0) + 1
    return [f"notified stale: {slug} ({_plural(n, 'user')})" for slug, n in users.items()]


def notify_stale(session: Session, now: datetime, stale_days: int) -> list[str]:
    """Tell each active user whose latest forecast (as of `now`) on an open question is
    older than `stale_days` days, once per such forecast."""
    return record_stale(session, stale_due(session, now, stale_days))


def run_due(db: Database, *, now: datetime, settings: Mapping[str, Any]) -> list[str]:
    """The scheduler's notifications job: record what is due as of `now` (questions
    closing within 24 h, resolutions, stale forecasts) and queue the mail it calls for,
    one message each or daily digests; one line per thing done."""
    from forecasts.services import notification_mail

    with db.transaction() as session:
        lines = notify_closing(session, now)
    with db.session() as session:
        due = due_resolutions(session)
        ranks = default_ranks(session, settings) if due else {}
    for resolution_id in due:
        with db.transaction() as session:
            line = notify_resolution(session, resolution_id, now, ranks)
        if line:
            lines.append(line)
    with db.session() as session:
        stale = stale_due(session, now, settings["STALE_DAYS"])
    if stale:
        with db.transaction() as session:
            lines.extend(record_stale(session, stale))
    queued = notification_mail.compose(db, now=now, settings=settings)
    if queued:
        lines.append(f"queued {_plural(queued, 'mail')}")
    return lines
