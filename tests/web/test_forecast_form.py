"""The forecast form's reading of typed percentages."""
from __future__ import annotations

import json
import math
import random
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from forecasts.errors import Conflict, InvalidInput
from forecasts.models import Forecast, Question
from forecasts.services import questions
from forecasts.services.forecasts import check_vector, submit_forecast
from forecasts.web.forecast_form import ForecastForm, parse_percent
from tests.builders import mc_data
from tests.web.conftest import around_now


@pytest.mark.parametrize("text, value", [("37.5", "37.5"), (" 37,5 ", "37.5"), ("37.5%", "37.5"),
                                         ("0.1", "0.1"), ("99.9", "99.9"), ("50", "50")])
def test_parse_percent(text, value):
    assert parse_percent(text, where="p") == Decimal(value)


@pytest.mark.parametrize("text", ["0.09", "99.91", "-5", "1.25", "1/2", "inf", "", "  "])
def test_parse_percent_rejects(text):
    with pytest.raises(InvalidInput) as info:
        parse_percent(text, where="p")
    assert info.value.where == "p"


def question(kind="multiple_choice", options='["a", "b", "c"]'):
    return Question(slug="q", title="Q", kind=kind, options_json=options if kind != "binary" else None)


def test_multiple_choice_payload_adding_up_to_100():
    form = ForecastForm.from_request(question(), {"option-0": "33.3", "option-1": "33.3",
                                                  "option-2": "33.4"})
    payload = form.payload()
    assert payload["probabilities"] == pytest.approx([0.333, 0.333, 0.334])
    assert form.total == Decimal("100.0")
    short = ForecastForm.from_request(question(), {"option-0": "33.3", "option-1": "33.3",
                                                   "option-2": "33.2"})
    with pytest.raises(InvalidInput, match="add up to 99.8%"):
        short.payload()


def test_errors_land_on_their_inputs():
    form = ForecastForm.from_request(question("binary"), {"probability": "50"})
    form.fail(Conflict("closed", where="at"))
    form.fail(InvalidInput("too long", where="rationale"))
    form.fail(InvalidInput("bad", where="probability"))
    assert form.errors == {"form": "closed", "rationale": "too long", "probability": "bad"}
    assert ForecastForm.from_request(question(), {"option-0": "x"}).total is None


# --- The multiple-choice total: what the page shows, and how close to 100 is enough.

def test_total_within_tolerance_is_accepted_and_scaled_to_one():
    form = ForecastForm.from_request(question(), {f"option-{i}": "33.3" for i in range(3)})
    assert form.total == Decimal("99.9") and form.total_ok
    probs = form.payload()["probabilities"]
    assert probs == [1 / 3] * 3 and math.fsum(probs) == pytest.approx(1, abs=1e-15)
    over = ForecastForm.from_request(question(), {f"option-{i}": "33.4" for i in range(3)})
    assert not over.total_ok
    with pytest.raises(InvalidInput, match=r"add up to 100\.2%") as info:
        over.payload()
    assert info.value.where == "total"


def _tenths(values: list[int]) -> dict[str, str]:
    """The form's fields for entries given in tenths of a percent (123 -> "12.3")."""
    return {f"option-{i}": f"{v // 10}.{v % 10}" for i, v in enumerate(values)}


def test_tolerance_against_exact_fractions():
    """Entries in tenths of a percent near a total of 100: accepted exactly when the total
    is within 0.15 of 100 and scaling keeps every entry at 0.1% or more; the probabilities
    are each entry over the total (checked with exact fractions)."""
    rng = random.Random(9)
    seen = {"accepted": 0, "refused": 0}
    for _ in range(400):
        n = rng.randint(2, 5)
        target = rng.randint(997, 1003)  # tenths of a percent
        values = [rng.randint(1, 10) if rng.random() < 0.3 else rng.randint(1, 400)
                  for _ in range(n - 1)]
        values.append(target - sum(values))
        if not 1 <= values[-1] <= 999:
            continue
        total = sum(values)
        form = ForecastForm.from_request(question(options=json.dumps(list("abcde"[:n]))),
                                         _tenths(values))
        expected_ok = abs(Fraction(total, 10) - 100) <= Fraction(15, 100) and \
            all(Fraction(v * 100, total) >= Fraction(1, 10) for v in values)
        if expected_ok:
            probs = form.payload()["probabilities"]
            assert probs == [float(Fraction(v, total)) for v in values]
            assert math.fsum(probs) == pytest.approx(1, abs=1e-12)
            seen["accepted"] += 1
        else:
            with pytest.raises(InvalidInput):
                form.payload()
            seen["refused"] += 1
    assert min(seen.values()) > 50  # both sides of the boundary were tried


def test_scaling_never_takes_an_entry_below_the_lowest_percentage():
    form = ForecastForm.from_request(question(), {"option-0": "0.1", "option-1": "50",
                                                  "option-2": "50"})
    with pytest.raises(InvalidInput, match="0.1% for 'a' would fall below 0.1%") as info:
        form.payload()
    assert info.value.where == "option-0"


def test_the_api_keeps_the_services_tolerance():
    # The form's leniency is about typed percentages; probabilities sent to the API
    # (or in bundles) still have to sum to 1 within 1e-6.
    with pytest.raises(InvalidInput, match="sums to 0.999"):
        check_vector([0.333, 0.333, 0.333], 3)


def _total_line(html: str) -> str:
    match = re.search(r'<p class="total[^"]*" id="total-line"[^>]*>.*?</p>', html, re.S)
    assert match, "no total line"
    return match.group(0)


def test_first_render_shows_no_total_without_javascript(web, world, session):
    web.login("alice")
    page = web.get("/questions/partner-open").text
    assert " hidden>" in _total_line(page) and "></output>" in _total_line(page)
    # A latest forecast that sums to 100 prefills the form; still no total is sent.
    submit_forecast(session, world["mc"], world["users"]["alice"],
                    probabilities=[0.4, 0.3, 0.2, 0.1])
    session.commit()
    page = web.get("/questions/partner-open").text
    assert 'value="40"' in page and 'value="10"' in page
    assert "100%" not in page
    assert " hidden>" in _total_line(page) and "></output>" in _total_line(page)


@pytest.mark.parametrize("values, shown, state", [
    (["10", "10", "10", "10"], "40%", "off"),
    (["99.95", "0.05", "0", "0"], "100%", "ok"),  # refused for its entries, not its total
    (["x", "50", "25", "25"], "—", None),
])
def test_rejected_submit_shows_the_servers_total(web, world, values, shown, state):
    web.login("alice")
    data = {f"option-{i}": v for i, v in enumerate(values)}
    response = web.post("/questions/partner-open", data, form_page="/questions/partner-open")
    assert response.status_code == 422
    line = _total_line(response.text)
    assert "hidden" not in line and f">{shown}</output>" in line
    assert (f'class="total {state}"' if state else 'class="total"') in line


@pytest.fixture
def three(session):
    """An open multiple-choice question with three options."""
    q = questions.create_question(session, mc_data(slug="three-way", options=["a", "b", "c"],
                                                   **around_now()))
    session.commit()
    return q


def test_a_third_each_typed_as_33_3_is_saved_normalised(web, world, three, database):
    web.login("alice")
    data = {f"option-{i}": "33.3" for i in range(3)}
    response = web.post("/questions/three-way", data, form_page="/questions/three-way")
    assert response.status_code == 303
    with database.session() as s:
        [forecast] = s.scalars(select(Forecast).where(Forecast.question_id == three.id))
        assert forecast.probabilities == pytest.approx([1 / 3] * 3, abs=1e-15)
        assert math.fsum(forecast.probabilities) == pytest.approx(1, abs=1e-12)
    refused = web.post("/questions/three-way", {f"option-{i}": "33.4" for i in range(3)},
                       form_page="/questions/three-way")
    assert refused.status_code == 422 and "add up to 100.2%" in refused.text
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Forecast)
                        .where(Forecast.question_id == three.id)) == 1


def test_the_form_comes_before_the_discussion_in_the_source(web, world):
    web.login("alice")
    page = web.get("/questions/strike-open").text
    assert "Bob&#x27;s reasoning" in page
    assert page.index('name="probability"') < page.index('id="discussion-h"') \
        < page.index("Bob&#x27;s reasoning")
