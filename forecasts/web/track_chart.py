"""Geometry of the track record's chart: the three rolling means over time, one panel each
(their scales differ: peer in points, Brier in [0, 2], relative Brier around 0) on a
shared time axis. templates/users/track_record.svg turns it into inline markup.

Like forecasts.web.charts, everything is computed here and rounded to 0.1 px, and colours
are presentation attributes, so the chart renders under the strict Content-Security-Policy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Sequence

from forecasts.services.track_record import Point
from forecasts.web.charts import PALETTE, Box, date_ticks, value_ticks

WIDTH, LEFT, RIGHT = 720, 60, 24
PANEL, GAP, TOP, BOTTOM = 130, 34, 26, 40
MAX_DOTS = 300  # beyond this many questions the lines alone carry the data
# (attribute of Point, panel title, the value's digits in a dot's label)
PANELS = (("peer_mean", "Peer score, 90-day mean (higher is better)", 1),
          ("brier_mean", "Brier score, 90-day mean (lower is better)", 3),
          ("relative_brier_mean", "Relative Brier (yours − the crowd's), 90-day mean "
                                  "(below 0 beats the crowd)", 3))


@dataclass
class Panel:
    title: str
    color: str
    top: float
    y1: float
    points: str = ""
    yticks: list[tuple[float, str]] = field(default_factory=list)
    zero: float | None = None
    dots: list[tuple[float, float, str]] = field(default_factory=list)


@dataclass
class TrackChart:
    box: Box  # the whole canvas; panels share its left and right edges
    panels: list[Panel] = field(default_factory=list)
    xticks: list[tuple[float, str, str]] = field(default_factory=list)


def _span(series: Sequence[Point]) -> tuple[datetime, datetime]:
    start, end = series[0].time, series[-1].time
    if end - start < timedelta(days=2):
        start, end = start - timedelta(days=1), end + timedelta(days=1)
    return start, end


def track_chart(series: Sequence[Point]) -> TrackChart | None:
    """Three stacked panels of rolling means against the questions' effective close;
    None without points."""
    if not series:
        return None
    height = TOP + len(PANELS) * PANEL + (len(PANELS) - 1) * GAP + BOTTOM
    box = Box(WIDTH, height, LEFT, RIGHT, TOP, BOTTOM)
    chart = TrackChart(box)
    start, end = _span(series)
    span = (end - start).total_seconds()

    def fx(t: datetime) -> float:
        return box.x(min(max((t - start).total_seconds() / span, 0.0), 1.0))

    for t, label in date_ticks(start, end):
        x = fx(t)
        anchor = "start" if x - box.left < 30 else "end" if box.x1 - x < 30 else "middle"
        chart.xticks.append((x, label, anchor))
    for k, (name, title, digits) in enumerate(PANELS):
        top = TOP + k * (PANEL + GAP)
        panel = Panel(title, PALETTE[k], top, top + PANEL)
        values = [(p.time, getattr(p, name)) for p in series]
        known = [v for _, v in values if v is not None]
        if known:
            ticks = value_ticks(min(known), max(known), 4)
            low, high = ticks[0], ticks[-1]

            def fy(v: float, top: float = top, low: float = low, high: float = high) -> float:
                return round(top + PANEL - (v - low) / (high - low) * PANEL, 1)

            panel.yticks = [(fy(v), f"{v:g}") for v in ticks]
            if low < 0 < high:
                panel.zero = fy(0.0)
            xy = [(fx(t), fy(v), t, v) for t, v in values if v is not None]
            panel.points = " ".join(f"{x},{y}" for x, y, _, _ in xy)
            if len(xy) <= MAX_DOTS:
                panel.dots = [(x, y, f"{v:.{digits}f} on {t.strftime('%Y-%m-%d')}")
                              for x, y, t, v in xy]
        chart.panels.append(panel)
    return chart
