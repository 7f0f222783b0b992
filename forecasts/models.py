"""Typed SQLAlchemy models. Timestamps are stored as integer UTC microseconds."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Text, false, func, text, true)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from forecasts import cdf as cdf_codec, timeutil

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcMicros(TypeDecorator[datetime]):
    """An aware UTC datetime stored as BIGINT microseconds since the epoch.

    Integers make time arithmetic exact and identical on SQLite and PostgreSQL,
    and let the scoring fast path load times straight into int64 arrays.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> int | None:
        return None if value is None else timeutil.to_micros(value)

    def process_result_value(self, value: int | None, dialect: Any) -> datetime | None:
        return None if value is None else timeutil.from_micros(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'forecaster')", name="role"),
        Index("uq_users_username_lower", func.lower(text("username")), unique=True),
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="forecaster")
    # Bumped on logout and password change: sessions carrying an older epoch are void.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    # Set by `forecasts user deactivate`: no login, no tokens; the forecasts stay scored.
    deactivated_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    # Consecutive failed logins and the lockout they earned (see forecasts/web/login.py).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UtcMicros)
    # Optional; mail goes only to a verified address (forecasts/services/email.py).
    email: Mapped[str | None] = mapped_column(String(254))
    email_verified_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    # "Always hide the crowd until I have forecast", whatever the question says.
    hide_crowd: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Notification preferences, one switch per kind, and daily digest vs immediately.
    notify_closing: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_resolved: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_stale: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    notify_reply: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    mail_digest: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_digest_at: Mapped[datetime | None] = mapped_column(UtcMicros)

    @property
    def email_verified(self) -> bool:
        return self.email is not None and self.email_verified_at is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def active(self) -> bool:
        return self.deactivated_at is None

    def __repr__(self) -> str:
        return f"<User {self.username!r} {self.role}>"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcMicros)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} of user {self.user_id}>"


# A question's review state: proposals from forecasters wait as drafts for an admin.
DRAFT, PUBLISHED, REJECTED = "draft", "published", "rejected"


# Kinds whose outcome is a number on a range (a timestamp for dates): SPEC §11.
CONTINUOUS_KINDS = ("numeric", "date")


class Question(Base):
    """Numeric and date questions (SPEC §11) have a range `range_min < range_max` (for
    dates in seconds since the epoch) and say whether the outcome may fall below or above
    it (`open_lower`, `open_upper`); binary and multiple-choice questions have no range."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("kind IN ('binary', 'multiple_choice', 'numeric', 'date')", name="kind"),
        CheckConstraint("(kind IN ('numeric', 'date') AND range_min IS NOT NULL "
                        "AND range_max IS NOT NULL AND range_min < range_max) OR "
                        "(kind IN ('binary', 'multiple_choice') AND range_min IS NULL "
                        "AND range_max IS NULL)", name="range"),
        CheckConstraint("open_at < close_at", name="window"),
        CheckConstraint("review_state IN ('draft', 'published', 'rejected')", name="review_state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    options_json: Mapped[str | None] = mapped_column(Text)
    ordered: Mapped[bool] = mapped_column(Boolean, default=False)
    open_at: Mapped[datetime] = mapped_column(UtcMicros)
    close_at: Mapped[datetime] = mapped_column(UtcMicros, index=True)
    rule_json: Mapped[str] = mapped_column(Text, default='{"type": "manual"}')
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    review_state: Mapped[str] = mapped_column(String(16), default=PUBLISHED,
                                              server_default=PUBLISHED, index=True)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_by: Mapped[str | None] = mapped_column(String(80))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    review_note: Mapped[str | None] = mapped_column(Text)
    # While open, the crowd and others' rationales are withheld from whoever has not
    # forecast (forecasts/services/visibility.py). On for new questions.
    hide_crowd_until_forecast: Mapped[bool] = mapped_column(Boolean, default=True,
                                                            server_default=false())
    range_min: Mapped[float | None] = mapped_column(Float(53))
    range_max: Mapped[float | None] = mapped_column(Float(53))
    open_lower: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    open_upper: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # For display only, e.g. "USD" or "%".
    unit: Mapped[str | None] = mapped_column(String(40))

    tag_rows: Mapped[list[QuestionTag]] = relationship(
        cascade="all, delete-orphan", order_by="QuestionTag.position", lazy="selectin")

    @property
    def options(self) -> list[str]:
        """Option labels; binary questions are implicitly ["no", "yes"], numeric and date
        questions have none."""
        if self.options_json:
            return json.loads(self.options_json)
        return [] if self.continuous else ["no", "yes"]

    @property
    def rule(self) -> dict[str, Any]:
        return json.loads(self.rule_json)

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def continuous(self) -> bool:
        """A numeric or date question: forecasts are CDFs on the range's grid."""
        return self.kind in CONTINUOUS_KINDS

    def __repr__(self) -> str:
        return f"<Question {self.slug!r} {self.kind}>"


class QuestionRevision(Base):
    """One edit of a question: the fields it changed, with their values before and after.
    The rows of a question in id order are its edit history."""

    __tablename__ = "question_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    # {"field": {"old": ..., "new": ...}, ...}
    changes_json: Mapped[str] = mapped_column(Text)

    @property
    def changes(self) -> dict[str, Any]:
        return json.loads(self.changes_json)

    def __repr__(self) -> str:
        return f"<QuestionRevision q={self.question_id} {sorted(self.changes)}>"


class QuestionTag(Base):
    __tablename__ = "question_tags"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Forecast(Base):
    """Append-only: an update is a new row. Binary rows set `probability` (of yes);
    multiple-choice rows set `probabilities_json`, one value per option; numeric and date
    rows set `cdf`, the 201 values F_0..F_200 as `forecasts.cdf.encode` stores them, exactly:
    804 bytes (float32) for values on the 2**-24 grid, else 1608 (float64)."""

    __tablename__ = "forecasts"
    __table_args__ = (
        CheckConstraint("(cdf IS NULL AND (probability IS NULL) <> (probabilities_json IS NULL))"
                        " OR (cdf IS NOT NULL AND probability IS NULL "
                        "AND probabilities_json IS NULL)", name="one_form"),
        CheckConstraint("cdf IS NULL OR length(cdf) IN (804, 1608)", name="cdf_size"),
        Index("ix_forecasts_question_user_at", "question_id", "user_id", "at"),
        # The question page's rationales, newest first, without walking every forecast.
        Index("ix_forecasts_rationale", "question_id", "at", "id",
              sqlite_where=text("rationale IS NOT NULL"),
              postgresql_where=text("rationale IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcMicros)
    probability: Mapped[float | None] = mapped_column(Float(53))
    probabilities_json: Mapped[str | None] = mapped_column(Text)
    rationale: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    cdf: Mapped[bytes | None] = mapped_column(LargeBinary)

    question: Mapped[Question] = relationship()
    user: Mapped[User] = relationship()

    @property
    def cdf_values(self) -> np.ndarray:
        """The CDF of a numeric or date forecast, F_0..F_200 as float64."""
        assert self.cdf is not None
        return cdf_codec.decode(self.cdf)

    @property
    def probabilities(self) -> list[float]:
        """One probability per option (binary: [no, yes])."""
        if self.probabilities_json is not None:
            return json.loads(self.probabilities_json)
        assert self.probability is not None
        return [1.0 - self.probability, self.probability]

    def __repr__(self) -> str:
        return f"<Forecast {self.id} q={self.question_id} u={self.user_id}>"


class Resolution(Base):
    """Every resolution ever made; the current one has `superseded_at` NULL.

    The rows of a question in id order are its audit log.
    """

    __tablename__ = "resolutions"
    __table_args__ = (
        Index("uq_resolutions_current", "question_id", unique=True,
              sqlite_where=text("superseded_at IS NULL"),
              postgresql_where=text("superseded_at IS NULL")),
        CheckConstraint("source IN ('manual', 'rule', 'import', 'cascade')", name="source"),
        CheckConstraint("value IS NULL OR outcome <> 'annulled'", name="value"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    outcome: Mapped[str] = mapped_column(String(200))
    known_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_json: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(16), default="manual")
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    # Set once the "resolved" notifications of this resolution have been recorded.
    notified_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    # Numeric and date questions: the outcome's number (for dates, seconds since the
    # epoch), which scores read; NULL for other kinds and when annulled.
    value: Mapped[float | None] = mapped_column(Float(53))

    question: Mapped[Question] = relationship()

    @property
    def annulled(self) -> bool:
        return self.outcome == ANNULLED

    @property
    def evidence(self) -> dict[str, Any] | None:
        return json.loads(self.evidence_json) if self.evidence_json else None

    def __repr__(self) -> str:
        return f"<Resolution q={self.question_id} {self.outcome!r}>"


ANNULLED = "annulled"


class Observation(Base):
    """A recorded value of a named series, the evidence threshold and bins rules read."""

    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_series_at", "series", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UtcMicros)
    value: Mapped[float] = mapped_column(Float(53))
    source: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(80), default="cli")
    recorded_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)

    def __repr__(self) -> str:
        return f"<Observation {self.series} {self.value} at {self.at}>"


class QuestionScore(Base):
    """A user's scores on a resolved question; written with the resolution."""

    __tablename__ = "question_scores"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    # Numeric and date questions (SPEC section 11) have a CRPS and no Brier (or RPS).
    brier: Mapped[float | None] = mapped_column(Float(53))
    log: Mapped[float] = mapped_column(Float(53))
    rps: Mapped[float | None] = mapped_column(Float(53))
    peer: Mapped[float] = mapped_column(Float(53))
    coverage: Mapped[float] = mapped_column(Float(53))
    crps: Mapped[float | None] = mapped_column(Float(53))


class QuestionScoreBlock(Base):
    """Every user's scores on a question packed into one value: the rows of
    `question_scores` by user id as `queries.SCORE_RECORD` records. Written with those
    rows, it lets the leaderboard read a question's scores as one value, not one row each."""

    __tablename__ = "question_score_blocks"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CrowdScore(Base):
    """The crowd forecast's scores on a resolved question."""

    __tablename__ = "crowd_scores"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    brier: Mapped[float | None] = mapped_column(Float(53))  # None for numeric and date
    log: Mapped[float] = mapped_column(Float(53))
    rps: Mapped[float | None] = mapped_column(Float(53))
    crps: Mapped[float | None] = mapped_column(Float(53))  # numeric and date only
    # The aggregator that made the crowd scored here (`scoring.aggregate`), e.g. "median"
    # or "extremized_mean:1.5": rows made by another than the configured one are rescored.
    aggregator: Mapped[str] = mapped_column(String(60), default="median",
                                            server_default="median")


class QuestionStats(Base):
    """Figures the question list and page show, maintained on every write to the
    question's forecasts (in the same transaction) instead of recomputed per view."""

    __tablename__ = "question_stats"

    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True)
    forecasters: Mapped[int] = mapped_column(Integer, default=0)
    forecasts: Mapped[int] = mapped_column(Integer, default=0)
    last_forecast_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    # The current crowd forecast, one probability per option; NULL with no forecaster.
    crowd_json: Mapped[str | None] = mapped_column(Text)
    # Bumped on every change: caches of the question's page and chart key on it.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # Each forecaster's latest forecast (latest_forecasts.encode_latest), kept by every
    # forecast for the next one; NULL: not kept, read from the forecasts table when needed.
    latest: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class Counter(Base):
    """Named counters, e.g. "scores": bumped by every transaction that changes scores,
    so that every process can tell whether its cached leaderboards are current."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class LeaderboardSnapshot(Base):
    """A leaderboard computed when scores changed (`key` names metric and filters),
    valid while `score_version` equals the "scores" counter."""

    __tablename__ = "leaderboard_snapshots"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    score_version: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[str] = mapped_column(Text)


class Comment(Base):
    """A comment in a question's discussion; `parent_id` makes it a reply. A forecast's
    rationale is also a comment, with `forecast_id` naming the forecast it came with.
    Nothing is deleted: deleting blanks the body and sets `deleted_at`; an admin's
    hiding keeps the body and sets `hidden_at` with a reason."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_question_created", "question_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    forecast_id: Mapped[int | None] = mapped_column(
        ForeignKey("forecasts.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    edited_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    hidden_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    hidden_by: Mapped[str | None] = mapped_column(String(80))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Comment {self.id} q={self.question_id} u={self.user_id}>"


class Follow(Base):
    """A user's choice about a question's notifications: `following` False records an
    unfollow, so that forecasting again does not silently follow it back."""

    __tablename__ = "follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True, index=True)
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)


NOTIFICATION_KINDS = ("closing", "resolved", "stale", "reply")


class Notification(Base):
    """An event a user is told of, in the app and (per their settings) by mail. `key` is
    unique, so recording the same event twice, by any number of schedulers, keeps one.

    mail_state: `pending` (to be mailed, alone or in a digest), `queued` (the outbox
    message `mail_id` carries it) or `none` (not to be mailed: switched off, or no
    verified address when it was recorded)."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("kind IN ('closing', 'resolved', 'stale', 'reply')", name="kind"),
        CheckConstraint("mail_state IN ('pending', 'queued', 'none')", name="mail_state"),
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_mail_state", "mail_state", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(160), unique=True)
    question_id: Mapped[int | None] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    payload_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    read_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    mail_state: Mapped[str] = mapped_column(String(16), default="pending")
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mail_outbox.id", ondelete="SET NULL"))

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.payload_json)

    def __repr__(self) -> str:
        return f"<Notification {self.kind} {self.key!r}>"


class MailMessage(Base):
    """One mail to send: written in the transaction that decides to send it, sent later
    by the scheduler (forecasts/services/outbox.py). state: `pending` (to send, at or
    after `next_attempt_at`), `sending` (claimed by `claimed_by`; recorded before the
    SMTP exchange, so a crash mid-batch never sends twice), `sent`, or `failed` (refused
    for good by the server, with `last_error`)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name="state"),
        Index("ix_mail_outbox_state_next", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    kind: Mapped[str] = mapped_column(String(20))
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # Extra headers, e.g. List-Unsubscribe and List-Unsubscribe-Post.
    headers_json: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    sent_at: Mapped[datetime | None] = mapped_column(UtcMicros)

    @property
    def headers(self) -> dict[str, str]:
        return json.loads(self.headers_json)

    def __repr__(self) -> str:
        return f"<MailMessage {self.id} {self.kind} {self.state}>"


class Tournament(Base):
    """A named set of questions with an optional start and end (a tournament or a
    season), its own page and a leaderboard of the members who joined it."""

    __tablename__ = "tournaments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    start_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    end_at: Mapped[datetime | None] = mapped_column(UtcMicros)
    created_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
    created_by: Mapped[str] = mapped_column(String(80), default="cli")

    def __repr__(self) -> str:
        return f"<Tournament {self.slug!r}>"


class TournamentQuestion(Base):
    __tablename__ = "tournament_questions"

    tournament_id: Mapped[int] = mapped_column(
        ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)


class TournamentMember(Base):
    """A forecaster who joined a tournament; leaving deletes the row."""

    __tablename__ = "tournament_members"

    tournament_id: Mapped[int] = mapped_column(
        ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    joined_at: Mapped[datetime] = mapped_column(UtcMicros, default=timeutil.now)
