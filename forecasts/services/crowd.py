"""The crowd forecast over time, for the question page and its chart.

A busy question has a change of crowd for nearly every forecast, far more than a
720-pixel chart can draw: the chart reads a thinned history (`thin`), the table under
it the latest changes, and both come from one pass over the question's forecasts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

import scoring
from forecasts import timeutil
from forecasts.models import Question, Resolution
from forecasts.queries import forecast_arrays
from forecasts.services.question_stats import Stats, counted_before

# How many points of the crowd history a chart draws at most, as Metaculus thins its
# charts: half evenly spaced in time, half where the crowd moved most, plus the first
# and the exact current value.
CHART_POINTS = 400

Point = tuple[datetime, list[float], int]


@dataclass(frozen=True)
class History:
    """A question's crowd history restricted to the forecasts that count (see
    question_stats): `points` thinned for the chart, `recent` the latest changes exactly,
    `total` the number of changes, `late` the forecasts made too late to count and
    `forecasts` the forecasts that count."""

    points: list[Point]
    recent: list[Point]
    total: int
    late: int
    forecasts: int

    def to_doc(self) -> dict[str, Any]:
        """A JSON-able form, for a cache shared by processes."""
        def rows(points: list[Point]) -> list[Any]:
            return [[timeutil.to_micros(t), p, n] for t, p, n in points]
        return {"points": rows(self.points), "recent": rows(self.recent), "total": self.total,
                "late": self.late, "forecasts": self.forecasts}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> History:
        def rows(raw: list[Any]) -> list[Point]:
            return [(timeutil.from_micros(t), list(p), int(n)) for t, p, n in raw]
        return cls(rows(doc["points"]), rows(doc["recent"]), int(doc["total"]), int(doc["late"]),
                   int(doc["forecasts"]))


def thin(times: np.ndarray, crowd: np.ndarray, most: int = CHART_POINTS) -> np.ndarray:
    """Indices (ascending) of at most `most` points of a step series to draw: the first and
    the last, the point standing at each of `most // 2` evenly spaced times, and the
    points where the series (any column of `crowd`) moved most."""
    m = len(times)
    if m <= most:
        return np.arange(m)
    even = np.searchsorted(times, np.linspace(times[0], times[-1], most // 2), side="right") - 1
    moves = np.abs(np.diff(crowd, axis=0)).max(axis=1)
    n_moves = most - most // 2 - 2
    largest = np.argpartition(moves, -n_moves)[-n_moves:] + 1
    return np.unique(np.concatenate(([0, m - 1], even, largest)))


def history(session: Session, question: Question, resolution: Resolution | None, *,
            recent: int, aggregator: scoring.Aggregator = scoring.MEDIAN) -> History:
    """The crowd (made by `aggregator`) after each forecast time that counts, oldest
    first (thinned to CHART_POINTS), with the latest `recent` changes exact."""
    k = len(question.options)
    f = forecast_arrays(session, np.array([question.id]), np.array([k]))
    cut = counted_before(question, resolution)
    late = 0
    user, at, probs = f.user, f.at, f.probs.reshape(-1, k)
    if cut is not None:
        keep = at < timeutil.to_micros(cut)
        late = int(len(at) - keep.sum())
        user, at, probs = user[keep], at[keep], probs[keep]
    return _built(user, at, probs, late, recent, aggregator)


def _built(user: np.ndarray, at: np.ndarray, probs: np.ndarray, late: int, recent: int,
           aggregator: scoring.Aggregator) -> History:
    """The History of one question's counted forecasts (in record order)."""
    if len(at) == 0:
        return History([], [], 0, late, 0)
    times, crowd, n = scoring.crowd_series(user, at, probs, method=aggregator)

    def points(index: np.ndarray) -> list[Point]:
        return [(timeutil.from_micros(t), row.tolist(), int(c))
                for t, row, c in zip(times[index].tolist(), crowd[index], n[index].tolist())]

    return History(points(thin(times, crowd)), points(np.arange(max(0, len(times) - recent),
                                                                len(times))),
                   len(times), late, len(at))


def unsettled_histories(session: Session, questions: list[Question], *, recent: int,
                        aggregator: scoring.Aggregator = scoring.MEDIAN) -> dict[int, History]:
    """`history` of several unsettled questions (every forecast counts) from one read of
    their forecasts, for pages that list many questions."""
    ordered = sorted(questions, key=lambda q: q.id)
    if not ordered:
        return {}
    n_options = np.array([len(q.options) for q in ordered], np.int64)
    f = forecast_arrays(session, np.array([q.id for q in ordered], np.int64), n_options)
    k = n_options[f.question]
    ends = np.cumsum(k)
    out = {}
    for i, question in enumerate(ordered):
        mine = np.flatnonzero(f.question == i)
        flat = (np.repeat(ends[mine] - k[mine], k[mine])
                + np.arange(int(k[mine].sum())) - np.repeat(np.cumsum(k[mine]) - k[mine], k[mine]))
        out[question.id] = _built(f.user[mine], f.at[mine],
                                  f.probs[flat].reshape(-1, n_options[i]), 0, recent,
                                  aggregator)
    return out


def extended(previous: History, stats: Stats, *, recent: int) -> History | None:
    """`previous` brought up to the question's current figures when all that changed is
    one forecast after its last point (the common case: a forecast made now), else None.

    The new point is the stored current crowd at the stored last forecast time; a busy
    question's page then costs no pass over its forecasts per new forecast."""
    last = previous.points[-1][0] if previous.points else None
    if stats.forecasts == previous.forecasts and stats.last_forecast_at == last:
        return previous  # the figures were recomputed (a refresh) but did not change
    if (stats.forecasts != previous.forecasts + 1 or stats.crowd is None
            or stats.last_forecast_at is None
            or (last is not None and stats.last_forecast_at <= last)):
        return None
    point: Point = (stats.last_forecast_at, list(stats.crowd), stats.forecasters)
    points = [*previous.points, point]
    if len(points) > CHART_POINTS:
        times = np.array([timeutil.to_micros(t) for t, _, _ in points], np.int64)
        keep = thin(times, np.array([p for _, p, _ in points], np.float64)).tolist()
        points = [points[i] for i in keep]
    return History(points, [*previous.recent, point][-recent:], previous.total + 1,
                   previous.late, stats.forecasts)
