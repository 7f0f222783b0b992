"""The API and numeric and date questions (SPEC §11): the detail carries the range, a
forecast is a cdf or quantiles and comes back as the stored CDF, bad input is named."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from forecasts import cdf, timeutil
from forecasts.models import Forecast
from forecasts.services import questions, resolution
from tests.api.conftest import read, window
from tests.test_numeric_domain import date_data, linear, numeric_data

URL = "/api/v1/questions/gdp-growth"


@pytest.fixture
def numeric(world, session):
    """gdp-growth (numeric, open both sides, %), treaty-date (date, closed below) open now,
    and gdp-settled resolved to 2.5."""
    questions.create_question(session, numeric_data(**window(-10, 30)))
    questions.create_question(session, date_data(**window(-10, 30)))
    settled = questions.create_question(session, numeric_data(slug="gdp-settled",
                                                              **window(-20, -1)))
    resolution.resolve(session, settled, "2.5", actor="admin")
    session.commit()
    return world


def count(database) -> int:
    return read(database, select(func.count(Forecast.id)))


def test_the_detail_carries_kind_range_sides_and_unit(api, numeric):
    body = api.get(URL).body
    assert (body["kind"], body["range"], body["open_lower"], body["open_upper"], body["unit"]) \
        == ("numeric", {"min": -5.0, "max": 15.0}, True, True, "%")
    assert body["options"] == [] and body["crowd"] is None
    date = api.get("/api/v1/questions/treaty-date").body
    assert date["range"] == {"min": "2026-01-01T00:00:00Z", "max": "2028-01-01T12:30:00.250000Z"}
    assert (date["open_lower"], date["open_upper"], date["unit"]) == (False, True, None)
    binary = api.get("/api/v1/questions/strike-open").body
    assert (binary["range"], binary["open_lower"], binary["unit"]) == (None, False, None)
    settled = api.get("/api/v1/questions/gdp-settled").body
    assert settled["resolution"]["outcome"] == "2.5" and settled["resolution"]["value"] == 2.5


def test_a_cdf_is_stored_and_returned_as_stored(api, numeric, database):
    values = linear(0.0123, 0.987)
    response = api.post(URL + "/forecasts", token=numeric.tokens["alice"],
                        json={"cdf": values, "rationale": "trend"})
    assert response.status_code == 201, response.body
    body = response.body
    assert body["cdf"] == values  # stored exactly as given
    assert body["probability"] is None and body["probabilities"] is None
    stored = read(database, select(Forecast.cdf).where(Forecast.id == body["id"]))
    assert stored == np.array(values, "<f8").tobytes()  # off the 2**-24 grid: float64
    listed = api.get("/api/v1/me/forecasts?question=gdp-growth",
                     token=numeric.tokens["alice"]).body["items"]
    assert [f["cdf"] for f in listed] == [body["cdf"]]
    detail = api.get(URL, token=numeric.tokens["alice"]).body
    assert detail["forecasters"] == 1 and detail["crowd"] is None
    # Binary forecasts in lists say they have no cdf.
    mine = api.post("/api/v1/questions/strike-open/forecasts", token=numeric.tokens["alice"],
                    json={"probability": 0.4}).body
    assert mine["cdf"] is None


def test_quantiles_with_text_keys_become_the_stored_cdf(api, numeric, database):
    response = api.post(URL + "/forecasts", token=numeric.tokens["bob"],
                        json={"quantiles": {"0.1": 12.5 - 10, "0.5": 5, "0.9": 11}})
    assert response.status_code == 201, response.body
    expected = cdf.quantiles_to_cdf({0.1: 2.5, 0.5: 5.0, 0.9: 11.0}, -5.0, 15.0, True, True)
    assert response.body["cdf"] == expected.tolist()
    stored = read(database, select(Forecast.cdf).where(Forecast.id == response.body["id"]))
    assert stored == np.array(expected, "<f4").tobytes()  # made by the server: snapped
    f = np.array(response.body["cdf"])
    median = np.interp(0.5, f, cdf.grid(-5.0, 15.0))
    assert abs(median - 5.0) <= 0.1 + 1e-9


def test_a_date_question_takes_quantiles_as_seconds(api, numeric):
    start = timeutil.to_micros(timeutil.parse("2026-06-01", where="-")) / 1e6
    response = api.post("/api/v1/questions/treaty-date/forecasts", token=numeric.tokens["bob"],
                        json={"quantiles": {"0.25": start, "0.75": start + 86400 * 90}})
    assert response.status_code == 201, response.body
    assert response.body["cdf"][0] == 0.0 and response.body["cdf"][200] < 1.0


@pytest.mark.parametrize("body, where, words", [
    ({"probability": 0.4}, "forecast.probability", "takes a 'cdf'"),
    ({"probabilities": [0.4, 0.6]}, "forecast.probabilities", "takes a 'cdf'"),
    ({"cdf": [0.1] * 200}, "forecast.cdf", "fewer than 201"),
    ({"cdf": [*linear(0.01, 0.9)[:57], 1.5, *linear(0.01, 0.9)[58:]]}, "forecast.cdf[57]",
     "above the maximum 1"),
    ({"cdf": linear(0.0, 0.9)}, "forecast.cdf[0]", "lower bound is open"),
    ({"cdf": [*linear(0.01, 0.9)[:57], 0.2, *linear(0.01, 0.9)[58:]]}, "forecast.cdf[57]",
     "never decreases"),
    ({"quantiles": {"ten percent": 1, "0.9": 3}}, "forecast.quantiles['ten percent']",
     "not a probability"),
    ({"quantiles": {"0.1": 1, "0.9": "3"}}, "forecast.quantiles[0.9]", "finite number"),
    ({"quantiles": {"0.1": 1, "0.10": 2, "0.9": 3}}, "forecast.quantiles['0.10']",
     "given twice"),
    ({"quantiles": {"0.1": 30, "0.9": 31}}, "forecast.quantiles[0.1]", "within the range"),
    ({"quantiles": {"0.5": 3}}, "forecast.quantiles", "at least two"),
    ({"quantiles": {"0.1": 1, "0.9": 3}, "cdf": linear(0.01, 0.9)}, "forecast", "not both"),
])
def test_bad_numeric_forecasts_are_named_and_change_nothing(api, numeric, database, body,
                                                            where, words):
    before = count(database)
    response = api.post(URL + "/forecasts", token=numeric.tokens["alice"], json=body)
    assert response.status_code in (400, 422), response.body
    error = response.body["error"]
    assert error["where"] == where, error
    assert words in error["message"]
    assert count(database) == before


def test_binary_and_choice_questions_refuse_cdf_and_quantiles(api, numeric, database):
    before = count(database)
    response = api.post("/api/v1/questions/strike-open/forecasts", token=numeric.tokens["alice"],
                        json={"cdf": linear()})
    assert response.body["error"]["where"] == "forecast.cdf"
    response = api.post("/api/v1/questions/partner-open/forecasts",
                        token=numeric.tokens["alice"], json={"quantiles": {"0.1": 1, "0.9": 2}})
    assert response.body["error"]["where"] == "forecast.quantiles"
    assert count(database) == before
