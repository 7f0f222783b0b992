"""The track record chart's geometry: one panel per rolling mean on a shared time axis,
points placed by time and value inside their panel, gaps where a value is missing."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from forecasts.services.track_record import Point
from forecasts.web.track_chart import MAX_DOTS, PANEL, PANELS, track_chart

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def point(day: float, peer: float, brier: float, relative: float | None) -> Point:
    return Point(T0 + timedelta(days=day), f"q-{day}", "t", peer, brier, relative, peer, brier,
                 relative, 1)


def coords(points: str) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in points.split()]


def test_points_follow_time_and_value_inside_their_panel():
    series = [point(0, -10, 0.5, 0.1), point(30, 20, 0.2, None), point(100, 5, 1.0, -0.3)]
    chart = track_chart(series)
    assert chart is not None and len(chart.panels) == len(PANELS) == 3
    b = chart.box
    for k, panel in enumerate(chart.panels):
        assert panel.y1 - panel.top == PANEL
        if k:
            assert panel.top > chart.panels[k - 1].y1  # stacked, not overlapping
        xy = coords(panel.points)
        assert all(b.left <= x <= b.x1 and panel.top <= y <= panel.y1 for x, y in xy)
    peer = coords(chart.panels[0].points)
    assert [x for x, _ in peer] == sorted(x for x, _ in peer)
    assert peer[0][0] == b.left and peer[-1][0] == b.x1
    # x is proportional to time: day 30 of 100.
    assert abs((peer[1][0] - b.left) / (b.x1 - b.left) - 0.3) < 0.01
    # Higher peer is higher up (smaller y); for Brier too.
    assert peer[1][1] < peer[2][1] < peer[0][1]
    brier = coords(chart.panels[1].points)
    assert brier[2][1] < brier[0][1] < brier[1][1]
    # The relative Brier has no value at day 30: two points, and a zero line.
    relative = coords(chart.panels[2].points)
    assert len(relative) == 2 and chart.panels[2].zero is not None
    assert [label for _, label in chart.panels[1].yticks][0] in ("0.2", "0")


def test_no_chart_without_points_and_dots_only_for_few():
    assert track_chart([]) is None
    one = track_chart([point(0, 1, 0.1, None)])
    assert len(coords(one.panels[0].points)) == 1 and one.panels[2].points == ""
    assert len(one.panels[0].dots) == 1
    many = track_chart([point(i / 10, i % 7, 0.1 * (i % 5), None) for i in range(MAX_DOTS + 1)])
    assert many.panels[0].dots == [] and len(coords(many.panels[0].points)) == MAX_DOTS + 1
