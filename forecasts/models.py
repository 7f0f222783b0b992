"""Typed SQLAlchemy models. Timestamps are stored as integer UTC microseconds."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer,
                        LargeBinary, MetaData, String, Text, func, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from forecasts import timeutil

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


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("kind IN ('binary', 'multiple_choice')", name="kind"),
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

    tag_rows: Mapped[list[QuestionTag]] = relationship(
        cascade="all, delete-orphan", order_by="QuestionTag.position", lazy="selectin")

    @property
    def options(self) -> list[str]:
        """Option labels; binary questions are implicitly ["no", "yes"]."""
        return json.loads(self.options_json) if self.options_json else ["no", "yes"]

    @property
    def rule(self) -> dict[str, Any]:
        return json.loads(self.rule_json)

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

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
    multiple-choice rows set `probabilities_json`, one value per option."""

    __tablename__ = "forecasts"
    __table_args__ = (
        CheckConstraint("(probability IS NULL) <> (probabilities_json IS NULL)", name="one_form"),
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

    question: Mapped[Question] = relationship()
    user: Mapped[User] = relationship()

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
    brier: Mapped[float] = mapped_column(Float(53))
    log: Mapped[float] = mapped_column(Float(53))
    rps: Mapped[float | None] = mapped_column(Float(53))
    peer: Mapped[float] = mapped_column(Float(53))
    coverage: Mapped[float] = mapped_column(Float(53))


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
    brier: Mapped[float] = mapped_column(Float(53))
    log: Mapped[float] = mapped_column(Float(53))
    rps: Mapped[float | None] = mapped_column(Float(53))


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
