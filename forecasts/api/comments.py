"""Comments on a question: list (public, hidden-crowd aware), post, edit, delete."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.api import auth, paging, params
from forecasts.api.blueprint import bp
from forecasts.api.questions import find
from forecasts.db import get_session
from forecasts.models import Question, User
from forecasts.services import comment_thread, comments
from forecasts.services.comment_thread import Entry

PRIVATE = {"Cache-Control": "no-store"}


def _viewer(session: Session) -> User | None:
    # Reads are public; a token, when sent, must be good and decides the hidden crowd.
    if not request.headers.get(auth.HEADER, "").strip():
        return None
    return auth.authenticated_user(session, write=False)


def comment_json(entry: Entry, question: Question) -> dict[str, Any]:
    """A comment as the API shows it: `body` is null when deleted or hidden from you."""
    c, f = entry.comment, entry.forecast
    return {
        "id": c.id, "question": question.slug, "parent_id": c.parent_id, "user": c.user.username,
        "body": c.body if entry.show_body else None,
        "created_at": timeutil.iso(c.created_at), "edited_at": timeutil.iso(c.edited_at),
        "deleted": c.deleted_at is not None,
        "hidden_reason": c.hidden_reason if c.hidden_at is not None else None,
        "forecast": None if f is None else {"id": f.id, "at": timeutil.iso(f.at),
                                            "probability": f.probability,
                                            "probabilities": None if f.cdf is not None
                                            else f.probabilities},
        "html_url": url_for("comments.permalink", slug=question.slug, comment_id=c.id,
                            _external=True),
    }


def _one(session: Session, question: Question, comment_id: int, user: User) -> dict[str, Any]:
    thread = comment_thread.skeleton(session, question, user)
    comment = comments.get_comment(session, comment_id, question=question, viewer=user)
    placed = [(comment.id, 0)]
    if comment.id not in thread.nodes:  # deleted with nothing under it: shown only here
        thread.nodes[comment.id] = comment_thread.Node(
            comment.id, comment.parent_id, comment.user_id, comment.forecast_id, True,
            comment.hidden_at is not None, comment.created_at)
    return comment_json(comment_thread.entries(session, thread, placed, user)[0], question)


@bp.get("/questions/<slug>/comments", merge_slashes=False)
def comment_list(slug: str) -> tuple[Response, dict[str, str]]:
    """A page of the question's comments and replies, newest first."""
    args = params.query("listComments")
    page = paging.page_request(args, "comments")
    session = get_session()
    user = _viewer(session)
    question = find(session, slug)
    before = None
    if page.after is not None:
        before = (timeutil.from_micros(page.after[0]), page.after[1])
    rows, more = comment_thread.listing(session, question, user, limit=page.limit,
                                        offset=page.offset, before=before)
    next_cursor = None
    if more and rows:
        last = rows[-1].comment
        next_cursor = paging.encode_cursor("comments",
                                           after=[timeutil.to_micros(last.created_at), last.id])
    doc = paging.page([comment_json(e, question) for e in rows], page.limit, next_cursor)
    return jsonify(doc), PRIVATE if user is not None else {}


@bp.post("/questions/<slug>/comments", merge_slashes=False)
def comment_post(slug: str) -> tuple[Response, int, dict[str, str]]:
    """Post a comment, or a reply with `parent_id`: 201 with the stored comment."""
    session = get_session()
    user = auth.authenticated_user(session, write=True)
    params.query("postComment")
    question = find(session, slug)
    body = params.json_body("postComment")
    comment = comments.post_comment(session, question, user, body.get("body"),
                                    parent_id=body.get("parent_id"))
    session.commit()
    return jsonify(_one(session, question, comment.id, user)), 201, PRIVATE


def _own(session: Session, raw_id: str, operation: str) -> tuple[User, Question, int]:
    user = auth.authenticated_user(session, write=True)
    params.query(operation)
    comment = comments.get_comment(session, comments.parse_id(raw_id), viewer=user)
    return user, session.get(Question, comment.question_id), comment.id


@bp.patch("/comments/<comment_id>", merge_slashes=False)
def comment_edit(comment_id: str) -> tuple[Response, dict[str, str]]:
    """Replace your comment's body, within 15 minutes of posting it."""
    session = get_session()
    user, question, found = _own(session, comment_id, "editComment")
    body = params.json_body("editComment")
    comments.edit_comment(session, comments.get_comment(session, found), user, body.get("body"))
    session.commit()
    return jsonify(_one(session, question, found, user)), PRIVATE


@bp.delete("/comments/<comment_id>", merge_slashes=False)
def comment_delete(comment_id: str) -> tuple[Response, dict[str, str]]:
    """Delete your comment: 200 with what remains (no body)."""
    session = get_session()
    user, question, found = _own(session, comment_id, "deleteComment")
    comments.delete_comment(session, comments.get_comment(session, found), user)
    session.commit()
    return jsonify(_one(session, question, found, user)), PRIVATE
