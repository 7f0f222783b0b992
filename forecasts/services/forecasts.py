"""Forecasts: validating probabilities and recording (append-only) forecasts."""
from __future__ import annotations

import json
import math
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

import scoring
from forecasts import timeutil
from forecasts.errors import Conflict, InvalidInput
from forecasts.models import ANNULLED, PUBLISHED, Forecast, Question, User
from forecasts.numbers import finite_number
from forecasts.services import comments, follows, question_stats
from forecasts.services.questions import current_resolution, lock_question
from forecasts.services.resolve_due import settle_if_due
from forecasts.services.text import check_storable

P_MIN, P_MAX = 0.001, 0.999
SUM_TOLERANCE = 1e-6
# Below this the sum is 1 up to float rounding: keep the values exactly as given,
# so that normalising is idempotent and bundles round-trip bit for bit.
_EXACT_SUM = 1e-12
MAX_RATIONALE = 10_000


def _probability(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInput(f"{value!r} is not a number", where=where)
    value = finite_number(value, where=where)
    if not P_MIN <= value <= P_MAX:
        raise InvalidInput(f"{value!r} is outside [{P_MIN}, {P_MAX}]", where=where)
    return value


def check_binary(value: object, *, where: str = "probability") -> float:
    """A binary forecast's probability of yes, within [0.001, 0.999]."""
    return _probability(value, where)


def check_vector(values: object, n_options: int, *, where: str = "probabilities") -> list[float]:
    """A multiple-choice forecast: one probability per option summing to 1 (then normalised)."""
    if not isinstance(values, list):
        raise InvalidInput("must be a list with one probability per option", where=where)
    if len(values) != n_options:
        raise InvalidInput(f"has {len(values)} values for {n_options} options", where=where)
    probs = [_probability(v, f"{where}[{i}]") for i, v in enumerate(values)]
    total = math.fsum(probs)
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise InvalidInput(f"sums to {total:.6g}, not 1", where=where)
    if abs(total - 1.0) > _EXACT_SUM:
        probs = [p / total for p in probs]
    return probs


def check_payload(kind: str, n_options: int, probability: object = None,
                  probabilities: object = None, *, where: str = "forecast"
                  ) -> tuple[float | None, list[float] | None]:
    """The (probability, probabilities) pair that fits a question of this kind."""
    if kind == "binary":
        if probabilities is not None:
            raise InvalidInput("a binary question takes 'probability', not 'probabilities'", where=where)
        if probability is None:
            raise InvalidInput("is missing", where=f"{where}.probability")
        return check_binary(probability, where=f"{where}.probability"), None
    if probability is not None:
        raise InvalidInput("a multiple-choice question takes 'probabilities', one per option",
                           where=where)
    if probabilities is None:
        raise InvalidInput("is missing", where=f"{where}.probabilities")
    return None, check_vector(probabilities, n_options, where=f"{where}.probabilities")


def check_rationale(value: object, *, where: str = "rationale") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput("must be text", where=where)
    if len(value) > MAX_RATIONALE:
        raise InvalidInput(f"is longer than {MAX_RATIONALE} characters", where=where)
    return check_storable(value, where=where)


def check_window(open_at: datetime, close_at: datetime, at: datetime, *, where: str = "at") -> None:
    """A forecast must fall in [open_at, close_at)."""
    if at < open_at:
        raise Conflict(f"{timeutil.iso(at)} is before the question opens "
                       f"({timeutil.iso(open_at)})", where=where)
    if at >= close_at:
        raise Conflict(f"{timeutil.iso(at)} is not before the question closes "
                       f"({timeutil.iso(close_at)})", where=where)


def row(question: Question, user: User, at: datetime, probability: float | None,
        probabilities: list[float] | None, rationale: str | None) -> dict:
    """Column values of a validated forecast, for a bulk insert."""
    return {"question_id": question.id, "user_id": user.id, "at": at,
            "probability": probability,
            "probabilities_json": json.dumps(probabilities) if probabilities is not None else None,
            "rationale": rationale}


class JustSettled(Conflict):
    """The forecast was refused because the question's rule could already decide; the
    question was settled in the same session, which the caller commits before answering."""


def _settled_words(question: Question, outcome: str) -> str:
    if outcome == ANNULLED:
        return "annulled"
    return f"resolved {outcome.upper() if question.kind == 'binary' else repr(outcome)}"


def submit_forecast(session: Session, question: Question, user: User, *,
                    probability: object = None, probabilities: object = None,
                    rationale: object = None, at: datetime | None = None,
                    as_comment: bool = True,
                    aggregator: scoring.Aggregator = scoring.MEDIAN) -> Forecast:
    """Record a forecast now (or at `at`) on an open, unresolved, published question.

    A question whose rule can already decide takes no forecast (it would never be
    scored): it is settled instead and JustSettled is raised.

    The forecast and any resolution of the question serialise on the question's row
    lock (SQLite: the write transaction's BEGIN IMMEDIATE), and `at` is read only once
    the lock is held: a resolution committed first is seen below and refuses the
    forecast; one that waits for this transaction reads its known_at after our commit,
    so later than `at`. No forecast is stored at or after an effective close.

    Forecasting follows the question (unless the user unfollowed it), and a rationale
    joins the discussion as a comment (`as_comment=False`: a reaffirmed forecast, whose
    rationale is already there). The crowd's figures are made by `aggregator`.
    """
    p, ps = check_payload(question.kind, len(question.options), probability, probabilities)
    note = check_rationale(rationale)
    if question.review_state != PUBLISHED:
        raise Conflict(f"question {question.slug!r} is a {question.review_state} proposal, "
                       "not a published question; it takes no forecasts", where="question")
    # The rule is checked before our own lock: settling locks the related rows in id
    # order, and holding this row first could deadlock against a concurrent resolve-due.
    checked = timeutil.now()
    if (at or checked) >= question.open_at:
        due = settle_if_due(session, question, now=min(at or checked, checked), actor="rule",
                            recorded_at=checked, aggregator=aggregator)
        if due is not None:
            raise JustSettled(f"question {question.slug!r} was just "
                              f"{_settled_words(question, due.decision.outcome)} by its rule "
                              f"({due.decision.reason}); it takes no more forecasts",
                              where="question")
    lock_question(session, question)
    at = at or timeutil.now()
    resolution = current_resolution(session, question)
    if resolution is not None:
        state = "annulled" if resolution.annulled else "resolved"
        raise Conflict(f"question {question.slug!r} is {state}; it takes no more forecasts",
                       where="question")
    check_window(question.open_at, question.close_at, at)
    forecast = Forecast(**row(question, user, at, p, ps, note))
    session.add(forecast)
    session.flush()
    question_stats.on_forecast(session, question, forecast, aggregator=aggregator)
    follows.auto_follow(session, user, question)
    if as_comment:
        comments.from_forecast(session, forecast)
    return forecast


def user_forecasts(session: Session, question: Question, user: User) -> list[Forecast]:
    """A user's forecasts on a question, oldest first."""
    return list(session.scalars(select(Forecast).where(
        Forecast.question_id == question.id, Forecast.user_id == user.id)
        .order_by(Forecast.at, Forecast.id)))


def forecasts_by_user(session: Session, user: User, *, question: Question | None = None,
                      limit: int, offset: int = 0,
                      before: tuple[datetime, int] | None = None) -> list[Forecast]:
    """A page of the user's forecasts, newest first (equal times: the later-recorded first);
    `before` = (at, id) of the previous page's last row continues after it."""
    stmt = (select(Forecast).options(joinedload(Forecast.question))
            .where(Forecast.user_id == user.id)
            .order_by(Forecast.at.desc(), Forecast.id.desc()))
    if question is not None:
        stmt = stmt.where(Forecast.question_id == question.id)
    if before is not None:
        at, forecast_id = before
        stmt = stmt.where(or_(Forecast.at < at, and_(Forecast.at == at, Forecast.id < forecast_id)))
    return list(session.scalars(stmt.limit(limit).offset(offset or None)))
