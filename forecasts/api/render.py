"""JSON representations of questions and forecasts."""
from __future__ import annotations

from typing import Any

from flask import request, url_for

from forecasts import rules, timeutil
from forecasts.models import Forecast, Question, Resolution
from forecasts.services.questions import range_text

Crowd = tuple[list[float] | None, int]


def resolution_json(resolution: Resolution | None) -> dict[str, Any] | None:
    """{outcome, known_at} of the current resolution, or None while unsettled; with the
    `value` of a numeric or date question resolved to one."""
    if resolution is None:
        return None
    doc = {"outcome": resolution.outcome, "known_at": timeutil.iso(resolution.known_at)}
    if resolution.value is not None:
        doc["value"] = resolution.value
    return doc


def question_json(question: Question, resolution: Resolution | None, status: str,
                  crowd: Crowd, *, hidden: bool = False) -> dict[str, Any]:
    """A question as the list shows it: the crowd is one probability per option, or None
    with `crowd_hidden` while the viewer may not see it (visibility.py)."""
    probabilities, forecasters = crowd
    return {
        "slug": question.slug, "title": question.title, "kind": question.kind,
        "options": question.options, "ordered": question.ordered, "tags": question.tags,
        "open_at": timeutil.iso(question.open_at), "close_at": timeutil.iso(question.close_at),
        "status": status, "forecasters": forecasters,
        "crowd": None if hidden else probabilities, "crowd_hidden": hidden,
        "hide_crowd_until_forecast": bool(question.hide_crowd_until_forecast),
        "resolution": resolution_json(resolution),
        "url": url_for("api.question", slug=question.slug, _external=True),
        "html_url": f"{request.url_root}questions/{question.slug}",
    }


def question_detail_json(question: Question, resolution: Resolution | None, status: str,
                         crowd: Crowd, *, hidden: bool = False) -> dict[str, Any]:
    """A question with its description and rule (in words too, where the rules can say)."""
    doc = question_json(question, resolution, status, crowd, hidden=hidden)
    doc["description"] = question.description
    doc["rule"] = question.rule
    doc["rule_text"] = rules.describe(question.rule, question)
    doc.update(range_json(question))
    return doc


def range_json(question: Question) -> dict[str, Any]:
    """A numeric or date question's range (dates as ISO 8601), open sides and unit; for
    other kinds a null range, closed sides and no unit."""
    if not question.continuous:
        return {"range": None, "open_lower": False, "open_upper": False, "unit": None}
    assert question.range_min is not None and question.range_max is not None
    return {"range": {"min": range_text(question.kind, question.range_min),
                      "max": range_text(question.kind, question.range_max)},
            "open_lower": bool(question.open_lower), "open_upper": bool(question.open_upper),
            "unit": question.unit}


def forecast_json(forecast: Forecast, *, question: str, user: str) -> dict[str, Any]:
    """A stored forecast; `probability` is the binary probability of yes, else null;
    `cdf` the stored F_0..F_200 of a numeric or date forecast (then `probabilities` is
    null), else null."""
    stored = forecast.cdf is not None
    return {
        "id": forecast.id, "question": question, "user": user,
        "at": timeutil.iso(forecast.at), "probability": forecast.probability,
        "probabilities": None if stored else forecast.probabilities,
        "cdf": forecast.cdf_values.tolist() if stored else None,
        "rationale": forecast.rationale,
    }
