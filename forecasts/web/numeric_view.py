"""Numeric and date questions on the web: the quantile form, values as pages show them,
and the question page's crowd (SPEC §11).

The form takes the 10th, 50th and 90th percentiles (required) and the 25th and 75th
(optional) in the question's unit, or as dates (YYYY-MM-DD, midnight UTC; a full ISO 8601
time is read too) for date questions. They become a CDF with `cdf.quantiles_to_cdf`
(logit-linear between the quantiles, see forecasts/cdf.py), which is what is submitted:
the same conversion for a form typed by hand and one written by the editor's script. Its
values are snapped to the 2**-24 grid (`cdf.snap`), so the stored CDF takes 804 bytes.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Mapping

import numpy as np
from sqlalchemy.orm import Session

from forecasts import cache, cdf as cdf_codec, timeutil
from forecasts.errors import InvalidInput
from forecasts.models import Forecast, Question, Resolution
from forecasts.services import numeric_view
from forecasts.services.question_stats import Stats, counted_before

HISTORY_ROWS = 60
# (input name, probability, required, label)
QUANTILE_FIELDS = (("q10", 0.1, True, "10th percentile"), ("q25", 0.25, False, "25th percentile"),
                   ("q50", 0.5, True, "Median (50th percentile)"),
                   ("q75", 0.75, False, "75th percentile"), ("q90", 0.9, True, "90th percentile"))
FIELD_NAMES = tuple(name for name, *_ in QUANTILE_FIELDS)
_FIELD_OF_PROB = {p: name for name, p, *_ in QUANTILE_FIELDS}


# --- Values as shown -------------------------------------------------------------

def _digits(question: Question) -> int:
    """Decimals that tell a thousandth of the range apart."""
    assert question.range_min is not None and question.range_max is not None
    step = (question.range_max - question.range_min) / 1000
    return max(0, min(10, -math.floor(math.log10(step)))) if step > 0 else 0


def _date_of(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _short_range(question: Question) -> bool:
    assert question.range_min is not None and question.range_max is not None
    return question.range_max - question.range_min < 3 * 86400


def input_value(question: Question, value: float) -> str:
    """A value as a form input holds it: a number, or a date YYYY-MM-DD."""
    if question.kind == "date":
        return _date_of(value).strftime("%Y-%m-%d")
    return f"{value:.{_digits(question)}f}"


def value_text(question: Question, value: float | None) -> str:
    """A value for reading: the number with its unit, or the date (and time on a range
    of under three days)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if question.kind == "date":
        return _date_of(value).strftime("%Y-%m-%d %H:%M UTC" if _short_range(question)
                                        else "%Y-%m-%d")
    text = f"{value:,.{_digits(question)}f}"
    return f"{text} {question.unit}" if question.unit else text


def outcome_text(question: Question, outcome: str) -> str:
    """A stored numeric outcome (its repr) for reading."""
    try:
        return value_text(question, float(outcome))
    except ValueError:
        return outcome


def band_text(question: Question, cdf: np.ndarray) -> str:
    """'median M (80%: a to b)' of one CDF."""
    assert question.range_min is not None and question.range_max is not None
    q10, q50, q90 = numeric_view.quantiles(cdf, question.range_min, question.range_max,
                                           numeric_view.BAND)[0]
    return (f"median {value_text(question, q50)} (80%: {value_text(question, q10)} to "
            f"{value_text(question, q90)})")


def forecast_text(question: Question, forecast: Forecast) -> str:
    """A numeric or date forecast in words (the forecast lists)."""
    return band_text(question, forecast.cdf_values)


def forecast_median(question: Question, forecast: Forecast) -> str:
    """A numeric or date forecast's median, for reading (the question list)."""
    assert question.range_min is not None and question.range_max is not None
    median = numeric_view.quantiles(forecast.cdf_values, question.range_min,
                                    question.range_max, (0.5,))[0, 0]
    return value_text(question, float(median))


# --- The form ------------------------------------------------------------------

def parse_value(question: Question, text: str, *, where: str) -> float:
    """One typed quantile on the question's scale (seconds since the epoch for dates)."""
    cleaned = text.strip()
    if question.kind == "date":
        try:
            if len(cleaned) == 10:
                day = datetime.strptime(cleaned, "%Y-%m-%d").replace(tzinfo=timezone.utc)
                return timeutil.to_micros(day) / 1e6
            return timeutil.to_micros(timeutil.parse(cleaned, where=where)) / 1e6
        except (ValueError, InvalidInput):
            raise InvalidInput(f"{cleaned!r} is not a date; enter one as YYYY-MM-DD",
                               where=where) from None
    try:
        value = float(cleaned.replace(",", "").replace("\u2009", "").replace(" ", ""))
    except ValueError:
        raise InvalidInput(f"{cleaned!r} is not a number", where=where) from None
    if not math.isfinite(value):
        raise InvalidInput("enter a finite number", where=where)
    return value


def form_values(form: Mapping[str, str]) -> dict[str, str]:
    return {name: str(form.get(name, ""))[:40] for name in FIELD_NAMES}


def prefilled_values(question: Question, latest: Forecast) -> dict[str, str]:
    """The quantile inputs holding a forecast's own quantiles (to adjust it)."""
    assert question.range_min is not None and question.range_max is not None
    probs = [p for _, p, *_ in QUANTILE_FIELDS]
    values = numeric_view.quantiles(latest.cdf_values, question.range_min, question.range_max,
                                    probs)[0]
    return {name: input_value(question, v) for name, v in zip(FIELD_NAMES, values)}


def to_cdf(question: Question, values: Mapping[str, str]) -> list[float]:
    """The CDF the typed quantiles make (module docstring), on the 2**-24 grid;
    InvalidInput naming the input at fault otherwise."""
    assert question.range_min is not None and question.range_max is not None
    points: dict[float, float] = {}
    for name, p, required, label in QUANTILE_FIELDS:
        text = values.get(name, "").strip()
        if not text:
            if required:
                raise InvalidInput(f"enter the {label.lower()}", where=name)
            continue
        points[p] = parse_value(question, text, where=name)
    try:
        cdf = cdf_codec.quantiles_to_cdf(points, question.range_min, question.range_max,
                                         question.open_lower, question.open_upper,
                                         where="quantiles")
    except InvalidInput as error:
        raise InvalidInput(_in_words(question, error.message),
                           where=_field_of(error.where)) from None
    return cdf.tolist()


def _field_of(where: str | None) -> str:
    if where and where.startswith("quantiles[") and where.endswith("]"):
        try:
            return _FIELD_OF_PROB.get(float(where[10:-1]), "form")
        except ValueError:
            return "form"
    return "form"


def _in_words(question: Question, message: str) -> str:
    """The converter's message, with its raw numbers (seconds, for a date) explained."""
    assert question.range_min is not None and question.range_max is not None
    if "within the range" in message:
        return (f"must lie within the question's range, "
                f"{'at or above' if question.open_lower else 'above'} "
                f"{value_text(question, question.range_min)} and "
                f"{'at or below' if question.open_upper else 'below'} "
                f"{value_text(question, question.range_max)}")
    if "must be above" in message:
        return "must be above the percentile before it: percentiles increase"
    return message


# --- The question page -------------------------------------------------------------

def _cache_key(question: Question, version: int, cut: datetime | None) -> str:
    return (f"numeric-crowd:{question.id}:{version}:"
            f"{'' if cut is None else timeutil.to_micros(cut)}")


def page_crowd(session: Session, question: Question, resolution: Resolution | None,
               stats: Stats) -> numeric_view.NumericCrowd:
    """The crowd the page shows, computed once per change of the question's figures and
    cached (a failing cache costs the computation, never the page); on an unsettled
    question, one new forecast extends the previous version's crowd instead."""
    cut = counted_before(question, resolution)
    key = _cache_key(question, stats.version, cut)
    doc = cache.read(key)
    if doc is not None:
        return numeric_view.NumericCrowd.from_doc(doc)
    found = None
    if cut is None and stats.version > 1:
        previous = cache.read(_cache_key(question, stats.version - 1, cut))
        if previous is not None:
            found = numeric_view.extended(session, question,
                                          numeric_view.NumericCrowd.from_doc(previous), stats,
                                          recent=HISTORY_ROWS)
    if found is None:
        found = numeric_view.numeric_crowd(session, question, resolution, recent=HISTORY_ROWS)
    cache.write(key, found.to_doc())
    return found


def numeric_context(session: Session, question: Question, resolution: Resolution | None,
                    stats: Stats, shown: bool, mine: list[Forecast]) -> dict[str, Any]:
    """Template variables of a numeric or date question's crowd section."""
    from forecasts.web.numeric_charts import density_chart

    crowd = page_crowd(session, question, resolution, stats) if shown else numeric_view.EMPTY
    outcome = resolution.value if resolution is not None and not resolution.annulled else None
    own = mine[-1].cdf_values if mine else None
    crowd_cdf = None if crowd.cdf is None else np.array(crowd.cdf)
    chart = density_chart(question, crowd_cdf, own, outcome) \
        if crowd_cdf is not None or own is not None else None
    band = crowd.band
    return {"numeric": {
        "crowd": crowd, "chart": chart,
        "median": None if band is None else value_text(question, band[1]),
        "low": None if band is None else value_text(question, band[0]),
        "high": None if band is None else value_text(question, band[2]),
        "rows": [(at, [value_text(question, v) for v in b], n)
                 for at, b, n in crowd.recent[::-1]],
        "outcome": None if outcome is None else value_text(question, outcome),
        # The crowd's chance of an outcome past an open end (not drawn in the density).
        "below": crowd.cdf[0] if crowd.cdf is not None and question.open_lower else None,
        "above": 1 - crowd.cdf[-1] if crowd.cdf is not None and question.open_upper else None,
        "mine": None if own is None else band_text(question, own),
        "fields": QUANTILE_FIELDS,
        "input_type": "date" if question.kind == "date" else "number",
        "range": (value_text(question, question.range_min),
                  value_text(question, question.range_max)),
        "editor": {"min": question.range_min, "max": question.range_max, "kind": question.kind,
                   "open_lower": int(question.open_lower), "open_upper": int(question.open_upper),
                   "step": 86400 if question.kind == "date" else
                   10.0 ** -_digits(question)},
    }}
