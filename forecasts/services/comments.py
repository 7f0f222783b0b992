"""Discussion: threaded comments on questions, and what their authors and admins may do.

A forecast's rationale is a comment too, marked with the forecast it came with
(`forecast_id`), written in the forecast's transaction. Nothing is deleted: deleting
blanks the body and sets `deleted_at`; an admin's hiding keeps the body. The thread as a
viewer sees it is forecasts.services.comment_thread.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.bulk import chunks
from forecasts.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forecasts.models import PUBLISHED, Comment, Forecast, Question, User
from forecasts.services import notifications, visibility
from forecasts.services.text import check_storable

MAX_BODY = 10_000
MAX_REASON = 500
EDIT_WINDOW = timedelta(minutes=15)
EXCERPT = 200
_MAX_ID = 2 ** 31 - 1  # ids are 32-bit INTEGER columns on PostgreSQL


def from_forecast(session: Session, forecast: Forecast) -> Comment | None:
    """The comment carrying a new forecast's rationale (None without a rationale)."""
    if not forecast.rationale:
        return None
    comment = Comment(question_id=forecast.question_id, user_id=forecast.user_id,
                      forecast_id=forecast.id, body=forecast.rationale, created_at=forecast.at)
    session.add(comment)
    session.flush()
    return comment


def from_rationales(session: Session, question_ids: Sequence[int]) -> None:
    """After a bulk load of forecasts: a comment for each rationale of these questions
    that has none yet."""
    has_one = exists().where(Comment.forecast_id == Forecast.id)
    for ids in chunks(list(question_ids)):
        source = (select(Forecast.question_id, Forecast.user_id, Forecast.id, Forecast.rationale,
                         Forecast.at)
                  .where(and_(Forecast.question_id.in_(ids), Forecast.rationale.is_not(None)),
                         ~has_one)
                  .order_by(Forecast.id))
        session.execute(insert(Comment).from_select(
            ["question_id", "user_id", "forecast_id", "body", "created_at"], source))


def check_body(value: object, *, where: str = "body") -> str:
    """A comment's Markdown text: 1 to MAX_BODY characters, not only spaces, storable."""
    if not isinstance(value, str):
        raise InvalidInput("must be text", where=where)
    if not value.strip():
        raise InvalidInput("is empty; write something", where=where)
    if len(value) > MAX_BODY:
        raise InvalidInput(f"is longer than {MAX_BODY:,} characters ({len(value):,})",
                           where=where)
    return check_storable(value, where=where)


def parse_id(raw: object, *, where: str = "comment") -> int:
    """A comment id from a URL or a body; NotFound for anything that cannot be one."""
    text = str(raw).strip()
    if not text.isdigit() or len(text) > 10 or not 0 < int(text) <= _MAX_ID:
        raise NotFound(f"no comment {text[:20]!r}", where=where)
    return int(text)


def _may_write(user: User) -> None:
    if not user.active:
        raise PermissionDenied("a deactivated account cannot take part in discussions",
                               where="user")


def get_comment(session: Session, comment_id: int, *, question: Question | None = None,
                viewer: User | None = None) -> Comment:
    """The comment with this id (on `question`, when given), on a published question;
    a rationale withheld from `viewer` by the hidden crowd is "not found" to them."""
    comment = session.get(Comment, comment_id)
    if comment is None or (question is not None and comment.question_id != question.id):
        raise NotFound(f"no comment {comment_id}" + (f" on {question.slug!r}" if question else ""),
                       where="comment")
    on = question or session.get(Question, comment.question_id)
    if on is None or on.review_state != PUBLISHED or withheld(session, comment, on, viewer):
        raise NotFound(f"no comment {comment_id}", where="comment")
    return comment


def withheld(session: Session, comment: Comment, question: Question, viewer: User | None) -> bool:
    """True when the hidden crowd keeps this comment from `viewer`: another user's
    rationale, or a reply somewhere under one."""
    node: Comment | None = comment
    crowd_shown: bool | None = None
    while node is not None:
        if node.forecast_id is not None and (viewer is None or node.user_id != viewer.id):
            if crowd_shown is None:
                crowd_shown = visibility.crowd_visible(session, question, viewer)
            if not crowd_shown:
                return True
        node = session.get(Comment, node.parent_id) if node.parent_id is not None else None
    return False


def post_comment(session: Session, question: Question, user: User, body: object, *,
                 parent_id: object = None, now: datetime | None = None) -> Comment:
    """A new comment, or a reply to `parent_id` (a comment of the same question, not
    deleted, that the user can see); a reply to someone else tells them."""
    text = check_body(body)
    _may_write(user)
    if question.review_state != PUBLISHED:
        raise Conflict(f"question {question.slug!r} is a {question.review_state} proposal; "
                       "only published questions take comments", where="question")
    parent = None
    if parent_id is not None:
        if isinstance(parent_id, bool) or not isinstance(parent_id, (int, str)):
            raise InvalidInput("must be a comment id", where="parent_id")
        try:
            parent = get_comment(session, parse_id(parent_id, where="parent_id"),
                                 question=question, viewer=user)
        except NotFound:
            raise InvalidInput(f"no comment {str(parent_id)[:20]!r} on {question.slug!r} to "
                               "reply to", where="parent_id") from None
        if parent.deleted_at is not None:
            raise InvalidInput(f"comment {parent.id} was deleted; it takes no replies",
                               where="parent_id")
    comment = Comment(question_id=question.id, user_id=user.id, body=text,
                      parent_id=parent.id if parent else None,
                      created_at=now or timeutil.now())
    session.add(comment)
    session.flush()
    if parent is not None and parent.user_id != user.id:
        _notify_reply(session, question, parent, comment, user)
    return comment


def _notify_reply(session: Session, question: Question, parent: Comment, reply: Comment,
                  author: User) -> None:
    excerpt = " ".join(reply.body.split())
    if len(excerpt) > EXCERPT:
        excerpt = excerpt[:EXCERPT - 1] + "…"
    notifications.record(session, parent.user, "reply", f"reply:{reply.id}",
                         question_id=question.id, comment_id=reply.id,
                         payload={"question": question.slug, "title": question.title,
                                  "comment_id": reply.id, "author": author.username,
                                  "excerpt": excerpt})


def _own(comment: Comment, user: User, doing: str) -> None:
    _may_write(user)
    if comment.user_id != user.id:
        raise PermissionDenied(f"only its author may {doing} comment {comment.id}",
                               where="comment")
    if comment.deleted_at is not None:
        raise Conflict(f"comment {comment.id} was deleted", where="comment")


def editable_until(comment: Comment) -> datetime:
    """The end of the author's window for editing."""
    return comment.created_at + EDIT_WINDOW


def can_edit(comment: Comment, user: User | None, now: datetime) -> bool:
    """Whether `user` may edit the comment now (its author, within the window)."""
    return (user is not None and user.active and comment.user_id == user.id
            and comment.deleted_at is None and now < editable_until(comment))


def edit_comment(session: Session, comment: Comment, user: User, body: object, *,
                 now: datetime | None = None) -> Comment:
    """Replace the body of one's own comment, within EDIT_WINDOW of posting it."""
    text = check_body(body)
    _own(comment, user, "edit")
    now = now or timeutil.now()
    if now >= editable_until(comment):
        minutes = int(EDIT_WINDOW.total_seconds() // 60)
        raise Conflict(f"comment {comment.id} can only be edited in the {minutes} minutes "
                       "after it was posted", where="comment")
    if text != comment.body:
        comment.body, comment.edited_at = text, now
        session.flush()
    return comment


def delete_comment(session: Session, comment: Comment, user: User, *,
                   now: datetime | None = None) -> Comment:
    """Delete one's own comment: the row stays (replies keep their place), its body goes."""
    _own(comment, user, "delete")
    comment.body, comment.deleted_at = "", now or timeutil.now()
    session.flush()
    return comment


def _admin(user: User) -> None:
    _may_write(user)
    if not user.is_admin:
        raise PermissionDenied("only an admin may hide or unhide comments", where="user")


def hide_comment(session: Session, comment: Comment, admin: User, reason: object, *,
                 now: datetime | None = None) -> Comment:
    """An admin hides a comment from everyone else, with a reason shown in its place."""
    _admin(admin)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("give a reason for hiding the comment", where="reason")
    reason = check_storable(reason.strip(), where="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"is longer than {MAX_REASON} characters", where="reason")
    comment.hidden_at, comment.hidden_by, comment.hidden_reason = \
        now or timeutil.now(), admin.username, reason
    session.flush()
    return comment


def unhide_comment(session: Session, comment: Comment, admin: User) -> Comment:
    """An admin shows a hidden comment again."""
    _admin(admin)
    comment.hidden_at = comment.hidden_by = comment.hidden_reason = None
    session.flush()
    return comment
