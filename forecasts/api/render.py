"""JSON representations of questions and forecasts."""
from __future__ import annotations

from typing import Any

from flask import request, url_for

from forecasts import rules, timeutil
from forecasts.models import Forecast, Question, Resolution

Crowd = tuple[list[float] | None, int]


def resolution_json(resolution: Resolution | None) -> dict[str, Any] | None:
    """{outcome, known_at} of the current resolution, or None while unsettled."""
    if resolution is None:
        return None
    return {"outcome": resolution.outcome, "known_at": timeutil.iso(resolution.known_at)}


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
    return doc


def forecast_json(forecast: Forecast, *, question: str, user: str) -> dict[str, Any]:
    """A stored forecast; `probability` is the binary probability of yes, else null."""
    return {
        "id": forecast.id, "question": question, "user": user,
        "at": timeutil.iso(forecast.at), "probability": forecast.probability,
        "probabilities": forecast.probabilities, "rationale": forecast.rationale,
    }
