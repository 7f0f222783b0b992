"""Questions: list, detail and scores."""
from __future__ import annotations

from flask import Response, current_app, jsonify, request
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.api import paging, params
from forecasts.api.auth import HEADER, authenticated_user
from forecasts.api.blueprint import bp
from forecasts.api.render import question_detail_json, question_json
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import Question, User
from forecasts.services import questions, scores, visibility
from forecasts.services.question_stats import stats_of
from forecasts.services import question_list as listing


def viewer(session: Session) -> User | None:
    """Whose crowd view a read gets: the token's user when the request carries a token
    (a bad one is refused), otherwise a logged-out viewer."""
    if not request.headers.get(HEADER, "").strip():
        return None
    return authenticated_user(session, write=False)


def find(session: Session, slug: str, *, tags: bool = True) -> Question:
    """The question with this slug; 404 for an unknown or malformed slug."""
    if not questions.SLUG.match(slug):
        raise NotFound(f"no question with slug {slug[:100]!r}", where="question")
    return questions.get_question(session, slug, tags=tags)


@bp.get("/questions", merge_slashes=False)
def question_list() -> Response:
    """A page of questions, filtered and sorted, each with its crowd; `mine`, `unforecast`
    and `stale` filter by the token user's own forecasts."""
    args = params.query("listQuestions")
    page = paging.page_request(args, "questions")
    own = [name for name in listing.OWN_FILTERS if args[name]]
    if len(own) > 1:
        raise InvalidInput(f"give at most one of {', '.join(listing.OWN_FILTERS)}",
                           where=own[1])
    session = get_session()
    user = authenticated_user(session, write=False) if own else viewer(session)
    rows = listing.list_questions(
        session, now=timeutil.now(), status=args["status"], tag=args["tag"],
        search=args["q"], sort=args["sort"], user=user, own=own[0] if own else None,
        stale_days=current_app.config["STALE_DAYS"], limit=page.limit + 1, offset=page.offset)
    more, rows = len(rows) > page.limit, rows[:page.limit]
    items = [question_json(row.question, row.resolution, row.status,
                           (row.crowd, row.forecasters), hidden=row.crowd_hidden)
             for row in rows]
    next_cursor = paging.encode_cursor("questions", offset=page.offset + page.limit) \
        if more else None
    return jsonify(paging.page(items, page.limit, next_cursor))


@bp.get("/questions/<slug>", merge_slashes=False)
def question(slug: str) -> Response:
    """One question with its description, rule and crowd (null while it is hidden from
    the viewer)."""
    params.query("getQuestion")
    session = get_session()
    found, now = find(session, slug), timeutil.now()
    user = viewer(session)
    resolution = questions.current_resolution(session, found)
    status = questions.question_status(found, resolution, now)
    stats = stats_of(session, found)
    shown = visibility.crowd_visible(session, found, user, resolution=resolution, now=now)
    return jsonify(question_detail_json(found, resolution, status,
                                        (stats.crowd if shown else None, stats.forecasters),
                                        hidden=not shown))


@bp.get("/questions/<slug>/scores", merge_slashes=False)
def question_scores(slug: str) -> Response:
    """The `forecasts scores SLUG --format json` document; 409 while unsettled."""
    params.query("getQuestionScores")
    session = get_session()
    doc = scores.question_scores(session, find(session, slug))
    if doc is None:
        raise Conflict(f"question {slug!r} is not resolved yet; scores come with its "
                       "resolution", where="question")
    return jsonify(doc)
