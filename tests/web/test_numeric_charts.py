"""Geometry of the numeric charts: the density's heights are the buckets' masses per
unit, the band's edges are the crowd's percentiles."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from forecasts import cdf as cdf_codec
from forecasts.models import Question
from forecasts.web.numeric_charts import band_chart, density_chart

T0 = datetime(2027, 1, 1, tzinfo=timezone.utc)


def question(lo=0.0, hi=50.0, kind="numeric"):
    return Question(slug="q", title="Q", kind=kind, range_min=lo, range_max=hi,
                    open_lower=False, open_upper=False)


def pairs(points: str) -> np.ndarray:
    return np.array([[float(v) for v in p.split(",")] for p in points.split()])


def test_density_heights_are_bucket_masses_per_unit():
    q = question()
    crowd = cdf_codec.quantiles_to_cdf({0.1: 10, 0.5: 20, 0.9: 35}, 0, 50, False, False)
    mine = cdf_codec.quantiles_to_cdf({0.1: 5, 0.5: 8, 0.9: 12}, 0, 50, False, False)
    chart = density_chart(q, crowd, mine, outcome=25.0)
    box = chart.box
    crowd_pts, mine_pts = pairs(chart.crowd)[1:-1], pairs(chart.mine)
    assert len(crowd_pts) == len(mine_pts) == 2 * cdf_codec.BUCKETS
    heights = {name: (box.y1 - pts[::2, 1]) / (box.y1 - box.top)
               for name, pts in (("crowd", crowd_pts), ("mine", mine_pts))}
    masses = {"crowd": np.diff(crowd), "mine": np.diff(mine)}
    top = max(m.max() for m in masses.values())
    for name in masses:  # one scale for both, the tallest at 1/1.1 of the plot
        assert heights[name] == pytest.approx(masses[name] / top / 1.1, abs=0.1 / (box.y1 - box.top) + 1e-9)
    # Each step spans its bucket; the outcome line sits at its value.
    assert crowd_pts[0, 0] == box.x(0.0) and crowd_pts[-1, 0] == box.x(1.0)
    assert crowd_pts[1, 0] == box.x(1 / cdf_codec.BUCKETS)
    assert chart.outcome[0] == box.x(0.5) and "25.00" in chart.outcome[1]


def test_band_edges_are_the_percentiles_over_time():
    q = question()
    points = [(T0 + timedelta(days=d), [lo, mid, hi], n)
              for d, lo, mid, hi, n in ((1, 10, 20, 30, 1), (3, 12, 22, 40, 2), (6, 5, 15, 25, 3))]
    chart = band_chart(q, points, T0, T0 + timedelta(days=10), outcome=18.0,
                       settled_at=T0 + timedelta(days=8))
    box = chart.box
    line = pairs(chart.line)
    ys = sorted({y for _, y in line})
    # The y scale: the outer percentiles 5..40 padded by 6%, within the range 0..50.
    low, high = 5 - 35 * 0.06, 40 + 35 * 0.06

    def fy(v):
        return round(box.y1 - (v - low) / (high - low) * (box.y1 - box.top), 1)

    assert ys == sorted(fy(v) for v in (20, 22, 15))
    band = pairs(chart.crowd)
    assert {y for _, y in band} == {fy(v) for v in (10, 30, 12, 40, 5, 25)}
    # Held between changes to the end of the window.
    assert line[-1, 0] == box.x(1.0) and line[-1, 1] == fy(15)
    assert chart.outcome[0] == fy(18.0)
    assert chart.marker == (box.x(0.8), "settled")


def test_an_empty_band_says_so():
    chart = band_chart(question(), [], T0, T0 + timedelta(days=1))
    assert chart.empty and not chart.line and not chart.crowd


def test_date_ticks_label_calendar_days():
    q = question(T0.timestamp(), (T0 + timedelta(days=730)).timestamp(), kind="date")
    f = cdf_codec.quantiles_to_cdf({0.1: T0.timestamp() + 86400 * 30, 0.9: T0.timestamp() + 86400 * 300},
                                   q.range_min, q.range_max, False, False)
    chart = density_chart(q, f, None, None)
    labels = [label for _, label, _ in chart.xticks]
    assert labels and all(label[-4:].isdigit() for label in labels)  # "Jan 2027", ... or years
