"""A forecaster's track record page: rolling scores over time (an inline SVG chart and its
table), the split by forecast horizon, discrimination and calibration counts, filtered by
tag, tournament and the dates the questions were settled."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request

from forecasts import timeutil
from forecasts.db import get_session
from forecasts.errors import ForecastsError, InvalidInput
from forecasts.services import browse, tournaments
from forecasts.services.track_record import ROLLING_DAYS, TrackRecord, track_record
from forecasts.services.users import get_user
from forecasts.web.track_chart import track_chart

bp = Blueprint("track", __name__)

FIELDS = ("tag", "tournament", "from", "to")
MAX_TEXT = 80
TABLE_ROWS = 200  # the table lists the latest questions; the API gives every one


def _date(raw: str, where: str) -> datetime | None:
    """The date of a filter field; the message never repeats what a link put there."""
    if not raw:
        return None
    try:
        if len(raw) <= 40:
            return timeutil.parse(raw, where=where)
    except InvalidInput:
        pass
    raise InvalidInput("is not a date such as 2026-01-31", where=where)


def parse_filters() -> tuple[dict[str, str], dict[str, Any]]:
    """(the form's values to show again, the service's filter arguments)."""
    form = {name: request.args.get(name, "").strip()[:MAX_TEXT] for name in FIELDS}
    return form, {"tag": form["tag"] or None, "tournament": form["tournament"] or None,
                  "start": _date(form["from"], "from"), "end": _date(form["to"], "to")}


@bp.get("/users/<username>/track-record")
def record(username: str):
    """The track record of one forecaster; a bad filter shows the form with the error
    (400), an unknown user is 404."""
    session = get_session()
    user = get_user(session, username)
    config = current_app.config
    error: ForecastsError | None = None
    result: TrackRecord | None = None
    form = {name: "" for name in FIELDS}
    try:
        form, filters = parse_filters()
        result = track_record(session, user.username, **filters,
                              n_boot=config["LEADERBOARD_BOOTSTRAP"],
                              seed=config["LEADERBOARD_SEED"])
    except ForecastsError as exc:
        if exc.status >= 500:
            raise
        error = exc
    page = render_template(
        "users/track_record.html", user=user, record=result, error=error, form=form,
        chart=track_chart(result.series) if result else None, rolling_days=ROLLING_DAYS,
        table_rows=result.series[-TABLE_ROWS:] if result else [],
        api_query={k: v for k, v in form.items() if v},
        tags=browse.tags_in_use(session),
        tournaments=[t for t, _questions, _members in tournaments.list_tournaments(session)],
        filtered=any(form.values()))
    return page, 400 if error else 200
