"""The forecast form: percentages typed by a person, turned into probabilities.

The form speaks in percent with one decimal (0.1 to 99.9); the service checks the
probabilities again. Errors keep what was typed, so the page can show it back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from forecasts.errors import ForecastsError, InvalidInput
from forecasts.models import Forecast, Question
from forecasts.web import numeric_view

LOW, HIGH, STEP = Decimal("0.1"), Decimal("99.9"), Decimal("0.1")
HUNDRED = Decimal(100)
# Percentages rounded to one decimal rarely add up to exactly 100 (33.3 x 3 = 99.9):
# a total this close is accepted and scaled to 100. Only the form's percentage entry
# is this lenient; the API keeps the service's tolerance on probabilities.
TOTAL_TOLERANCE = Decimal("0.15")
# Where the service names a field, and which input of the form that is.
_FIELD_OF = {"forecast.probability": "probability", "forecast.probabilities": "total",
             "rationale": "rationale"}


def parse_percent(text: str, *, where: str) -> Decimal:
    """A percentage between 0.1 and 99.9 in steps of 0.1 ("37.5", "37,5" or "37.5%")."""
    cleaned = text.strip().removesuffix("%").strip().replace(",", ".")
    if not cleaned:
        raise InvalidInput("enter a percentage between 0.1 and 99.9", where=where)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidInput(f"{text.strip()!r} is not a number; enter a percentage such as 37.5",
                           where=where) from None
    if not value.is_finite():
        raise InvalidInput("enter a finite percentage", where=where)
    if not LOW <= value <= HIGH:
        raise InvalidInput(f"{value}% is outside 0.1% to 99.9%: nothing is certain", where=where)
    if value % STEP:
        raise InvalidInput(f"{value}% has too many decimals; use steps of 0.1", where=where)
    return value


@dataclass
class ForecastForm:
    """What the forecast form holds: the typed values, and an error per input."""

    question: Question
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # True for a form as posted: only then has the server a total to show.
    submitted: bool = False

    @property
    def option_fields(self) -> list[tuple[str, str]]:
        """(input name, option label) of each multiple-choice option."""
        return [(f"option-{i}", label) for i, label in enumerate(self.question.options)]

    @classmethod
    def from_request(cls, question: Question, form: Mapping[str, str]) -> ForecastForm:
        """The form as submitted."""
        if question.continuous:
            values = numeric_view.form_values(form)
            values["rationale"] = str(form.get("rationale", ""))
            return cls(question, values, submitted=True)
        names = ["probability"] if question.kind == "binary" else [
            name for name, _ in cls(question).option_fields]
        values = {name: str(form.get(name, ""))[:40] for name in names}
        values["rationale"] = str(form.get("rationale", ""))
        return cls(question, values, submitted=True)

    @classmethod
    def prefilled(cls, question: Question, latest: Forecast | None) -> ForecastForm:
        """An empty form, or one holding the user's latest forecast to adjust."""
        form = cls(question)
        if latest is None:
            return form
        if question.continuous:
            form.values.update(numeric_view.prefilled_values(question, latest))
            return form
        probs = latest.probabilities
        if question.kind == "binary":
            form.values["probability"] = _percent_text(probs[1])
        else:
            for (name, _), p in zip(form.option_fields, probs):
                form.values[name] = _percent_text(p)
        return form

    @property
    def total(self) -> Decimal | None:
        """The sum of the option percentages typed so far (None if any is not a number)."""
        try:
            return sum((Decimal(self.values.get(name, "").strip().replace(",", ".") or 0)
                        for name, _ in self.option_fields), Decimal(0))
        except InvalidOperation:
            return None

    @property
    def tolerance(self) -> Decimal:
        """How far from 100 the option percentages may add up (the page's script reads it)."""
        return TOTAL_TOLERANCE

    @property
    def total_ok(self) -> bool:
        """Whether the typed total is close enough to 100 to be accepted."""
        return self.total is not None and abs(self.total - HUNDRED) <= TOTAL_TOLERANCE

    def payload(self) -> dict[str, Any]:
        """Keyword arguments for `submit_forecast`; InvalidInput naming the input otherwise."""
        rationale = self.values.get("rationale", "").strip() or None
        if self.question.continuous:  # quantiles -> CDF: forecasts/web/numeric_view.py
            return {"cdf": numeric_view.to_cdf(self.question, self.values), "rationale": rationale}
        if self.question.kind == "binary":
            p = parse_percent(self.values.get("probability", ""), where="probability")
            return {"probability": float(p / HUNDRED), "rationale": rationale}
        percents = [parse_percent(self.values.get(name, ""), where=name)
                    for name, _ in self.option_fields]
        total = sum(percents, Decimal(0))
        if abs(total - HUNDRED) > TOTAL_TOLERANCE:
            raise InvalidInput(f"your percentages add up to {total}%; they must add up to "
                               f"100% (within {TOTAL_TOLERANCE})", where="total")
        for (name, label), p in zip(self.option_fields, percents):
            # Scaling a total above 100 down can take a 0.1% below the lowest allowed.
            if p * HUNDRED / total < LOW:
                raise InvalidInput(f"{p}% for {label!r} would fall below {LOW}% when your "
                                   f"total of {total}% is scaled to 100%; make the "
                                   "percentages add up to exactly 100%", where=name)
        # Divided by their own total, they sum to 1 up to float rounding.
        return {"probabilities": [float(p / total) for p in percents], "rationale": rationale}

    def fail(self, error: ForecastsError) -> None:
        """Attach a rejected submission's error to the input it concerns."""
        name = error.where if error.where in self.values or error.where == "total" else \
            _FIELD_OF.get(error.where or "", "form")
        self.errors[name] = error.message

    @property
    def error_count(self) -> int:
        return len(self.errors)


def _percent_text(p: float) -> str:
    return f"{round(p * 100, 1):g}"
