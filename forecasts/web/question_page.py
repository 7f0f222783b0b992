"""Everything the question page shows, gathered from the services in one place."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from flask import current_app
from sqlalchemy.orm import Session

import scoring
from forecasts import cache, rules, timeutil
from forecasts.models import Question, Resolution, User
from forecasts.rules.evaluation import number
from forecasts.services import aggregation, crowd, evidence, question_stats, visibility
from forecasts.services import resolution as resolutions, scores
from forecasts.services import follows, tournaments
from forecasts.services.question_stats import Stats, counted_before
from forecasts.services.forecasts import user_forecasts
from forecasts.services.questions import current_resolution, question_status
from forecasts.web.charts import series_chart
from forecasts.web.comments import thread_context
from forecasts.web.forecast_form import ForecastForm
from forecasts.web.numeric_view import numeric_context

HISTORY_ROWS = 60
# How a resolution came about, by its source, in words for the page.
SETTLED_BY = {
    "manual": "Resolved by an admin",
    "rule": "Settled by its rule",
    "import": "Imported",
    "cascade": "Settled by a cascade from a question its rule reads",
}


def rule_in_words(question: Question) -> str:
    """The resolution rule as a sentence."""
    return rules.describe(question.rule, question)


def chart_window(question: Question, settled_at: datetime | None, now: datetime
                 ) -> tuple[datetime, datetime]:
    """The span the crowd chart covers: from the opening to now, the close or the settling."""
    end = min(question.close_at, now)
    if settled_at is not None:
        end = min(end, settled_at) if settled_at > question.open_at else end
    return question.open_at, max(end, question.open_at)


def settled_by(source: str) -> str:
    """'Settled by its rule', 'Resolved by an admin', ... for a resolution's source."""
    return SETTLED_BY.get(source, f"Settled ({source})")


def _history_key(question: Question, version: int, cut: datetime | None) -> str:
    # The aggregator too: a history made by another one is never served (the figures'
    # version does not change when the setting does, until they are recomputed).
    return (f"crowd-history:{question.id}:{version}:{len(question.options)}:"
            f"{'' if cut is None else timeutil.to_micros(cut)}:{aggregation.label(_aggregator())}")


def _aggregator() -> scoring.Aggregator:
    return aggregation.configured(current_app.config)


def page_history(session: Session, question: Question, resolution: Resolution | None,
                 stats: Stats) -> crowd.History:
    """The crowd history the page and its chart show (only the forecasts that count),
    computed once per change of the question's figures and cached; after one new
    forecast, the previous version's history is extended instead of recomputed."""
    cut = counted_before(question, resolution)
    found = _cached_history(question, stats, cut)
    if found is None:
        found = crowd.history(session, question, resolution, recent=HISTORY_ROWS,
                              aggregator=_aggregator())
        cache.write(_history_key(question, stats.version, cut), found.to_doc())
    return found


def _cached_history(question: Question, stats: Stats, cut: datetime | None
                    ) -> crowd.History | None:
    """The cached history of the current figures, or the previous version's extended by
    one forecast (then cached); None when it must be computed."""
    key = _history_key(question, stats.version, cut)
    doc = cache.read(key)
    if doc is not None:
        return crowd.History.from_doc(doc)
    if stats.version > 1:
        previous = cache.read(_history_key(question, stats.version - 1, cut))
        if previous is not None:
            found = crowd.extended(crowd.History.from_doc(previous), stats, recent=HISTORY_ROWS)
            if found is not None:
                cache.write(key, found.to_doc())
            return found
    return None


def unsettled_histories(session: Session, items: list[tuple[Question, Stats]]
                        ) -> dict[int, crowd.History]:
    """page_history of several unsettled questions, from the same cache; the missing ones
    computed together in one read of their forecasts (pages that list questions)."""
    found: dict[int, crowd.History] = {}
    missing: list[tuple[Question, Stats]] = []
    for question, stats in items:
        if question.continuous:  # no option probabilities over time (numeric_view.py)
            found[question.id] = crowd.History([], [], 0, 0, 0)
            continue
        cached = _cached_history(question, stats, None)
        if cached is None:
            missing.append((question, stats))
        else:
            found[question.id] = cached
    computed = crowd.unsettled_histories(session, [q for q, _ in missing], recent=HISTORY_ROWS,
                                         aggregator=_aggregator())
    for question, stats in missing:
        found[question.id] = computed[question.id]
        cache.write(_history_key(question, stats.version, None), computed[question.id].to_doc())
    return found


def _deciding_point(doc: Mapping[str, Any] | None) -> tuple[datetime, float] | None:
    """The observation a rule decided on, from a decision's evidence."""
    while doc and "then" in doc:
        doc = doc["then"]
    point = (doc or {}).get("observation")
    if not point:
        return None
    return timeutil.parse(point["at"], where="evidence"), float(point["value"])


def _link(source: str | None) -> str | None:
    return source if source and source.lower().startswith(("http://", "https://")) else None


def evidence_context(session: Session, question: Question, resolution: Resolution | None,
                     now: datetime) -> dict[str, Any]:
    """The rule's evidence: the series chart and table, and a decision not yet settled."""
    pending = None if resolution is not None else evidence.pending_decision(session, question, now)
    found = evidence.series_evidence(session, question, now)
    out: dict[str, Any] = {"pending": pending and evidence.decision_words(question, pending),
                           "evidence": found, "series_chart": None, "observation_rows": []}
    if found is None or not found.observations:
        return out
    before = [o for o in found.observations if o.at < question.open_at]
    shown = before[-1:] + [o for o in found.observations if o.at >= question.open_at]
    end = max(min(now, question.close_at), shown[-1].at)
    if found.edges is not None:
        levels = [(edge, f"≥ {number(edge)}: {label}")
                  for edge, label in zip(found.edges, question.options[1:])]
    else:
        levels = [(found.value, f"{found.op} {number(found.value)}")]
    decided = pending.evidence if pending else (resolution.evidence if resolution else None)
    out["series_chart"] = series_chart([(o.at, o.value) for o in shown], question.open_at, end,
                                       levels=levels, close_at=question.close_at,
                                       hit=_deciding_point(decided))
    out["observation_rows"] = [(o.at, o.value, o.source, _link(o.source))
                               for o in shown[::-1][:HISTORY_ROWS]]
    out["observation_total"] = len(shown)
    return out


def question_context(session: Session, question: Question, user: User | None, now: datetime,
                     form: ForecastForm | None = None) -> dict[str, Any]:
    """Template variables of /questions/<slug>; `form` carries a rejected submission."""
    resolution = current_resolution(session, question)
    status = question_status(question, resolution, now)
    stats = question_stats.stats_of(session, question)
    mine = user_forecasts(session, question, user) if user is not None else []
    # Withheld figures are never read, from the cache or otherwise (visibility.py).
    shown = visibility.crowd_visible(session, question, user, resolution=resolution, now=now,
                                     has_forecast=bool(mine))
    # Numeric and date questions have their own crowd (numeric_context), not a history.
    history = (page_history(session, question, resolution, stats)
               if shown and not question.continuous else crowd.History([], [], 0, 0, 0))
    if form is None:
        form = ForecastForm.prefilled(question, mine[-1] if mine else None)
    doc = scores.question_scores(session, question) if resolution is not None else None
    audit = resolutions.history(session, question) if resolution is not None else []
    return {
        "question": question, "resolution": resolution, "status": status,
        "rule_text": rule_in_words(question), "crowd": stats.crowd if shown else None,
        "crowd_hidden_by": None if shown else visibility.hidden_by(question, user),
        "forecasters": stats.forecasters, "stats_version": stats.version,
        "history": history.recent[::-1], "history_total": history.total,
        "mine": mine[::-1], "form": form,
        **thread_context(session, question, user, resolution, now, has_forecast=bool(mine)),
        "scores": doc, "my_scores": (doc or {}).get("users", {}).get(user.username) if user else None,
        # Numeric and date questions have a CRPS where others have a Brier.
        "score_table": sorted((doc or {}).get("users", {}).items(),
                              key=lambda kv: kv[1].get("brier", kv[1].get("crps"))),
        "audit": audit, "late_changes": history.late, "settled_by": settled_by,
        "following": user is not None and follows.is_following(session, user, question),
        "tournaments": tournaments.tournaments_of_question(session, question.id),
        **evidence_context(session, question, resolution, now),
        **(numeric_context(session, question, resolution, stats, shown, mine)
           if question.continuous else {}),
    }
