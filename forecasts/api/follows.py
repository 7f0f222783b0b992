"""Following questions (follow, unfollow, list what you follow) and reaffirming a forecast."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for

from forecasts import timeutil
from forecasts.api import auth, paging, params
from forecasts.api.blueprint import bp
from forecasts.api.forecasts import PRIVATE
from forecasts.api.questions import find
from forecasts.api.render import forecast_json
from forecasts.db import get_session
from forecasts.errors import InvalidInput
from forecasts.services import follows, my_forecasts
from forecasts.services.forecasts import JustSettled


def _set(slug: str, operation: str, following: bool) -> tuple[Response, dict[str, str]]:
    session = get_session()
    user = auth.authenticated_user(session, write=True)
    params.query(operation)
    question = find(session, slug)
    follows.set_following(session, user, question, following)
    session.commit()
    return jsonify({"question": question.slug, "following": following}), PRIVATE


@bp.put("/questions/<slug>/follow", merge_slashes=False)
def follow(slug: str) -> tuple[Response, dict[str, str]]:
    """Follow a question (idempotent)."""
    return _set(slug, "followQuestion", True)


@bp.delete("/questions/<slug>/follow", merge_slashes=False)
def unfollow(slug: str) -> tuple[Response, dict[str, str]]:
    """Stop following a question (idempotent); a later forecast does not follow it back."""
    return _set(slug, "unfollowQuestion", False)


@bp.get("/me/follows", merge_slashes=False)
def my_follows() -> tuple[Response, dict[str, str]]:
    """A page of the questions you follow, most recently followed first."""
    session = get_session()
    user = auth.authenticated_user(session, write=False)
    args = params.query("listMyFollows")
    page = paging.page_request(args, "follows")
    if page.after is not None:  # this list gives out offset cursors only
        raise InvalidInput("is not a cursor this list gave out; start again without it",
                           where="cursor")
    rows = follows.followed(session, user, now=timeutil.now(), limit=page.limit + 1,
                            offset=page.offset)
    more, rows = len(rows) > page.limit, rows[:page.limit]
    items: list[dict[str, Any]] = [{
        "question": row.question.slug, "title": row.question.title, "status": row.status,
        "since": timeutil.iso(row.since),
        "url": url_for("api.question", slug=row.question.slug, _external=True)}
        for row in rows]
    next_cursor = paging.encode_cursor("follows", offset=page.offset + page.limit) \
        if more else None
    return jsonify(paging.page(items, page.limit, next_cursor)), PRIVATE


@bp.post("/questions/<slug>/reaffirm", merge_slashes=False)
def reaffirm(slug: str) -> tuple[Response, int, dict[str, str]]:
    """Record your latest forecast on the question again now: 201 with the new forecast."""
    session = get_session()
    user = auth.authenticated_user(session, write=True)
    params.query("reaffirmForecast")
    question = find(session, slug)
    try:
        forecast = my_forecasts.reaffirm(session, question, user)
    except JustSettled:
        session.commit()  # the settlement stands although the forecast is refused (409)
        raise
    session.commit()
    return jsonify(forecast_json(forecast, question=question.slug, user=user.username)), 201, \
        PRIVATE
