"""Everything the question page shows, gathered from the services in one place."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from forecasts import rules
from forecasts.models import Question, User
from forecasts.services import browse, crowd, resolution as resolutions, scores
from forecasts.services.forecasts import user_forecasts
from forecasts.services.questions import current_resolution, question_status
from forecasts.web.forecast_form import ForecastForm

HISTORY_ROWS = 60


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


def question_context(session: Session, question: Question, user: User | None, now: datetime,
                     form: ForecastForm | None = None) -> dict[str, Any]:
    """Template variables of /questions/<slug>; `form` carries a rejected submission."""
    resolution = current_resolution(session, question)
    status = question_status(question, resolution, now)
    current, forecasters = crowd.current_crowds(session, [question.id]).get(question.id, (None, 0))
    history = crowd.crowd_history(session, question)
    mine = user_forecasts(session, question, user) if user is not None else []
    if form is None:
        form = ForecastForm.prefilled(question, mine[-1] if mine else None)
    doc = scores.question_scores(session, question) if resolution is not None else None
    audit = resolutions.history(session, question) if resolution is not None else []
    return {
        "question": question, "resolution": resolution, "status": status,
        "rule_text": rule_in_words(question), "crowd": current, "forecasters": forecasters,
        "history": history[-HISTORY_ROWS:][::-1], "history_total": len(history),
        "mine": mine[::-1], "form": form,
        "rationales": browse.question_rationales(session, question, exclude=user),
        "scores": doc, "my_scores": (doc or {}).get("users", {}).get(user.username) if user else None,
        "score_table": sorted((doc or {}).get("users", {}).items(), key=lambda kv: kv[1]["brier"]),
        "audit": audit,
    }
