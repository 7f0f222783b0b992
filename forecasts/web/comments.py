"""Discussion on question pages: comments, replies, edits, hiding, the Atom feed."""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from forecasts.services.paging import page_number
from forecasts import markdown, timeutil
from forecasts.db import get_session
from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import Comment, Question, Resolution, User
from forecasts.services import comment_thread, comments
from forecasts.services import questions as question_service
from forecasts.web.format import percent

bp = Blueprint("comments", __name__)


def _user() -> User | None:
    return current_user.user if current_user.is_authenticated else None


def thread_context(session: Session, question: Question, user: User | None,
                   resolution: Resolution | None, now: Any, *,
                   has_forecast: bool | None = None) -> dict[str, Any]:
    """The question page's discussion: a page of the thread (?page=, ?order=) and which
    of its comments the viewer may edit."""
    thread = comment_thread.thread_page(
        session, question, user, page=page_number(request.args.get("page", "")),
        order=comment_thread.check_order(request.args.get("order")), resolution=resolution,
        has_forecast=has_forecast)
    editable = {e.comment.id for e in thread.entries if comments.can_edit(e.comment, user, now)}
    return {"thread": thread, "editable": editable,
            "may_comment": user is not None and user.active}


@bp.app_template_filter("forecast_words")
def forecast_words(forecast: Any, question: Question) -> str:
    """A rationale's forecast in words: "35.0%" (of yes), or each option's chance."""
    if question.continuous:
        from forecasts.web.numeric_view import forecast_text
        return forecast_text(question, forecast)
    if question.kind == "binary":
        return percent(forecast.probability)
    return " · ".join(f"{label} {percent(p)}"
                      for label, p in zip(question.options, forecast.probabilities))


def _question(slug: str) -> Question:
    return question_service.get_question(get_session(), slug)


def _located(session: Session, question: Question, comment_id: int) -> str:
    """The thread page holding the comment, with its anchor."""
    page = comment_thread.locate(session, question, _user(), comment_id)
    return url_for("questions.detail", slug=question.slug, **({"page": page} if page > 1 else {})) \
        + f"#comment-{comment_id}"


def _act(slug: str, action: Callable[[Session, Question, User], Comment | None],
         form: dict[str, Any]) -> Any:
    """Run a comment action and commit; a refusal shows the page again with the text kept
    and the error next to the form it came from."""
    # Imported here: question_page imports this module for thread_context.
    from forecasts.web.question_page import question_context

    session = get_session()
    question = _question(slug)
    try:
        comment = action(session, question, current_user.user)
    except (InvalidInput, Conflict) as error:
        session.rollback()
        context = question_context(session, question, current_user.user, timeutil.now())
        return render_template("questions/detail.html", **context,
                               comment_form={**form, "error": str(error.message),
                                             "where": error.where}), error.status
    session.commit()
    try:
        target = _located(session, question, comment.id) if comment else None
    except NotFound:  # deleted with nothing under it: no longer shown
        target = None
    return redirect(target or url_for("questions.detail", slug=slug) + "#discussion", code=303)


def _comment(session: Session, question: Question, comment_id: int) -> Comment:
    return comments.get_comment(session, comment_id, question=question, viewer=_user())


@bp.post("/questions/<slug>/comments")
@login_required
def post(slug: str):
    """A new comment, or a reply when the form names `parent_id`."""
    body, parent = request.form.get("body", ""), request.form.get("parent_id", "").strip()
    return _act(slug, lambda s, q, u: comments.post_comment(s, q, u, body,
                                                            parent_id=parent or None),
                {"action": "reply" if parent else "post", "target": parent, "body": body})


@bp.post("/questions/<slug>/comments/<int:comment_id>/edit")
@login_required
def edit(slug: str, comment_id: int):
    """Replace the body of one's own comment (within 15 minutes of posting it)."""
    body = request.form.get("body", "")
    return _act(slug, lambda s, q, u: comments.edit_comment(s, _comment(s, q, comment_id), u,
                                                            body),
                {"action": "edit", "target": str(comment_id), "body": body})


@bp.post("/questions/<slug>/comments/<int:comment_id>/delete")
@login_required
def delete(slug: str, comment_id: int):
    """Delete one's own comment (its place in the thread stays while it has replies)."""
    return _act(slug, lambda s, q, u: comments.delete_comment(s, _comment(s, q, comment_id), u),
                {"action": "delete", "target": str(comment_id)})


@bp.post("/questions/<slug>/comments/<int:comment_id>/hide")
@login_required
def hide(slug: str, comment_id: int):
    """An admin hides a comment, with a reason everyone sees."""
    reason = request.form.get("reason", "")
    return _act(slug, lambda s, q, u: comments.hide_comment(s, _comment(s, q, comment_id), u,
                                                            reason),
                {"action": "hide", "target": str(comment_id), "reason": reason})


@bp.post("/questions/<slug>/comments/<int:comment_id>/unhide")
@login_required
def unhide(slug: str, comment_id: int):
    """An admin shows a hidden comment again."""
    return _act(slug, lambda s, q, u: comments.unhide_comment(s, _comment(s, q, comment_id), u),
                {"action": "unhide", "target": str(comment_id)})


@bp.get("/questions/<slug>/comments/<int:comment_id>")
def permalink(slug: str, comment_id: int):
    """The page of the thread that shows the comment, at its anchor."""
    session = get_session()
    return redirect(_located(session, _question(slug), comment_id), code=302)


@bp.get("/questions/<slug>/comments.atom")
def feed(slug: str):
    """The newest comments as an Atom feed, as a logged-out visitor sees them."""
    session = get_session()
    question = _question(slug)
    entries = comment_thread.feed_entries(session, question)
    items = [{"entry": e, "html": markdown.to_html(e.comment.body),
              "forecast": e.forecast and forecast_words(e.forecast, question),
              "url": url_for("comments.permalink", slug=slug, comment_id=e.comment.id,
                             _external=True)} for e in entries]
    updated = max((e.comment.edited_at or e.comment.created_at for e in entries),
                  default=question.created_at)
    xml = render_template("comments/feed.xml", question=question, items=items, updated=updated)
    return Response(xml, mimetype="application/atom+xml")
