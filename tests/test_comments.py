"""Discussion service: posting, replies, the edit window, deleting, admin hiding, the
thread's pages and order, the hidden crowd and reply notifications."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forecasts import timeutil
from forecasts.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from forecasts.models import DRAFT, Notification
from forecasts.services import comment_thread, comments
from forecasts.services.forecasts import submit_forecast
from tests.builders import make_question, make_user


def _open(session, slug="talk-open", hide=False):
    now = timeutil.now()
    q = make_question(session, slug=slug, open_at=timeutil.iso(now - timedelta(days=10)),
                      close_at=timeutil.iso(now + timedelta(days=100)))
    q.hide_crowd_until_forecast = hide
    session.flush()
    return q


@pytest.fixture
def talk(session):
    users = {n: make_user(session, n) for n in ("alice", "bob")}
    users["root"] = make_user(session, "root", role="admin")
    return _open(session), users


def test_post_and_reply_and_body_rules(session, talk):
    q, u = talk
    top = comments.post_comment(session, q, u["alice"], "First **point**")
    reply = comments.post_comment(session, q, u["bob"], "A reply", parent_id=top.id)
    assert reply.parent_id == top.id and reply.question_id == q.id
    for bad, where in (("", "body"), ("   ", "body"), ("x" * 10_001, "body"), ("a\x00b", "body"),
                       (5, "body")):
        with pytest.raises(InvalidInput) as error:
            comments.post_comment(session, q, u["alice"], bad)
        assert error.value.where == where
    assert comments.post_comment(session, q, u["alice"], "x" * 10_000)
    other = _open(session, "talk-other")
    elsewhere = comments.post_comment(session, other, u["bob"], "over there")
    with pytest.raises(InvalidInput, match="no comment") as error:
        comments.post_comment(session, q, u["alice"], "hi", parent_id=elsewhere.id)
    assert error.value.where == "parent_id"
    comments.delete_comment(session, top, u["alice"])
    with pytest.raises(InvalidInput, match="deleted"):
        comments.post_comment(session, q, u["bob"], "late", parent_id=top.id)


def test_drafts_and_deactivated_users_take_no_comments(session, talk):
    q, u = talk
    draft = _open(session, "talk-draft")
    draft.review_state = DRAFT
    with pytest.raises(Conflict, match="published"):
        comments.post_comment(session, draft, u["alice"], "hi")
    u["bob"].deactivated_at = timeutil.now()
    with pytest.raises(PermissionDenied, match="deactivated"):
        comments.post_comment(session, q, u["bob"], "hi")


def test_edit_within_15_minutes_by_its_author_only(session, talk):
    q, u = talk
    posted = timeutil.now() - timedelta(minutes=10)
    c = comments.post_comment(session, q, u["alice"], "draft text", now=posted)
    with pytest.raises(PermissionDenied, match="author"):
        comments.edit_comment(session, c, u["bob"], "mine now", now=posted)
    edited_at = posted + timedelta(minutes=14, seconds=59)
    comments.edit_comment(session, c, u["alice"], "better text", now=edited_at)
    assert c.body == "better text" and c.edited_at == edited_at
    with pytest.raises(Conflict, match="15 minutes"):
        comments.edit_comment(session, c, u["alice"], "too late", now=posted + timedelta(minutes=15))
    assert c.body == "better text"
    assert not comments.can_edit(c, u["alice"], posted + timedelta(minutes=15))
    assert comments.can_edit(c, u["alice"], posted + timedelta(minutes=1))


def test_rationale_comments_are_edited_and_deleted_like_others(session, talk):
    q, u = talk
    f = submit_forecast(session, q, u["alice"], probability=0.35, rationale="base rates")
    c = session.scalar(select(comments.Comment).where(comments.Comment.forecast_id == f.id))
    comments.edit_comment(session, c, u["alice"], "base rates, revised")
    assert c.edited_at is not None and f.rationale == "base rates"
    comments.delete_comment(session, c, u["alice"])
    assert c.body == "" and c.deleted_at is not None


def test_deleted_is_kept_where_it_has_replies_and_omitted_otherwise(session, talk):
    q, u = talk
    lone = comments.post_comment(session, q, u["alice"], "lone")
    parent = comments.post_comment(session, q, u["alice"], "parent")
    comments.post_comment(session, q, u["bob"], "child", parent_id=parent.id)
    with pytest.raises(PermissionDenied):
        comments.delete_comment(session, parent, u["bob"])
    for c in (lone, parent):
        comments.delete_comment(session, c, u["alice"])
    with pytest.raises(Conflict):
        comments.delete_comment(session, lone, u["alice"])
    page = comment_thread.thread_page(session, q, None)
    shown = [(e.comment.id, e.show_body, e.depth) for e in page.entries]
    assert shown[0] == (parent.id, False, 0) and len(shown) == 2 and shown[1][2] == 1
    assert lone.id not in {i for i, _, _ in shown} and page.total == 1
    with pytest.raises(NotFound):
        comment_thread.locate(session, q, None, lone.id)


def test_admin_hides_with_a_reason_and_unhides(session, talk):
    q, u = talk
    c = comments.post_comment(session, q, u["alice"], "rude words")
    with pytest.raises(PermissionDenied):
        comments.hide_comment(session, c, u["bob"], "spam")
    with pytest.raises(InvalidInput) as error:
        comments.hide_comment(session, c, u["root"], "  ")
    assert error.value.where == "reason"
    comments.hide_comment(session, c, u["root"], "off topic")
    assert (c.hidden_by, c.hidden_reason, c.body) == ("root", "off topic", "rude words")
    as_bob = comment_thread.thread_page(session, q, u["bob"]).entries[0]
    as_root = comment_thread.thread_page(session, q, u["root"]).entries[0]
    assert not as_bob.show_body and as_root.show_body
    assert comment_thread.feed_entries(session, q) == []
    comments.unhide_comment(session, c, u["root"])
    assert c.hidden_at is None and comment_thread.thread_page(session, q, u["bob"]).entries[0].show_body


def test_pages_of_50_top_level_comments_in_either_order(session, talk):
    q, u = talk
    start = timeutil.now() - timedelta(hours=2)
    tops = [comments.post_comment(session, q, u["alice"], f"c{i}", now=start + timedelta(seconds=i))
            for i in range(53)]
    replies = [comments.post_comment(session, q, u["bob"], f"r{i}", parent_id=tops[0].id,
                                     now=start + timedelta(minutes=5, seconds=i)) for i in range(2)]
    deep = replies[0]
    for level in range(4):
        deep = comments.post_comment(session, q, u["alice"], f"d{level}", parent_id=deep.id,
                                     now=start + timedelta(minutes=10 + level))
    first = comment_thread.thread_page(session, q, None)
    assert (first.pages, first.total, first.order) == (2, 53, "newest")
    assert [e.comment.body for e in first.entries[:2]] == ["c52", "c51"]
    second = comment_thread.thread_page(session, q, None, page=2)
    bodies = [e.comment.body for e in second.entries]
    assert bodies == ["c2", "c1", "c0", "r0", "d0", "d1", "d2", "d3", "r1"]
    assert [e.depth for e in second.entries[3:]] == [1, 2, 3, 3, 3, 1]
    oldest = comment_thread.thread_page(session, q, None, order="oldest", page=9)
    assert oldest.page == 2 and [e.comment.body for e in oldest.entries] == ["c50", "c51", "c52"]
    assert comment_thread.locate(session, q, None, deep.id) == 2
    assert comment_thread.locate(session, q, None, tops[52].id) == 1
    with pytest.raises(InvalidInput):
        comment_thread.check_order("sideways")


def test_a_reply_notifies_the_parents_author_once(session, talk):
    q, u = talk
    top = comments.post_comment(session, q, u["alice"], "question?")
    comments.post_comment(session, q, u["alice"], "self reply", parent_id=top.id)
    reply = comments.post_comment(session, q, u["bob"], "an answer " * 40, parent_id=top.id)
    rows = session.scalars(select(Notification)).all()
    assert len(rows) == 1
    n = rows[0]
    assert (n.user_id, n.kind, n.key, n.comment_id) == (u["alice"].id, "reply", f"reply:{reply.id}",
                                                       reply.id)
    assert n.payload["author"] == "bob" and n.payload["question"] == q.slug
    assert n.payload["comment_id"] == reply.id and len(n.payload["excerpt"]) <= 200
    comments._notify_reply(session, q, top, reply, u["bob"])  # recorded again: still one
    assert session.scalar(select(func.count()).select_from(Notification)) == 1


def test_hidden_crowd_withholds_others_rationales_and_numbers(session):
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    q = _open(session, "talk-hidden", hide=True)
    f = submit_forecast(session, q, bob, probability=0.35, rationale="secret reasoning")
    rationale = session.scalar(select(comments.Comment).where(comments.Comment.forecast_id == f.id))
    under = comments.post_comment(session, q, bob, "more on 35%", parent_id=rationale.id)
    comments.post_comment(session, q, bob, "plain comment")
    for viewer in (None, alice):
        shown = [e.comment.body for e in comment_thread.thread_page(session, q, viewer).entries]
        assert shown == ["plain comment"]
        with pytest.raises(NotFound):
            comments.get_comment(session, under.id, viewer=viewer)
    with pytest.raises(InvalidInput):
        comments.post_comment(session, q, alice, "guess", parent_id=rationale.id)
    own = [e for e in comment_thread.thread_page(session, q, bob).entries if e.forecast]
    assert own[0].forecast.probability == 0.35
    submit_forecast(session, q, alice, probability=0.5)
    seen = comment_thread.thread_page(session, q, alice).entries
    assert {e.comment.body for e in seen} >= {"secret reasoning", "more on 35%"}
    assert [e.forecast.probability for e in seen if e.forecast] == [0.35]
