"""Forecasts: validating probabilities (or a numeric or date question's CDF, SPEC §11)
and recording (append-only) forecasts."""
from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, joinedload

import numpy as np

import scoring
from forecasts import cdf as cdf_codec, timeutil
from forecasts.errors import Conflict, InvalidInput
from forecasts.models import ANNULLED, CONTINUOUS_KINDS, PUBLISHED, Forecast, Question, User
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


def check_cdf(values: object, *, open_lower: bool, open_upper: bool,
              where: str = "forecast.cdf") -> bytes:
    """A numeric or date forecast's CDF checked by SPEC §11 (`cdf.validate_cdf`, naming
    the index and the rule), in its stored form (`cdf.encode`: the values exactly)."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        raise InvalidInput(f"must be a list of {cdf_codec.POINTS} numbers F_0..F_200",
                           where=where)
    if isinstance(values, list) and all(type(v) is float for v in values):
        values = np.array(values, np.float64)  # the common JSON form, read at C speed
    checked = cdf_codec.validate_cdf(values, open_lower=open_lower, open_upper=open_upper,
                                     where=where)
    return cdf_codec.encode(checked)


_DECIMAL = re.compile(r"^[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?$")


def quantile_points(quantiles: object, *, where: str = "forecast.quantiles"
                    ) -> dict[float, object]:
    """`{probability: value}` with probabilities as floats: JSON gives its keys as text
    ("0.1"), which must be plain decimal numbers, each probability given once."""
    if not isinstance(quantiles, Mapping):
        raise InvalidInput('must be an object {"probability": value}, e.g. '
                           '{"0.1": 12.5, "0.5": 20, "0.9": 31}', where=where)
    points: dict[float, object] = {}
    for key, value in quantiles.items():
        if isinstance(key, str):
            if not _DECIMAL.match(key.strip()):
                raise InvalidInput(f"{key[:40]!r} is not a probability such as \"0.1\"",
                                   where=f"{where}[{key[:40]!r}]")
            p = float(key.strip())
        else:
            p = finite_number(key, where=f"{where}[{key!r}]")
        if p in points:
            raise InvalidInput(f"the probability {p} is given twice", where=f"{where}[{key!r}]")
        points[p] = value
    return points


def check_continuous(question: Question, probability: object, probabilities: object,
                     cdf: object, quantiles: object = None, *,
                     where: str = "forecast") -> bytes:
    """The stored CDF of a forecast on a numeric or date question: its `cdf`, or one made
    from `quantiles` (cdf.quantiles_to_cdf on the question's range); probabilities are
    refused."""
    kind = question.kind
    if probability is not None or probabilities is not None:
        given = "probability" if probability is not None else "probabilities"
        raise InvalidInput(f"a {kind} question takes a 'cdf' of {cdf_codec.POINTS} values "
                           f"(SPEC §11) or 'quantiles', not {given!r}", where=f"{where}.{given}")
    open_lower, open_upper = bool(question.open_lower), bool(question.open_upper)
    if cdf is not None and quantiles is not None:
        raise InvalidInput("give either 'cdf' or 'quantiles', not both", where=where)
    if quantiles is not None:
        assert question.range_min is not None and question.range_max is not None
        at = f"{where}.quantiles"
        cdf = cdf_codec.quantiles_to_cdf(quantile_points(quantiles, where=at),
                                         question.range_min, question.range_max,
                                         open_lower, open_upper, where=at)
    if cdf is None:
        raise InvalidInput("is missing (or give 'quantiles')", where=f"{where}.cdf")
    return check_cdf(cdf, open_lower=open_lower, open_upper=open_upper, where=f"{where}.cdf")


def check_payload(kind: str, n_options: int, probability: object = None,
                  probabilities: object = None, *, where: str = "forecast",
                  cdf: object = None) -> tuple[float | None, list[float] | None]:
    """The (probability, probabilities) pair that fits a binary or multiple-choice question
    (`cdf` is refused: it belongs to numeric and date questions, see check_continuous)."""
    if kind in CONTINUOUS_KINDS:
        raise InvalidInput(f"a {kind} question takes a 'cdf'", where=where)
    if cdf is not None:
        raise InvalidInput(f"a {kind.replace('_', '-')} question takes "
                           f"{'probability' if kind == 'binary' else 'probabilities'}, "
                           "not 'cdf' (numeric and date questions only)", where=f"{where}.cdf")
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
        probabilities: list[float] | None, rationale: str | None,
        cdf: bytes | None = None) -> dict:
    """Column values of a validated forecast, for a bulk insert."""
    return {"question_id": question.id, "user_id": user.id, "at": at,
            "probability": probability,
            "probabilities_json": json.dumps(probabilities) if probabilities is not None else None,
            "rationale": rationale, "cdf": cdf}


class JustSettled(Conflict):
    """The forecast was refused because the question's rule could already decide; the
    question was settled in the same session, which the caller commits before answering."""


def _settled_words(question: Question, outcome: str) -> str:
    if outcome == ANNULLED:
        return "annulled"
    return f"resolved {outcome.upper() if question.kind == 'binary' else repr(outcome)}"


@dataclass(frozen=True)
class Checked:
    """A forecast's validated content, ready to record on its question."""

    probability: float | None
    probabilities: list[float] | None
    cdf: bytes | None
    rationale: str | None


def check_forecast(question: Question, *, probability: object = None,
                   probabilities: object = None, cdf: object = None, quantiles: object = None,
                   rationale: object = None) -> Checked:
    """A forecast's content checked against its question, reading nothing from the
    database: `probability` (binary), `probabilities` (multiple choice) or `cdf` (numeric
    and date: 201 values F_0..F_200 valid for the question's open sides, stored with
    cdf.encode; or `quantiles` {probability: value}, turned into one, see
    check_continuous), and a rationale. Only a published question takes forecasts."""
    stored_cdf = None
    if question.continuous:
        p, ps = None, None
        stored_cdf = check_continuous(question, probability, probabilities, cdf, quantiles)
    else:
        if quantiles is not None:
            raise InvalidInput("quantiles are for numeric and date questions",
                               where="forecast.quantiles")
        p, ps = check_payload(question.kind, len(question.options), probability, probabilities,
                              cdf=cdf)
    note = check_rationale(rationale)
    if question.review_state != PUBLISHED:
        raise Conflict(f"question {question.slug!r} is a {question.review_state} proposal, "
                       "not a published question; it takes no forecasts", where="question")
    return Checked(p, ps, stored_cdf, note)


def submit_forecast(session: Session, question: Question, user: User, *,
                    probability: object = None, probabilities: object = None,
                    cdf: object = None, quantiles: object = None,
                    rationale: object = None, at: datetime | None = None,
                    as_comment: bool = True,
                    aggregator: scoring.Aggregator = scoring.MEDIAN) -> Forecast:
    """Check a forecast (`check_forecast`) and record it (`record_forecast`)."""
    checked = check_forecast(question, probability=probability, probabilities=probabilities,
                             cdf=cdf, quantiles=quantiles, rationale=rationale)
    return record_forecast(session, question, user, checked, at=at, as_comment=as_comment,
                           aggregator=aggregator)


def record_forecast(session: Session, question: Question, user: User, checked: Checked, *,
                    at: datetime | None = None, as_comment: bool = True,
                    aggregator: scoring.Aggregator = scoring.MEDIAN) -> Forecast:
    """Record a checked forecast now (or at `at`) on an open, unresolved question.

    A question whose rule can already decide takes no forecast (it would never be
    scored): it is settled instead and JustSettled is raised.

    The forecast and any resolution of the question serialise on the question's row
    lock (SQLite: the write transaction's BEGIN IMMEDIATE), and `at` and the question's
    window are read only once the lock is held: a resolution committed first is seen
    below and refuses the forecast; one that waits for this transaction reads its
    known_at after our commit, so later than `at`. No forecast is stored at or after an
    effective close, even when `question` was loaded before an edit of its window.

    Forecasting follows the question (unless the user unfollowed it), and a rationale
    joins the discussion as a comment (`as_comment=False`: a reaffirmed forecast, whose
    rationale is already there). The crowd's figures are made by `aggregator`.
    """
    # The rule is checked before our own lock: settling locks the related rows in id
    # order, and holding this row first could deadlock against a concurrent resolve-due.
    checked_at = timeutil.now()
    if (at or checked_at) >= question.open_at:
        due = settle_if_due(session, question, now=min(at or checked_at, checked_at),
                            actor="rule", recorded_at=checked_at, aggregator=aggregator)
        if due is not None:
            raise JustSettled(f"question {question.slug!r} was just "
                              f"{_settled_words(question, due.decision.outcome)} by its rule "
                              f"({due.decision.reason}); it takes no more forecasts",
                              where="question")
    open_at, close_at = lock_question(session, question)
    at = at or timeutil.now()
    resolution = current_resolution(session, question)
    if resolution is not None:
        state = "annulled" if resolution.annulled else "resolved"
        raise Conflict(f"question {question.slug!r} is {state}; it takes no more forecasts",
                       where="question")
    check_window(open_at, close_at, at)
    forecast = Forecast(**row(question, user, at, checked.probability, checked.probabilities,
                              checked.rationale, checked.cdf))
    session.add(forecast)
    session.flush()
    if question_stats.on_forecast(session, question, forecast, aggregator=aggregator):
        # Someone who forecast the question before has their follow (or unfollow) row.
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
