"""The crowd of a numeric or date question as the web shows it (SPEC §11).

The crowd is the mean of the standing forecasts' CDFs (each forecaster's latest one that
counts, see question_stats.counted_before), a CDF on the question's grid itself. After
each forecast time it has a median and an 80% interval (its 10th and 90th percentiles);
the history of those three numbers is thinned for the chart as the binary crowd's is
(crowd.thin), and the latest changes are kept exactly for the table.

Quantiles of a CDF F on the grid x_0..x_200 (linear in between, §11): the smallest x
with F(x) ≥ p, found by linear interpolation in the bucket where F first reaches p.
Mass below `min` sits at `min` and mass above `max` at `max`, so a quantile never leaves
the range: p ≤ F_0 gives `min`, p > F_200 gives `max`.

Computation: the running sum of standing CDFs changes at forecast i by
cdf_i − (the same user's previous cdf, or 0); its cumulative sum over the forecasts in
time order, in blocks of rows to bound memory, divided by the number of forecasters so
far, is the crowd after each forecast. One read of the question's CDF blobs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any, Sequence

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from forecasts import cdf as cdf_codec, timeutil
from forecasts.models import Forecast, Question, Resolution
from forecasts.queries import raw_time
from forecasts.services.crowd import CHART_POINTS, thin
from forecasts.services.question_stats import Stats, counted_before

# The figures drawn and tabled: the 10th, 50th and 90th percentiles.
BAND = (0.1, 0.5, 0.9)
_BLOCK = 4096  # forecasts per step of the running sum

# (time, [q10, median, q90], forecasters)
BandPoint = tuple[datetime, list[float], int]


def quantiles(cdfs: np.ndarray, lo: float, hi: float, probs: Sequence[float]) -> np.ndarray:
    """Quantiles of CDFs on the grid of [lo, hi]: `cdfs` (m, 201) non-decreasing rows,
    `probs` in (0, 1); returns (m, len(probs)) values in [lo, hi] (module docstring)."""
    f = np.atleast_2d(np.asarray(cdfs, np.float64))
    x = cdf_codec.grid(lo, hi)
    out = np.empty((f.shape[0], len(probs)))
    for j, p in enumerate(probs):  # a handful of probabilities; rows are vectorised
        k = (f < p).sum(axis=1)  # first index with F_k ≥ p (rows are non-decreasing)
        inside = (k > 0) & (k < cdf_codec.POINTS)
        kk = np.clip(k, 1, cdf_codec.BUCKETS)
        rows = np.arange(f.shape[0])
        f0, f1 = f[rows, kk - 1], f[rows, kk]
        share = np.where(f1 > f0, (p - f0) / np.where(f1 > f0, f1 - f0, 1.0), 1.0)
        value = x[kk - 1] + np.clip(share, 0.0, 1.0) * (x[kk] - x[kk - 1])
        out[:, j] = np.where(inside, value, np.where(k == 0, lo, hi))
    return out


def density(cdf: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Probability per unit of the value in each of the 200 buckets: mass / width."""
    return np.diff(np.asarray(cdf, np.float64)) / ((hi - lo) / cdf_codec.BUCKETS)


@dataclass(frozen=True)
class NumericCrowd:
    """The crowd of one question: `cdf` its current mean CDF (None without forecasts),
    `forecasters` how many stand in it, `points` the thinned band history for the chart,
    `recent` the latest changes exactly (oldest first), `total` the number of changes and
    `late` the forecasts made too late to count."""

    cdf: list[float] | None
    forecasters: int
    points: list[BandPoint]
    recent: list[BandPoint]
    total: int
    late: int = 0
    forecasts: int = 0  # the forecasts that count

    @property
    def band(self) -> list[float] | None:
        """The current [q10, median, q90]."""
        return self.recent[-1][1] if self.recent else None

    def to_doc(self) -> dict[str, Any]:
        """A JSON-able form, for the shared cache."""
        def rows(points: list[BandPoint]) -> list[Any]:
            return [[timeutil.to_micros(t), b, n] for t, b, n in points]
        return {"cdf": self.cdf, "forecasters": self.forecasters, "points": rows(self.points),
                "recent": rows(self.recent), "total": self.total, "late": self.late,
                "forecasts": self.forecasts}

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> NumericCrowd:
        def rows(raw: list[Any]) -> list[BandPoint]:
            return [(timeutil.from_micros(t), [float(v) for v in b], int(n)) for t, b, n in raw]
        return cls(doc["cdf"], int(doc["forecasters"]), rows(doc["points"]), rows(doc["recent"]),
                   int(doc["total"]), int(doc["late"]), int(doc.get("forecasts", 0)))


EMPTY = NumericCrowd(None, 0, [], [], 0)


def _read(session: Session, question: Question, cut: datetime | None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(users, times in microseconds, CDFs (m, 201) as `cdf.decode_many` reads them) of
    the counted forecasts in time order, and how many came too late."""
    stmt = (select(Forecast.user_id, raw_time(Forecast.at), Forecast.cdf)
            .where(Forecast.question_id == question.id, Forecast.cdf.is_not(None))
            .order_by(Forecast.at, Forecast.id))
    rows = session.execute(stmt).all()
    users = np.array([r[0] for r in rows], np.int64)
    at = np.array([r[1] for r in rows], np.int64)
    cdfs = cdf_codec.decode_many(list(map(itemgetter(2), rows)))
    late = 0
    if cut is not None:
        keep = at < timeutil.to_micros(cut)
        late = int(len(at) - keep.sum())
        users, at, cdfs = users[keep], at[keep], cdfs[keep]
    return users, at, cdfs, late


def _previous(users: np.ndarray) -> np.ndarray:
    """For each forecast (time order), the index of the same user's previous one, or -1."""
    order = np.lexsort((np.arange(len(users)), users))
    prev = np.full(len(users), -1, np.int64)
    same = users[order][1:] == users[order][:-1]
    prev[order[1:][same]] = order[:-1][same]
    return prev


def crowd_series(users: np.ndarray, at: np.ndarray, cdfs: np.ndarray, lo: float, hi: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """After each distinct forecast time (ascending): the time, the crowd's BAND
    quantiles (rows), its forecaster count; and the final mean CDF."""
    m = len(at)
    prev = _previous(users)
    counts = np.cumsum(prev < 0)
    last_at_time = np.ones(m, bool)
    last_at_time[:-1] = at[1:] != at[:-1]
    running = np.zeros(cdf_codec.POINTS)
    bands = []
    mean = running
    for start in range(0, m, _BLOCK):
        stop = min(m, start + _BLOCK)
        delta = cdfs[start:stop].astype(np.float64)
        had = prev[start:stop] >= 0
        delta[had] -= cdfs[prev[start:stop][had]]
        sums = running + np.cumsum(delta, axis=0)
        running = sums[-1]
        keep = last_at_time[start:stop]
        means = sums[keep] / counts[start:stop][keep][:, None]
        bands.append(quantiles(means, lo, hi, BAND))
        mean = running / counts[stop - 1]
    return (at[last_at_time], np.concatenate(bands) if bands else np.empty((0, 3)),
            counts[last_at_time], mean)


def numeric_crowd(session: Session, question: Question, resolution: Resolution | None, *,
                  recent: int) -> NumericCrowd:
    """The crowd of a numeric or date question (module docstring), with the latest
    `recent` changes exact."""
    assert question.range_min is not None and question.range_max is not None
    users, at, cdfs, late = _read(session, question, counted_before(question, resolution))
    if not len(at):
        return NumericCrowd(None, 0, [], [], 0, late)
    lo, hi = question.range_min, question.range_max
    times, bands, counts, mean = crowd_series(users, at, cdfs, lo, hi)

    def points(index: np.ndarray) -> list[BandPoint]:
        return [(timeutil.from_micros(t), b.tolist(), int(n)) for t, b, n in
                zip(times[index].tolist(), bands[index], counts[index].tolist())]

    scaled = (bands - lo) / (hi - lo)
    return NumericCrowd(mean.tolist(), int(counts[-1]), points(thin(times, scaled, CHART_POINTS)),
                        points(np.arange(max(0, len(times) - recent), len(times))),
                        len(times), late, len(at))


def extended(session: Session, question: Question, previous: NumericCrowd, stats: Stats, *,
             recent: int) -> NumericCrowd | None:
    """`previous` (an unsettled question's crowd) brought up to its current figures when
    all that changed is one forecast after its last point, else None (recompute): the
    standing sum is the previous mean times its forecasters, minus the forecaster's
    previous CDF, plus the new one. Two small reads instead of every CDF."""
    last = previous.recent[-1][0] if previous.recent else None
    if stats.forecasts == previous.forecasts and stats.last_forecast_at == last:
        return previous
    if (stats.forecasts != previous.forecasts + 1 or stats.last_forecast_at is None
            or (last is not None and stats.last_forecast_at <= last)):
        return None
    assert question.range_min is not None and question.range_max is not None
    newest = session.execute(
        select(Forecast.id, Forecast.user_id, Forecast.at, Forecast.cdf)
        .where(Forecast.question_id == question.id, Forecast.cdf.is_not(None))
        .order_by(Forecast.at.desc(), Forecast.id.desc()).limit(1)).first()
    if newest is None or newest.at != stats.last_forecast_at:
        return None
    before = session.scalar(
        select(Forecast.cdf).where(Forecast.question_id == question.id,
                                   Forecast.user_id == newest.user_id, Forecast.cdf.is_not(None),
                                   Forecast.id != newest.id, Forecast.at <= newest.at)
        .order_by(Forecast.at.desc(), Forecast.id.desc()).limit(1))
    n = previous.forecasters + (before is None)
    total = np.zeros(cdf_codec.POINTS) if previous.cdf is None else \
        np.array(previous.cdf) * previous.forecasters
    total += cdf_codec.decode(newest.cdf)
    if before is not None:
        total -= cdf_codec.decode(before)
    mean = total / n
    band = quantiles(mean, question.range_min, question.range_max, BAND)[0].tolist()
    point: BandPoint = (newest.at, band, n)
    points = [*previous.points, point]
    if len(points) > CHART_POINTS:
        times = np.array([timeutil.to_micros(t) for t, _, _ in points], np.int64)
        scaled = (np.array([b for _, b, _ in points]) - question.range_min) / (
            question.range_max - question.range_min)
        points = [points[i] for i in thin(times, scaled, CHART_POINTS).tolist()]
    return NumericCrowd(mean.tolist(), n, points, [*previous.recent, point][-recent:],
                        previous.total + 1, previous.late, previous.forecasts + 1)


def current_medians(session: Session, items: Sequence[tuple[Question, Resolution | None]]
                    ) -> dict[int, tuple[float, int]]:
    """(crowd median, forecasters) of numeric and date questions with counted forecasts
    (the question list): one statement reading only each forecaster's standing CDF."""
    if not items:
        return {}
    by_id = {q.id: q for q, _ in items}
    counted = []
    for q, r in items:
        cut = counted_before(q, r)
        counted.append(Forecast.question_id == q.id if cut is None else
                       and_(Forecast.question_id == q.id, Forecast.at < cut))
    latest = (select(Forecast.question_id, Forecast.cdf, func.row_number().over(
        partition_by=(Forecast.question_id, Forecast.user_id),
        order_by=(Forecast.at.desc(), Forecast.id.desc())).label("newest"))
        .where(Forecast.cdf.is_not(None), or_(*counted)).subquery())
    rows = session.execute(select(latest.c.question_id, latest.c.cdf)
                           .where(latest.c.newest == 1).order_by(latest.c.question_id)).all()
    qid = np.array([r[0] for r in rows], np.int64)
    cdfs = cdf_codec.decode_many(list(map(itemgetter(1), rows)))
    out: dict[int, tuple[float, int]] = {}
    for q in np.unique(qid).tolist():  # one mean per question shown, not per forecast
        question = by_id[q]
        assert question.range_min is not None and question.range_max is not None
        mine = cdfs[qid == q].astype(np.float64)
        median = quantiles(mine.mean(axis=0), question.range_min, question.range_max, (0.5,))
        out[q] = (float(median[0, 0]), len(mine))
    return out
