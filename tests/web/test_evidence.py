"""The question page shows the evidence behind a rule (the series' observations as an
inline SVG chart and a table, with the threshold or bin edges), a decision its rule has
made that is not settled yet, and says in words how a question was settled."""
from __future__ import annotations

import math
import re
from datetime import timedelta

import pytest

from forecasts import timeutil
from forecasts.services import observations, questions, resolution, resolve_due
from forecasts.services.forecasts import submit_forecast
from forecasts.web.charts import series_chart, value_ticks
from tests.builders import mc_data, question_data
from tests.web.conftest import around_now

RULE = {"type": "threshold", "series": "us-mx-rate", "op": ">=", "value": 0.25, "when": "any"}


def _observe(session, series: str, values: list[tuple[float, float, str | None]]) -> None:
    """(value, days ago, source) observations of `series`."""
    now = timeutil.now()
    for value, days, source in values:
        observations.record(session, series, value, now - timedelta(days=days), source=source,
                            new_series=True)


@pytest.fixture
def tariff(session, world):
    """An open threshold question whose series crossed 0.25 three days ago."""
    questions.create_question(session, question_data(slug="tariff", title="Tariff", rule=RULE,
                                                     **around_now()))
    _observe(session, "us-mx-rate", [(0.1, 20, "https://example.org/schedule"),
                                     (0.3, 3, "javascript:alert(1)"), (0.2, 1, "cabinet memo")])
    session.commit()


def _svg(text: str) -> str:
    start = text.index('<svg xmlns="http://www.w3.org/2000/svg" class="series-chart"')
    return text[start:text.index("</svg>", start) + 6]


def test_a_decided_but_unsettled_question_says_so_and_shows_its_evidence(web, tariff):
    text = web.get("/questions/tariff").text
    pending = re.search(r'<p class="pending-note" role="status">([^<]*)</p>', text)
    assert pending, "no pending note"
    assert pending.group(1).startswith("The rule has decided: YES (us-mx-rate = 0.3 at ")
    assert pending.group(1).endswith("(&gt;= 0.25)); settling shortly.")
    svg = _svg(text)
    assert "<script" not in svg and "style=" not in svg
    assert svg.count("<circle cx=") == 3 and 'class="deciding"' in svg
    assert ">&gt;= 0.25</text>" in svg and "close" not in svg  # the close lies in the future
    table = text[text.index('<table class="observations">'):]
    table = table[:table.index("</table>")]
    assert '<a href="https://example.org/schedule" rel="nofollow noopener">' in table
    assert "javascript:alert(1)" in table and 'href="javascript' not in text
    assert "cabinet memo" in table
    # Latest first: 0.2, 0.3, 0.1.
    assert [m for m in re.findall(r'<td class="num">([\d.]+)</td>', table)] == ["0.2", "0.3", "0.1"]


def test_the_threshold_line_separates_the_observations_that_meet_it(web, tariff):
    svg = _svg(web.get("/questions/tariff").text)
    line_y = float(re.search(r'<line class="level" x1="[\d.]+" y1="([\d.]+)"', svg).group(1))
    dots = {title: float(y) for y, title in
            re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)" r="3.5" fill="#0b6e99"><title>([^<]+)',
                       svg)}
    by_value = {title.split()[0]: y for title, y in dots.items()}
    # SVG y grows downwards: a value above the threshold is drawn above the line.
    assert by_value["0.3"] < line_y < by_value["0.2"] < by_value["0.1"]


def test_once_settled_the_page_says_by_its_rule_and_the_note_goes(web, tariff, session):
    now = timeutil.now()
    resolve_due.resolve_due(session, now=now, actor="scheduler", recorded_at=now)
    session.commit()
    text = web.get("/questions/tariff").text
    assert "pending-note" not in text
    assert "Settled by its rule; known at" in text and "Settled by manual" not in text
    assert 'class="deciding"' in _svg(text)


def test_bins_draw_each_edge_with_the_option_above_it(web, world, session):
    questions.create_question(session, mc_data(
        slug="rate-bins", title="Rate bins", options=["low", "mid", "high"], ordered=True,
        rule={"type": "bins", "series": "rate2", "edges": [0.1, 0.25]}, **around_now()))
    _observe(session, "rate2", [(0.05, 10, None), (0.2, 2, None)])
    session.commit()
    text = web.get("/questions/rate-bins").text
    svg = _svg(text)
    assert re.findall(r'<line class="level"', svg) == ['<line class="level"'] * 2
    assert ">≥ 0.1: mid</text>" in svg and ">≥ 0.25: high</text>" in svg
    assert "pending-note" not in text  # bins decide only at close


def test_a_rule_reading_no_series_shows_no_evidence_but_a_pending_deadline(web, world, session):
    now = timeutil.now()
    questions.create_question(session, question_data(
        slug="deadline-due", rule={"type": "deadline", "default": "no"},
        open_at=timeutil.iso(now - timedelta(days=9)),
        close_at=timeutil.iso(now - timedelta(days=1))))
    session.commit()
    text = web.get("/questions/deadline-due").text
    assert "evidence-h" not in text
    assert "The rule has decided: NO (closed at " in text and "settling shortly." in text
    assert "pending-note" not in web.get("/questions/strike-open").text  # manual rule


def test_a_series_without_observations_says_so(web, world, session):
    questions.create_question(session, question_data(
        slug="no-data", rule={**RULE, "series": "empty-series"}, **around_now()))
    session.commit()
    assert "No observation of empty-series has been recorded yet." in \
        web.get("/questions/no-data").text


def test_series_chart_maps_values_linearly_onto_the_ticks():
    start = timeutil.parse("2026-01-01", where="t")
    points = [(start + timedelta(days=d), v) for d, v in ((1, 3.0), (5, 17.0), (9, 11.0))]
    chart = series_chart(points, start, start + timedelta(days=10), levels=[(12.5, "x")])
    b = chart.box
    low, high = float(chart.yticks[0][1]), float(chart.yticks[-1][1])
    assert low <= 3.0 and high >= 17.0
    for (x, y, _), (at, v) in zip(chart.dots, points):
        assert y == pytest.approx(b.y1 - (v - low) / (high - low) * (b.y1 - b.top), abs=0.06)
        assert x == pytest.approx(b.left + (at - start) / timedelta(days=10) * (b.x1 - b.left),
                                  abs=0.06)
    assert chart.lines[0][0] == pytest.approx(b.y1 - (12.5 - low) / (high - low) * (b.y1 - b.top),
                                              abs=0.06)


@pytest.mark.parametrize("low, high", [(0, 1), (0.1, 0.3), (190, 250), (-3, 7), (5, 5),
                                       (0.0012, 0.0019), (1e6, 3.2e6)])
def test_value_ticks_are_round_evenly_spaced_and_cover_the_range(low, high):
    ticks = value_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high and 2 <= len(ticks) <= 7
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 5)


def test_resolutions_are_described_in_words(web, world):
    text = web.get("/questions/strike-resolved").text
    assert "Resolved by an admin" in text and "Settled by manual" not in text


def test_one_forecaster_is_singular_and_several_plural(web, world, session):
    text = web.get("/questions/strike-open").text  # bob only
    assert "the latest forecast of its only forecaster" in text
    assert "forecaster’ latest" not in text and "forecaster' latest" not in text
    submit_forecast(session, world["binary"], world["users"]["alice"], probability=0.6)
    session.commit()
    assert "the median of 2 forecasters’ latest forecasts" in web.get("/questions/strike-open").text


def test_forecasts_after_the_outcome_was_known_are_neither_crowd_nor_chart(web, world, session):
    """The page once said "No forecasts yet" beside "60% ... of 1 forecaster": the crowd
    counted a forecast made after known_at, which the chart (and scoring) leaves out."""
    now = timeutil.now()
    late = questions.create_question(session, question_data(
        slug="known-early", open_at=timeutil.iso(now - timedelta(days=30)),
        close_at=timeutil.iso(now + timedelta(days=30))))
    submit_forecast(session, late, world["users"]["alice"], probability=0.6,
                    at=now - timedelta(days=2))
    resolution.resolve(session, late, "yes", actor="root", known_at=now - timedelta(days=5),
                       now=now - timedelta(days=1))
    session.commit()
    text = web.get("/questions/known-early").text
    crowd = text[text.index('id="crowd-h"'):text.index('id="criteria-h"')]
    assert "No forecasts before the outcome was known." in crowd and "60" not in crowd
    assert "1 forecast was made after the outcome was known" in crowd
    assert "<dt>Forecasters</dt><dd>0</dd>" in text
    svg = web.get("/questions/known-early/crowd.svg").get_data(as_text=True)
    assert "No forecasts before the outcome was known" in svg and "<polyline" not in svg


def test_the_crowd_in_words_is_the_last_point_of_the_chart(web, world, session):
    submit_forecast(session, world["binary"], world["users"]["alice"], probability=0.6)
    session.commit()
    text = web.get("/questions/strike-open").text
    said = re.search(r'<span class="big">([\d.]+%)</span> chance of yes', text).group(1)
    svg = web.get("/questions/strike-open/crowd.svg").get_data(as_text=True)
    assert f"yes now {said}." in svg
