"""Forecasts: submit one (token needed), list your own."""
from __future__ import annotations

from flask import Response, current_app, jsonify

from forecasts import timeutil
from forecasts.api import auth, paging, params
from forecasts.api.blueprint import bp
from forecasts.api.questions import find
from forecasts.api.render import forecast_json
from forecasts.db import get_db, get_session
from forecasts.services import aggregation, forecasts, tokens

# Answers carrying one user's data must not sit in a shared cache.
PRIVATE = {"Cache-Control": "no-store"}


@bp.post("/questions/<slug>/forecasts", merge_slashes=False)
def submit(slug: str) -> tuple[Response, int, dict[str, str]]:
    """Record a forecast now on an open question: 201 with the stored forecast."""
    # Everything that can refuse the request without writing is done before the write
    # transaction, which on SQLite holds the single write lock.
    session = get_session(write=False)
    token = auth.authenticated_token(session)
    user = token.user
    params.query("submitForecast")
    question = find(session, slug, tags=False)
    body = params.json_body("submitForecast")
    checked = forecasts.check_forecast(
        question, probability=body.get("probability"), probabilities=body.get("probabilities"),
        cdf=body.get("cdf"), quantiles=body.get("quantiles"), rationale=body.get("rationale"))
    get_db().begin_writing(session)
    tokens.touch_token(token)
    try:
        forecast = forecasts.record_forecast(
            session, question, user, checked,
            aggregator=aggregation.configured(current_app.config))
    except forecasts.JustSettled:
        session.commit()  # the settlement stands although the forecast is refused (409)
        raise
    session.commit()
    return jsonify(forecast_json(forecast, question=question.slug, user=user.username)), 201, \
        PRIVATE


@bp.get("/me/forecasts", merge_slashes=False)
def my_forecasts() -> tuple[Response, dict[str, str]]:
    """A page of your forecasts, newest first, optionally on one question."""
    session = get_session()
    user = auth.authenticated_user(session, write=False)
    args = params.query("listMyForecasts")
    page = paging.page_request(args, "forecasts")
    question = find(session, args["question"]) if args["question"] else None
    before = None
    if page.after is not None:
        before = (timeutil.from_micros(page.after[0]), page.after[1])
    rows = forecasts.forecasts_by_user(session, user, question=question, limit=page.limit + 1,
                                       offset=page.offset, before=before)
    more, rows = len(rows) > page.limit, rows[:page.limit]
    items = [forecast_json(f, question=f.question.slug, user=user.username) for f in rows]
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = paging.encode_cursor("forecasts",
                                           after=[timeutil.to_micros(last.at), last.id])
    return jsonify(paging.page(items, page.limit, next_cursor)), PRIVATE
