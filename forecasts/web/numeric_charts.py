"""Geometry of the numeric and date questions' SVG charts (as forecasts/web/charts.py:
rounded to 0.1 px, colours as presentation attributes, markup in templates).

- `density_chart`: the crowd's density (its mean CDF's bucket masses / width, a step per
  bucket) with the viewer's own forecast over it, and the outcome when resolved.
- `band_chart`: the crowd's median and 80% interval (10th-90th percentiles) over time,
  held between changes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Sequence

import numpy as np

from forecasts import cdf as cdf_codec
from forecasts.models import Question
from forecasts.services import numeric_view
from forecasts.web.charts import Box, date_ticks, value_ticks


@dataclass
class ValueChart:
    box: Box
    crowd: str = ""  # polygon points of the crowd's density (or band)
    line: str = ""  # polyline: the crowd's median over time
    mine: str = ""  # polyline: the viewer's own density
    xticks: list[tuple[float, str, str]] = field(default_factory=list)
    yticks: list[tuple[float, str]] = field(default_factory=list)
    outcome: tuple[float, str] | None = None  # (x or y, label)
    marker: tuple[float, str] | None = None  # (x, label): when the question was settled
    empty: str = ""


def _value_ticks(question: Question, lo: float, hi: float) -> list[tuple[float, str]]:
    """Round values (or calendar dates) between lo and hi, with their labels."""
    if question.kind == "date":
        start = datetime.fromtimestamp(lo, tz=timezone.utc)
        end = datetime.fromtimestamp(hi, tz=timezone.utc)
        return [(t.timestamp(), label) for t, label in date_ticks(start, end, 6)]
    return [(v, f"{v:g}") for v in value_ticks(lo, hi, 6) if lo <= v <= hi]


def _anchor(box: Box, x: float) -> str:
    return "start" if x - box.left < 30 else "end" if box.x1 - x < 30 else "middle"


def density_chart(question: Question, crowd: np.ndarray | None, mine: np.ndarray | None,
                  outcome: float | None) -> ValueChart:
    """The densities of the crowd's CDF and the viewer's own over the question's range."""
    assert question.range_min is not None and question.range_max is not None
    lo, hi = question.range_min, question.range_max
    box = Box(720, 240, 24, 24, 16, 40)
    chart = ValueChart(box)
    dens = {name: numeric_view.density(c, lo, hi) for name, c in (("crowd", crowd), ("mine", mine))
            if c is not None}
    top = max(float(d.max()) for d in dens.values()) * 1.1

    def fx(v: float) -> float:
        return box.x(min(max((v - lo) / (hi - lo), 0.0), 1.0))

    def steps(d: np.ndarray) -> list[str]:
        edges = cdf_codec.grid(lo, hi)
        out = []
        for k, value in enumerate(d.tolist()):
            y = box.y(value / top)
            out += [f"{fx(edges[k])},{y}", f"{fx(edges[k + 1])},{y}"]
        return out

    if "crowd" in dens:
        base = box.y(0.0)
        chart.crowd = " ".join([f"{box.x(0.0)},{base}", *steps(dens["crowd"]),
                                f"{box.x(1.0)},{base}"])
    if "mine" in dens:
        chart.mine = " ".join(steps(dens["mine"]))
    for v, label in _value_ticks(question, lo, hi):
        x = fx(v)
        chart.xticks.append((x, label, _anchor(box, x)))
    if outcome is not None:
        from forecasts.web.numeric_view import value_text
        chart.outcome = (fx(outcome), f"outcome {value_text(question, outcome)}")
    return chart


def band_chart(question: Question, points: Sequence[tuple[datetime, Sequence[float], int]],
               start: datetime, end: datetime, *, outcome: float | None = None,
               settled_at: datetime | None = None) -> ValueChart:
    """The crowd's 10th-90th percentile band and median from `start` to `end`."""
    assert question.range_min is not None and question.range_max is not None
    box = Box(720, 280, 84, 24, 16, 40)
    chart = ValueChart(box, empty="" if points else "No forecasts yet")
    end = max(end, start + timedelta(hours=1))
    span = (end - start).total_seconds()
    values = [v for _, b, _ in points for v in (b[0], b[2])] + (
        [outcome] if outcome is not None else [])
    low = min(values, default=question.range_min)
    high = max(values, default=question.range_max)
    if high <= low:
        pad = (question.range_max - question.range_min) * 0.05
        low, high = low - pad, high + pad
    pad = (high - low) * 0.06
    low, high = max(question.range_min, low - pad), min(question.range_max, high + pad)
    if high <= low:
        low, high = question.range_min, question.range_max

    def fx(t: datetime) -> float:
        return box.x(min(max((t - start).total_seconds() / span, 0.0), 1.0))

    def fy(v: float) -> float:
        return box.y(min(max((v - low) / (high - low), 0.0), 1.0))

    def held(column: int) -> list[str]:
        out: list[str] = []
        previous: float | None = None
        for at, band, _ in points:
            x, y = fx(at), fy(band[column])
            if previous is not None:
                out.append(f"{x},{previous}")
            out.append(f"{x},{y}")
            previous = y
        if previous is not None:
            out.append(f"{box.x(1.0)},{previous}")
        return out

    if points:
        upper, lower = held(2), held(0)
        chart.crowd = " ".join(upper + lower[::-1])
        chart.line = " ".join(held(1))
    chart.yticks = [(fy(v), label) for v, label in _value_ticks(question, low, high)]
    for t, label in date_ticks(start, end):
        x = fx(t)
        chart.xticks.append((x, label, _anchor(box, x)))
    if outcome is not None:
        from forecasts.web.numeric_view import value_text
        chart.outcome = (fy(outcome), f"outcome {value_text(question, outcome)}")
    if settled_at is not None and start <= settled_at <= end:
        chart.marker = (fx(settled_at), "settled")
    return chart
