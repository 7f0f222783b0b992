"""The forecast form's reading of typed percentages."""
from __future__ import annotations

from decimal import Decimal

import pytest

from forecasts.errors import Conflict, InvalidInput
from forecasts.models import Question
from forecasts.web.forecast_form import ForecastForm, parse_percent


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


def test_multiple_choice_payload_needs_exactly_100():
    form = ForecastForm.from_request(question(), {"option-0": "33.3", "option-1": "33.3",
                                                  "option-2": "33.4"})
    payload = form.payload()
    assert payload["probabilities"] == pytest.approx([0.333, 0.333, 0.334])
    assert form.total == Decimal("100.0")
    short = ForecastForm.from_request(question(), {"option-0": "33.3", "option-1": "33.3",
                                                   "option-2": "33.3"})
    with pytest.raises(InvalidInput, match="add up to 99.9%"):
        short.payload()


def test_errors_land_on_their_inputs():
    form = ForecastForm.from_request(question("binary"), {"probability": "50"})
    form.fail(Conflict("closed", where="at"))
    form.fail(InvalidInput("too long", where="rationale"))
    form.fail(InvalidInput("bad", where="probability"))
    assert form.errors == {"form": "closed", "rationale": "too long", "probability": "bad"}
    assert ForecastForm.from_request(question(), {"option-0": "x"}).total is None
