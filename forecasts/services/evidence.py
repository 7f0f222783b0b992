"""What a question's page shows behind its rule: the observations of the series a
threshold or bins rule reads, and a decision its rule has made that nobody has settled yet."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy.orm import Session

from forecasts.models import ANNULLED, Observation, Question
from forecasts.rules import Decision
from forecasts.services.observations import series_observations
from forecasts.services.resolve_due import due_now


@dataclass(frozen=True)
class SeriesEvidence:
    """The series a rule reads, its observations up to now (oldest first) and the rule's
    reference lines: a threshold (`op`, `value`) or bin `edges`."""

    series: str
    observations: list[Observation]
    op: str | None = None
    value: float | None = None
    edges: list[float] | None = None
    when: str | None = None


def series_rule(rule: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The threshold or bins rule inside `rule` (a conditional's `then`), or None."""
    if rule["type"] in ("threshold", "bins"):
        return rule
    if rule["type"] == "conditional":
        return series_rule(rule["then"])
    return None


def series_evidence(session: Session, question: Question, now: datetime) -> SeriesEvidence | None:
    """The observations the question's rule reads, with its threshold or edges; None for
    rules that read no series."""
    rule = series_rule(question.rule)
    if rule is None:
        return None
    points = [o for o in series_observations(session, rule["series"]) if o.at <= now]
    if rule["type"] == "bins":
        return SeriesEvidence(rule["series"], points, edges=list(rule["edges"]))
    return SeriesEvidence(rule["series"], points, op=rule["op"], value=rule["value"],
                          when=rule["when"])


def pending_decision(session: Session, question: Question, now: datetime) -> Decision | None:
    """What the rule of an unsettled question has decided as of `now` though no pass of the
    scheduler has settled it yet (None if it cannot decide, or for manual rules)."""
    due = due_now(session, question, now)
    return None if due is None else due.decision


def decision_words(question: Question, decision: Decision) -> str:
    """'The rule has decided: YES (reason); settling shortly.'"""
    if decision.outcome == ANNULLED:
        outcome = "annulled"
    elif question.kind == "binary":
        outcome = decision.outcome.upper()
    else:
        outcome = f"“{decision.outcome}”"
    return f"The rule has decided: {outcome} ({decision.reason}); settling shortly."
