"""Numeric questions, CDF forecasts and value resolutions written straight through the
models (the services that accept them are another helper's work), then scored by the
rescore path; and the plain inputs the tests recompute from."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from forecasts import cdf as cdf_codec
from forecasts.errors import InvalidInput
from forecasts.models import Forecast, Question, Resolution, User
from forecasts.services import scores
from tests.builders import make_user

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def from_knots(knots) -> np.ndarray:
    """A CDF given as knots [k, F_k], linear in k between them (the reference's form)."""
    ks, fs = zip(*knots)
    return np.interp(np.arange(cdf_codec.POINTS), ks, fs)


def stored(values) -> bytes:
    """The stored form: `cdf.encode`, or for a CDF outside SPEC section 11's 5e-5 bucket
    rule (the reference's point masses, which the engine scores but forms refuse) its
    float32 values as they are."""
    try:
        return cdf_codec.encode(values)
    except InvalidInput:
        return np.asarray(values, "<f4").tobytes()


def user_ids(session, names) -> dict[str, int]:
    out = {}
    for name in names:
        user = session.query(User).filter_by(username=name).one_or_none()
        out[name] = (user or make_user(session, name)).id
    return out


def add_question(session, slug: str, lo: float, hi: float, *, kind: str = "numeric",
                 close: float = 100.0, open_lower: bool = False,
                 open_upper: bool = False) -> Question:
    question = Question(slug=slug, title=f"How much ({slug})?", kind=kind, open_at=T0,
                        close_at=at(close), range_min=lo, range_max=hi,
                        open_lower=open_lower, open_upper=open_upper)
    session.add(question)
    session.flush()
    return question


def add_forecast(session, question: Question, user_id: int, seconds: float, values) -> None:
    session.add(Forecast(question_id=question.id, user_id=user_id, at=at(seconds),
                         cdf=stored(values)))
    session.flush()


def resolve(session, question: Question, y: float, known: float | None = None) -> None:
    session.add(Resolution(question_id=question.id, outcome=repr(float(y)), value=float(y),
                           known_at=None if known is None else at(known), actor="admin"))
    session.flush()


def rescore(database) -> None:
    with database.transaction() as session:
        scores.rescore_questions(session)


def plain_inputs(session, slugs: list[str]):
    """Inputs for tests/scoring/numeric_reference.score_numeric read through the ORM one
    object at a time (seconds since T0; each CDF decoded on its own)."""
    qs = [session.query(Question).filter_by(slug=s).one() for s in slugs]
    questions = {k: [] for k in ("open_at", "close_at", "end_at", "outcome", "range_min",
                                 "range_max")}
    forecasts = {k: [] for k in ("question", "user", "at", "cdf", "id")}
    for index, q in enumerate(qs):
        res = session.query(Resolution).filter_by(question_id=q.id, superseded_at=None).one()
        close = (q.close_at - T0).total_seconds()
        end = close if res.known_at is None else min(close, (res.known_at - T0).total_seconds())
        for key, value in (("open_at", (q.open_at - T0).total_seconds()), ("close_at", close),
                           ("end_at", end), ("outcome", res.value),
                           ("range_min", q.range_min), ("range_max", q.range_max)):
            questions[key].append(value)
        for f in session.query(Forecast).filter_by(question_id=q.id).order_by(Forecast.id):
            forecasts["question"].append(index)
            forecasts["user"].append(f.user_id)
            forecasts["at"].append((f.at - T0).total_seconds())
            forecasts["cdf"].append(f.cdf_values.tolist())
            forecasts["id"].append(f.id)
    return qs, questions, forecasts


def random_cdf(rng, lo, hi, open_lower, open_upper):
    a, b, c = np.sort(rng.uniform(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), 3))
    return cdf_codec.quantiles_to_cdf({0.1: a, 0.5: b, 0.9: c}, lo, hi, open_lower, open_upper)


def scored_world(database, names=("ana", "ben", "cy", "dee"), seed=7):
    """Three numeric/date questions, four users (`names`): ties, a forecast before open
    and one after T1 (not scored), known_at truncation, outcomes inside and outside the
    range; scored. Returns the slugs."""
    rng = np.random.default_rng(seed)
    specs = [("rain", "numeric", 0.0, 50.0, False, True, 61.0, None),
             ("gdp", "numeric", -5.0, 5.0, True, True, 1.25, 70.0),
             ("launch", "date", 1.8e9, 1.8e9 + 86400 * 30, False, False, 1.8e9 + 86400 * 3, None)]
    with database.transaction() as session:
        ids = user_ids(session, names)
        for slug, kind, lo, hi, ol, ou, y, known in specs:
            q = add_question(session, slug, lo, hi, kind=kind, open_lower=ol, open_upper=ou)
            times = [-5.0, 0.0, 0.0, 10.0, 25.0, 25.0, 40.0, 90.0]
            users = [names[i] for i in (0, 1, 0, 2, 1, 3, 0, 2)]
            for t, name in zip(times, users):
                add_forecast(session, q, ids[name], t, random_cdf(rng, lo, hi, ol, ou))
            resolve(session, q, y, known)
    rescore(database)
    return [s[0] for s in specs]
