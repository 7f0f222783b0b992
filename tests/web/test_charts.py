"""Chart geometry: calendar ticks, step lines, reliability points."""
from __future__ import annotations

from datetime import datetime, timedelta

from forecasts.timeutil import UTC
from forecasts.web.charts import calibration_chart, crowd_chart, date_ticks

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_date_ticks_fall_on_calendar_boundaries():
    months = date_ticks(T0 + timedelta(days=10), T0 + timedelta(days=170))
    assert [label for _, label in months] == ["Feb 2026", "Mar 2026", "Apr 2026", "May 2026",
                                              "Jun 2026"]
    every_other = date_ticks(T0 + timedelta(days=10), T0 + timedelta(days=200))
    assert [label for _, label in every_other] == ["Mar 2026", "May 2026", "Jul 2026"]
    years = date_ticks(T0, T0 + timedelta(days=3 * 365))
    assert [label for _, label in years][:2] == ["Jan 2026", "Jul 2026"]
    days = date_ticks(T0 + timedelta(hours=5), T0 + timedelta(days=10))
    assert days[0][0] == T0 + timedelta(days=1) and len(days) <= 6
    short = date_ticks(T0, T0 + timedelta(hours=3))
    assert [label for _, label in short] == ["01 Jan 00:00", "01 Jan 03:00"]


def test_binary_crowd_chart_is_a_step_line():
    history = [(T0 + timedelta(days=10), [0.8, 0.2], 1), (T0 + timedelta(days=20), [0.4, 0.6], 2)]
    chart = crowd_chart(["no", "yes"], True, history, T0, T0 + timedelta(days=40))
    [series] = chart.series
    box = chart.box
    x10, x20, x40 = box.x(0.25), box.x(0.5), box.x(1.0)
    assert series.points == (f"{x10},{box.y(0.2)} {x20},{box.y(0.2)} {x20},{box.y(0.6)} "
                             f"{x40},{box.y(0.6)}")
    assert series.last == 0.6 and series.area.startswith(f"{x10},{box.y1} ")
    assert chart.legend == [] and chart.marker is None


def test_multiple_choice_chart_has_a_legend_and_marker():
    history = [(T0, [0.5, 0.3, 0.2], 1)]
    chart = crowd_chart(["a", "b", "c"], False, history, T0, T0 + timedelta(days=30),
                        settled_at=T0 + timedelta(days=30), outcome="resolved: b")
    assert [s.label for s in chart.series] == ["a", "b", "c"]
    assert len({s.color for s in chart.series}) == 3
    assert len(chart.legend) == 3 and chart.marker == (chart.box.x(1.0), "resolved: b")
    compact = crowd_chart(["a", "b", "c"], False, history, T0, T0 + timedelta(days=30), compact=True)
    assert compact.box.width == 400 and len(compact.xticks) <= 3


def test_empty_history_draws_no_line():
    chart = crowd_chart(["no", "yes"], True, [], T0, T0)
    assert chart.series[0].points == "" and chart.box.x1 > chart.box.left


def test_calibration_points_scale_with_weight():
    bins = [{"low_edge": i / 10, "high_edge": (i + 1) / 10, "weight": 0.0, "count": 0,
             "mean_forecast": None, "observed": None, "low": None, "high": None} for i in range(10)]
    bins[1].update(weight=1.0, count=2, mean_forecast=0.15, observed=0.0, low=0.0, high=0.4)
    bins[8].update(weight=4.0, count=5, mean_forecast=0.85, observed=1.0, low=0.6, high=1.0)
    chart = calibration_chart({"bins": bins})
    low, high = chart.points
    assert high.radius == 10.0 and low.radius == 6.5
    assert low.x == chart.box.x(0.15) and high.y == chart.box.y(1.0)
    assert low.high < low.low  # the interval bar runs upwards from low to high
