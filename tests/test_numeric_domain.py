"""Numeric and date questions through the services and the CLI (SPEC §11): defining them,
forecasting a CDF (or quantiles), the figures kept on write, and resolving to a value."""
from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from forecasts import cdf, timeutil
from forecasts.errors import Conflict, InvalidInput
from forecasts.models import Forecast, Resolution
from forecasts.services import question_edits, question_stats, questions, resolution
from forecasts.services.forecasts import quantile_points, submit_forecast
from tests.builders import make_user, question_data
from tests.test_cli import assert_fails

OPEN, CLOSE = "2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z"


def numeric_data(**changes):
    data = {"slug": "gdp-growth", "title": "GDP growth in 2029?", "kind": "numeric",
            "range": {"min": -5, "max": 15}, "open_lower": True, "open_upper": True,
            "unit": "%", "open_at": OPEN, "close_at": CLOSE}
    data.update(changes)
    return data


def date_data(**changes):
    data = {"slug": "treaty-date", "title": "When is the treaty signed?", "kind": "date",
            "range": {"min": "2026-01-01T00:00:00Z", "max": "2028-01-01T12:30:00.25Z"},
            "open_lower": False, "open_upper": True, "open_at": OPEN, "close_at": CLOSE}
    data.update(changes)
    return data


def linear(f0: float = 0.0, f200: float = 1.0) -> list[float]:
    """F_k rising evenly from f0 to f200: valid whenever (f200 - f0)/200 >= 5e-5."""
    return [f0 + k * (f200 - f0) / 200 for k in range(201)]


def error_of(call, *args, **kwargs) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        call(*args, **kwargs)
    return info.value


# --- defining ----------------------------------------------------------------

def test_a_numeric_question_keeps_its_range_sides_and_unit(session):
    q = questions.create_question(session, numeric_data())
    assert (q.kind, q.range_min, q.range_max, q.open_lower, q.open_upper, q.unit) == \
        ("numeric", -5.0, 15.0, True, True, "%")
    assert q.options == [] and q.continuous
    doc = questions.definition(q)
    assert doc["range"] == {"min": -5.0, "max": 15.0} and "options" not in doc
    assert (doc["open_lower"], doc["open_upper"], doc["unit"]) == (True, True, "%")
    # The definition is itself a valid definition of the same question.
    again = questions.parse_question({**doc, "slug": "gdp-growth-2"})
    assert (again.range_min, again.range_max, again.open_lower, again.unit) == (-5.0, 15.0, True, "%")


def test_a_date_range_is_seconds_since_the_epoch_and_reads_back_as_iso(session):
    q = questions.create_question(session, date_data())
    start = timeutil.parse("2026-01-01T00:00:00Z", where="-")
    assert q.range_min == (start - timeutil.from_micros(0)).total_seconds() == 1767225600.0
    assert q.range_max == 1767225600.0 + (730 * 86400 + 12.5 * 3600 + 0.25)
    assert questions.definition(q)["range"] == {"min": "2026-01-01T00:00:00Z",
                                                "max": "2028-01-01T12:30:00.250000Z"}
    assert (q.open_lower, q.open_upper, q.unit) == (False, True, None)


@pytest.mark.parametrize("changes, where, words", [
    ({"range": None}, "range", "needs a range"),
    ({"range": {"min": 1}}, "range", "needs a range"),
    ({"range": {"min": 1, "max": 2, "step": 1}}, "range", "needs a range"),
    ({"range": {"min": 3, "max": 3}}, "range.max", "range.min must be < range.max"),
    ({"range": {"min": 4, "max": 3}}, "range.max", "range.min must be < range.max"),
    ({"range": {"min": float("-inf"), "max": 3}}, "range.min", "not a finite number"),
    ({"range": {"min": 0, "max": float("nan")}}, "range.max", "not a finite number"),
    ({"range": {"min": 0, "max": 10 ** 400}}, "range.max", "not a finite number"),
    ({"range": {"min": "0", "max": 1}}, "range.min", "not a finite number"),
    ({"open_lower": "yes"}, "open_lower", "true or false"),
    ({"unit": 5}, "unit", "text"),
    ({"unit": "x" * 41}, "unit", "at most 40"),
    ({"options": ["a", "b"]}, "options", "no options"),
    ({"kind": "interval"}, "kind", "not a kind"),
])
def test_numeric_definition_errors_name_the_field(session, changes, where, words):
    error = error_of(questions.create_question, session, numeric_data(**changes))
    assert error.where == f"question (gdp-growth).{where}", error.where
    assert words in str(error)


@pytest.mark.parametrize("changes, where", [
    ({"range": {"min": "2027-01-01", "max": "2026-01-01"}}, "range.max"),
    ({"range": {"min": 0, "max": "2027-01-01"}}, "range.min"),
    ({"range": {"min": "2026-13-01", "max": "2027-01-01"}}, "range.min"),
])
def test_date_definition_errors_name_the_field(session, changes, where):
    error = error_of(questions.create_question, session, date_data(**changes))
    assert error.where == f"question (treaty-date).{where}"


@pytest.mark.parametrize("field, value", [("range", {"min": 0, "max": 1}),
                                          ("open_lower", True), ("unit", "USD")])
def test_binary_and_choice_questions_have_no_range(session, field, value):
    error = error_of(questions.create_question, session, question_data(**{field: value}))
    assert error.where == f"question (strike-2027).{field}"


def test_cli_question_create_takes_a_numeric_definition(runner, tmp_path, database):
    path = tmp_path / "q.json"
    path.write_text(json.dumps(numeric_data()))
    result = runner("question", "create", "--file", str(path))
    assert result.exit_code == 0, result.output
    with database.session() as s:
        q = questions.get_question(s, "gdp-growth")
        assert (q.kind, q.range_min, q.range_max, q.unit) == ("numeric", -5.0, 15.0, "%")
    path.write_text(json.dumps(numeric_data(slug="bad-range", range={"min": 2, "max": 1})))
    assert_fails(runner("question", "create", "--file", str(path)), "range.max",
                 "range.min must be < range.max")


def test_edits_change_the_range_before_forecasts_and_not_after(session):
    q = questions.create_question(session, numeric_data())
    now = timeutil.now()
    question_edits.edit_question(session, q, {"range": {"min": 0, "max": 20},
                                              "open_lower": False}, actor="admin", now=now)
    assert (q.range_min, q.range_max, q.open_lower) == (0.0, 20.0, False)
    user = make_user(session)
    submit_forecast(session, q, user, cdf=linear(0.0, 0.9), at=timeutil.parse(OPEN, where="-"))
    with pytest.raises(Conflict) as info:
        question_edits.edit_question(session, q, {"range": {"min": 0, "max": 30}},
                                     actor="admin", now=now)
    assert info.value.where == "question.range"
    with pytest.raises(Conflict) as info:
        question_edits.edit_question(session, q, {"unit": "pp"}, actor="admin", now=now)
    assert info.value.where == "question.unit" and q.unit == "%"
    question_edits.edit_question(session, q, {"title": "Growth?"}, actor="admin", now=now)
    assert q.title == "Growth?" and (q.range_min, q.range_max) == (0.0, 20.0)


# --- forecasting ---------------------------------------------------------------

@pytest.fixture
def world(session):
    q = questions.create_question(session, numeric_data())
    binary = questions.create_question(session, question_data(open_at=OPEN, close_at=CLOSE))
    return q, binary, make_user(session, "alice"), make_user(session, "bob")


def at(days: int):
    return timeutil.parse(OPEN, where="-") + timedelta(days=days)


def test_a_cdf_is_stored_encoded_and_reads_back_canonical(session, world):
    q, _, alice, _ = world
    values = linear(0.01, 0.98)
    f = submit_forecast(session, q, alice, cdf=values, at=at(1))
    assert f.probability is None and f.probabilities_json is None
    assert f.cdf == np.array(values, "<f8").tobytes()  # exactly as given, off the grid
    assert session.get(Forecast, f.id).cdf_values.tolist() == values


def test_quantiles_become_the_cdf_quantiles_to_cdf_gives(session, world):
    q, _, alice, _ = world
    f = submit_forecast(session, q, alice, quantiles={"0.1": 1.5, "0.5": 3, "0.9": 7.25},
                        at=at(1))
    expected = cdf.quantiles_to_cdf({0.1: 1.5, 0.5: 3.0, 0.9: 7.25}, -5.0, 15.0, True, True)
    assert f.cdf == np.array(expected, "<f4").tobytes()  # snapped: 804 bytes
    # The median stays within one grid step (0.1) of 3, as quantiles_to_cdf promises.
    grid = cdf.grid(-5.0, 15.0)
    assert abs(np.interp(0.5, f.cdf_values, grid) - 3.0) <= 0.1 + 1e-9


@pytest.mark.parametrize("payload, where, words", [
    ({"probability": 0.4}, "forecast.probability", "takes a 'cdf'"),
    ({"probabilities": [0.5, 0.5]}, "forecast.probabilities", "takes a 'cdf'"),
    ({}, "forecast.cdf", "is missing"),
    ({"cdf": linear()[:200]}, "forecast.cdf", "must have 201 values"),
    ({"cdf": "0.1,0.2"}, "forecast.cdf", "list of 201"),
    # The lower side is open: F_0 = 0 is below 0.001.
    ({"cdf": linear(0.0, 0.9)}, "forecast.cdf[0]", "lower bound is open"),
    ({"cdf": linear(0.01, 1.0)}, "forecast.cdf[200]", "upper bound is open"),
    ({"cdf": linear(0.01, 0.9)[:57] + [0.2] + linear(0.01, 0.9)[58:]}, "forecast.cdf[57]",
     "never decreases"),
    ({"cdf": [*linear(0.01, 0.9)[:100], "x", *linear(0.01, 0.9)[101:]]}, "forecast.cdf[100]",
     "not a finite number"),
    ({"cdf": linear(0.01, 0.9), "quantiles": {"0.5": 3}}, "forecast", "not both"),
    ({"quantiles": {"0.5": 3}}, "forecast.quantiles", "at least two"),
    ({"quantiles": {"half": 3, "0.9": 4}}, "forecast.quantiles['half']", "not a probability"),
    ({"quantiles": {"0.1": 3, "1.5": 4}}, "forecast.quantiles[1.5]", "between"),
    ({"quantiles": {"0.1": 5, "0.9": 4}}, "forecast.quantiles[0.9]", "increase"),
    ({"quantiles": {"0.1": 1, "0.9": "4"}}, "forecast.quantiles[0.9]", "finite number"),
    ({"quantiles": [0.1, 0.9]}, "forecast.quantiles", "must be an object"),
])
def test_bad_numeric_forecasts_name_the_field_and_store_nothing(session, world, payload,
                                                                 where, words):
    q, _, alice, _ = world
    error = error_of(submit_forecast, session, q, alice, at=at(1), **payload)
    assert error.where == where, error.where
    assert words in str(error)
    assert session.scalars(select(Forecast)).all() == []


def test_binary_questions_refuse_a_cdf_and_quantiles(session, world):
    _, binary, alice, _ = world
    error = error_of(submit_forecast, session, binary, alice, probability=0.3, cdf=linear(),
                     at=at(1))
    assert error.where == "forecast.cdf" and "numeric and date questions only" in str(error)
    error = error_of(submit_forecast, session, binary, alice, quantiles={"0.5": 1}, at=at(1))
    assert error.where == "forecast.quantiles"


def test_quantile_keys_are_read_as_decimal_probabilities():
    assert quantile_points({"0.1": 1, " .5": 2, "9e-1": 3}) == {0.1: 1, 0.5: 2, 0.9: 3}
    for bad in ("-0.1", "0x1", "nan", "inf", "1/2", ""):
        with pytest.raises(InvalidInput, match="not a probability"):
            quantile_points({bad: 1, "0.9": 2})
    with pytest.raises(InvalidInput, match="given twice") as info:
        quantile_points({"0.5": 1, "0.50": 2})
    assert info.value.where == "forecast.quantiles['0.50']"


def test_the_figures_count_numeric_forecasts_without_a_crowd_number(session, world):
    q, _, alice, bob = world
    submit_forecast(session, q, alice, cdf=linear(0.01, 0.9), at=at(1))
    submit_forecast(session, q, alice, cdf=linear(0.02, 0.9), at=at(3))
    submit_forecast(session, q, bob, quantiles={"0.25": 0, "0.75": 5}, at=at(2))
    stored = question_stats.stats_of(session, q)
    assert (stored.forecasters, stored.forecasts, stored.crowd) == (2, 3, None)
    assert stored.last_forecast_at == at(3)
    fresh = question_stats.compute(session, [q.id])[q.id]
    assert (fresh.forecasters, fresh.forecasts, fresh.last_forecast_at, fresh.crowd) == \
        (2, 3, at(3), None)
    # Resolved as known at day 2.5: only the forecasts before it count, as for other kinds.
    resolution.resolve(session, q, "1", known_at=at(2) + timedelta(hours=12), actor="admin",
                       rescore=False, now=at(4))
    after = question_stats.stats_of(session, q)
    assert (after.forecasters, after.forecasts, after.last_forecast_at) == (2, 2, at(2))


def test_reaffirming_repeats_the_stored_cdf(session, world):
    from forecasts.services.my_forecasts import reaffirm

    q, _, alice, _ = world
    first = submit_forecast(session, q, alice, quantiles={"0.1": 0, "0.9": 9}, at=at(1))
    again = reaffirm(session, q, alice)
    assert again.id != first.id and again.cdf == first.cdf


# --- resolving -------------------------------------------------------------------

def test_a_numeric_question_resolves_to_a_number_kept_in_value(session, world):
    q, _, _, _ = world
    made = resolution.resolve(session, q, "2.75", actor="admin", rescore=False,
                              now=timeutil.parse(CLOSE, where="-") + timedelta(days=1))
    assert (made.value, made.outcome) == (2.75, "2.75")
    assert questions.current_resolution(session, q).value == 2.75


def test_outside_the_range_only_on_an_open_side(session):
    q = questions.create_question(session, numeric_data(open_lower=False, open_upper=True))
    later = timeutil.parse(CLOSE, where="-") + timedelta(days=1)
    error = error_of(resolution.resolve, session, q, -5.5, actor="admin", rescore=False, now=later)
    assert error.where == "outcome" and "below the range's min -5" in str(error)
    assert "lower bound is closed" in str(error)
    assert session.scalars(select(Resolution)).all() == []
    made = resolution.resolve(session, q, 40, actor="admin", rescore=False, now=later)
    assert (made.value, made.outcome) == (40.0, "40")
    # The bounds themselves are inside.
    closed = questions.create_question(session, numeric_data(slug="closed-both", open_lower=False,
                                                             open_upper=False))
    error = error_of(resolution.resolve, session, closed, "15.0001", actor="admin",
                     rescore=False, now=later)
    assert "above the range's max 15" in str(error)
    assert resolution.resolve(session, closed, "15", actor="admin", rescore=False,
                              now=later).value == 15.0


@pytest.mark.parametrize("value, words", [("abc", "not a number"), ("nan", "finite"),
                                          ("inf", "finite"), ("", "not a number")])
def test_a_value_that_is_no_number_is_refused(session, world, value, words):
    q, _, _, _ = world
    error = error_of(resolution.resolve, session, q, value, actor="admin", rescore=False)
    assert error.where == "outcome" and words in str(error)


def test_a_date_question_resolves_to_a_timestamp(session):
    q = questions.create_question(session, date_data())
    later = timeutil.parse(CLOSE, where="-") + timedelta(days=1)
    made = resolution.resolve(session, q, "2027-03-04T05:06:07.5Z", actor="admin",
                              rescore=False, now=later)
    moment = timeutil.parse("2027-03-04T05:06:07.5Z", where="-")
    assert made.value == timeutil.to_micros(moment) / 1e6
    assert made.outcome == "2027-03-04T05:06:07.500000Z"
    error = error_of(resolution.resolve, session, q, "2025-12-31T23:59:59Z", actor="admin",
                     rescore=False, now=later)
    assert "below the range's min 2026-01-01T00:00:00Z" in str(error)
    assert "ISO 8601" in str(error_of(resolution.resolve, session, q, "1234", actor="admin",
                                      rescore=False, now=later))


def test_annulling_a_numeric_question_stores_no_value(session, world):
    q, _, _, _ = world
    made = resolution.annul(session, q, "the series was discontinued", actor="admin",
                            rescore=False)
    assert made.annulled and made.value is None


def test_cli_resolve_takes_a_value(runner, tmp_path, database):
    path = tmp_path / "q.json"
    path.write_text(json.dumps(numeric_data(open_at="2025-01-01T00:00:00Z",
                                            close_at="2025-06-01T00:00:00Z",
                                            open_lower=False)))
    assert runner("question", "create", "--file", str(path)).exit_code == 0
    assert_fails(runner("resolve", "gdp-growth", "-6"), "below the range's min -5",
                 "lower bound is closed")
    assert_fails(runner("resolve", "gdp-growth", "lots"), "not a number")
    assert runner("resolve", "gdp-growth", "1", "--nte", "x").exit_code != 0
    result = runner("resolve", "gdp-growth", "-1.5", "--note", "official")
    assert result.exit_code == 0, result.output
    assert "resolved gdp-growth as -1.5" in result.output
    with database.session() as s:
        found = s.scalars(select(Resolution)).one()
        assert (found.value, found.outcome, found.note) == (-1.5, "-1.5", "official")
