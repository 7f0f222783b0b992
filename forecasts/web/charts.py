"""Geometry of the server-drawn SVG charts; templates/*/*.svg turn it into markup.

Everything is computed here and rounded to 0.1 px, so a chart is the same bytes for
the same data. Colours are presentation attributes, never style, so the charts
render under a Content-Security-Policy without 'unsafe-inline'.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Sequence

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0b6e99", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9", "#5b4b8a", "#000000")
DASHES = ("", "6 3", "2 3")


@dataclass(frozen=True)
class Box:
    """The plot area inside the SVG canvas."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    @property
    def x1(self) -> int:
        return self.width - self.right

    @property
    def y1(self) -> int:
        return self.height - self.bottom

    def x(self, fraction: float) -> float:
        return round(self.left + fraction * (self.x1 - self.left), 1)

    def y(self, fraction: float) -> float:
        """Fractions grow upwards."""
        return round(self.y1 - fraction * (self.y1 - self.top), 1)


@dataclass
class Series:
    label: str
    color: str
    dash: str
    points: str
    last: float
    area: str = ""


@dataclass
class CrowdChart:
    box: Box
    series: list[Series] = field(default_factory=list)
    xticks: list[tuple[float, str, str]] = field(default_factory=list)
    yticks: list[tuple[float, str]] = field(default_factory=list)
    marker: tuple[float, str] | None = None
    legend: list[tuple[float, float, Series]] = field(default_factory=list)
    empty: str = "No forecasts yet"


def _month_starts(start: datetime, end: datetime, step: int) -> list[datetime]:
    """First days of months from `start` to `end` whose month index is a multiple of `step`."""
    index = start.year * 12 + start.month - 1 + (0 if start.day == 1 and not start.hour else 1)
    index += -index % step
    out = []
    while True:
        at = datetime(index // 12, index % 12 + 1, 1, tzinfo=start.tzinfo)
        if at > end:
            return out
        out.append(at)
        index += step


def date_ticks(start: datetime, end: datetime, most: int = 6) -> list[tuple[datetime, str]]:
    """Calendar-aligned ticks (days, weeks, months or years), at most `most` of them."""
    days = (end - start).total_seconds() / 86400
    if days < 2:
        return [(start, start.strftime("%d %b %H:%M")), (end, end.strftime("%d %b %H:%M"))]
    if days <= 60:
        step = next(d for d in (1, 2, 7, 14, 30) if days / d <= most)
        first = start.replace(hour=0, minute=0, second=0, microsecond=0)
        first += timedelta(days=0 if first == start else 1)
        ticks = []
        while first <= end:
            ticks.append((first, first.strftime("%d %b")))
            first += timedelta(days=step)
        return ticks
    step = next(m for m in (1, 2, 3, 6, 12, 24, 60, 120) if days / 30.44 / m <= most)
    fmt = "%Y" if step >= 12 else "%b %Y"
    return [(t, t.strftime(fmt)) for t in _month_starts(start, end, step)]


LEGEND_ROW = 22


def _layout(binary: bool, n_labels: int, compact: bool) -> tuple[Box, int]:
    """The canvas and the number of legend columns; the legend sits under the plot."""
    columns = 1 if compact else 2
    legend = 0 if binary else LEGEND_ROW * math.ceil(n_labels / columns) + 14
    if compact:
        return Box(400, 250 + legend, 44, 16, 14, 36 + legend), columns
    return Box(720, 300 + legend, 52, 24, 16, 40 + legend), columns


def _steps(history: Sequence[tuple[datetime, Sequence[float], int]], index: int,
           fx, box: Box, end: datetime) -> tuple[list[str], float]:
    """Polyline points of one option's crowd probability held between changes."""
    points: list[str] = []
    previous: float | None = None
    last = float("nan")
    for at, probs, _n in history:
        if at > end:
            break
        x, y = fx(at), box.y(probs[index])
        if previous is not None:
            points.append(f"{x},{previous}")
        points.append(f"{x},{y}")
        previous, last = y, probs[index]
    if previous is not None:
        points.append(f"{box.x(1.0)},{previous}")
    return points, last


def crowd_chart(options: Sequence[str], binary: bool,
                history: Sequence[tuple[datetime, Sequence[float], int]],
                start: datetime, end: datetime, *, settled_at: datetime | None = None,
                outcome: str | None = None, compact: bool = False,
                empty: str | None = None) -> CrowdChart:
    """Step lines of the crowd forecast from `start` to `end` (binary: the chance of yes);
    `compact` is the narrow variant for phones; `empty` what to say without a line."""
    labels = ["yes"] if binary else list(options)
    box, columns = _layout(binary, len(labels), compact)
    chart = CrowdChart(box, empty=empty or CrowdChart.empty)
    chart.yticks = [(box.y(v / 100), f"{v}%") for v in (0, 25, 50, 75, 100)]
    end = max(end, start + timedelta(hours=1))
    span = (end - start).total_seconds()

    def fx(t: datetime) -> float:
        return box.x(min(max((t - start).total_seconds() / span, 0.0), 1.0))

    for t, label in date_ticks(start, end, 3 if compact else 6):
        x = fx(t)
        anchor = "start" if x - box.left < 30 else "end" if box.x1 - x < 30 else "middle"
        chart.xticks.append((x, label, anchor))
    if settled_at is not None and start <= settled_at <= end:
        chart.marker = (fx(settled_at), outcome or "settled")
    for k, label in enumerate(labels):
        points, last = _steps(history, 1 if binary else k, fx, box, end)
        series = Series(label, PALETTE[k % len(PALETTE)],
                        DASHES[(k // len(PALETTE)) % len(DASHES)], " ".join(points), last)
        if binary and points:
            first_x = points[0].split(",")[0]
            series.area = f"{first_x},{box.y1} {series.points} {box.x1},{box.y1}"
        chart.series.append(series)
    if not binary:
        width = (box.width - box.left) // columns
        for k, series in enumerate(chart.series):
            row, column = divmod(k, columns)
            chart.legend.append((box.left + column * width, box.y1 + 46 + LEGEND_ROW * row, series))
    return chart


@dataclass
class CalibrationPoint:
    x: float
    y: float
    low: float
    high: float
    radius: float
    label: str


@dataclass
class CalibrationChart:
    box: Box
    points: list[CalibrationPoint]
    ticks: list[tuple[float, float, str]]
    diagonal: tuple[float, float, float, float]


def calibration_chart(doc: dict[str, Any]) -> CalibrationChart:
    """A reliability diagram: observed frequency against forecast, with interval bars;
    a point's area follows the weight of forecasts in its bin."""
    box = Box(440, 440, 56, 20, 20, 52)
    bins = [b for b in doc["bins"] if b["count"] and b["mean_forecast"] is not None]
    heaviest = max((b["weight"] for b in bins), default=1.0) or 1.0
    points = [CalibrationPoint(
        x=box.x(b["mean_forecast"]), y=box.y(b["observed"]),
        low=box.y(b["low"]), high=box.y(b["high"]),
        radius=round(3 + 7 * math.sqrt(b["weight"] / heaviest), 1),
        label=f"{b['low_edge'] * 100:.0f}-{b['high_edge'] * 100:.0f}%: forecast "
              f"{b['mean_forecast'] * 100:.1f}%, observed {b['observed'] * 100:.1f}%")
        for b in bins]
    ticks = [(box.x(v / 100), box.y(v / 100), f"{v}%") for v in range(0, 101, 20)]
    return CalibrationChart(box, points, ticks, (box.x(0), box.y(0), box.x(1), box.y(1)))


@dataclass
class SeriesChart:
    """Observations of a series as a step line with a dot each; `lines` are the rule's
    threshold or bin edges (y, label); `marker` the close (x, label); `hit` the deciding one."""

    box: Box
    points: str = ""
    dots: list[tuple[float, float, str]] = field(default_factory=list)
    xticks: list[tuple[float, str, str]] = field(default_factory=list)
    yticks: list[tuple[float, str]] = field(default_factory=list)
    lines: list[tuple[float, str]] = field(default_factory=list)
    marker: tuple[float, str] | None = None
    hit: tuple[float, float] | None = None


def value_ticks(low: float, high: float, most: int = 5) -> list[float]:
    """Round values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if high <= low:
        low, high = low - 1, high + 1
    raw = (high - low) / max(most - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    count = math.ceil((high - first) / step - 1e-9) + 1
    return [round(first + i * step, 12) for i in range(count)]


def _number(value: float) -> str:
    return f"{value:g}"


def series_chart(points: Sequence[tuple[datetime, float]], start: datetime, end: datetime, *,
                 levels: Sequence[tuple[float, str]] = (), close_at: datetime | None = None,
                 hit: tuple[datetime, float] | None = None) -> SeriesChart:
    """Observations (time, value) from `start` to `end` held between changes, with
    horizontal reference `levels` (value, label) and a dashed line at `close_at`."""
    box = Box(720, 280, 60, 24, 16, 40)
    chart = SeriesChart(box)
    end = max(end, start + timedelta(hours=1))
    span = (end - start).total_seconds()
    values = [v for _, v in points] + [v for v, _ in levels]
    lowest, highest = min(values, default=0.0), max(values, default=1.0)
    pad = (highest - lowest) * 0.06  # keeps lines and dots off the frame
    ticks = value_ticks(lowest - pad, highest + pad)
    low, high = ticks[0], ticks[-1]

    def fx(t: datetime) -> float:
        return box.x(min(max((t - start).total_seconds() / span, 0.0), 1.0))

    def fy(v: float) -> float:
        return box.y((v - low) / (high - low))

    chart.yticks = [(fy(v), _number(v)) for v in ticks]
    for t, label in date_ticks(start, end):
        x = fx(t)
        anchor = "start" if x - box.left < 30 else "end" if box.x1 - x < 30 else "middle"
        chart.xticks.append((x, label, anchor))
    chart.lines = [(fy(v), label) for v, label in levels]
    if close_at is not None and start <= close_at <= end:
        chart.marker = (fx(close_at), "close")
    steps: list[str] = []
    previous: float | None = None
    for at, value in points:
        x, y = fx(at), fy(value)
        if previous is not None:
            steps.append(f"{x},{previous}")
        steps.append(f"{x},{y}")
        previous = y
        chart.dots.append((x, y, f"{_number(value)} at {at.strftime('%Y-%m-%d %H:%M')} UTC"))
    if previous is not None:
        steps.append(f"{box.x(1.0)},{previous}")
    chart.points = " ".join(steps)
    if hit is not None:
        chart.hit = (fx(hit[0]), fy(hit[1]))
    return chart
