"""The discussion's skeleton kept per process: every change to a question's comments
(one added, deleted, hidden, shown again) is seen by the next read, a viewer who may not
see the crowd never gets the shared tree, and two databases never share entries."""
from __future__ import annotations

from datetime import timedelta

from forecasts import timeutil
from forecasts.services import comment_thread, comments
from forecasts.services.forecasts import submit_forecast
from forecasts.services.questions import create_question
from tests.builders import SHOW_CROWD, make_user, question_data


def _open(session, slug: str, **extra):
    now = timeutil.now()
    return create_question(session, question_data(
        slug=slug, open_at=timeutil.iso(now - timedelta(days=1)),
        close_at=timeutil.iso(now + timedelta(days=30)), **extra))


def _shown(session, question, viewer=None) -> dict[int, bool]:
    tree = comment_thread.skeleton(session, question, viewer)
    return {i: n.hidden for i, n in tree.nodes.items()}


def test_every_change_is_seen_by_the_next_read(session):
    q = _open(session, "cached", **SHOW_CROWD)
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    admin = make_user(session, "root", role="admin")
    first = comments.post_comment(session, q, alice, "first")
    session.commit()
    assert _shown(session, q) == {first.id: False}
    assert _shown(session, q) == {first.id: False}  # from the cache
    reply = comments.post_comment(session, q, bob, "a reply", parent_id=first.id)
    session.commit()
    assert _shown(session, q) == {first.id: False, reply.id: False}
    comments.hide_comment(session, reply, admin, "off topic")
    session.commit()
    assert _shown(session, q) == {first.id: False, reply.id: True}
    comments.unhide_comment(session, reply, admin)
    session.commit()
    assert _shown(session, q) == {first.id: False, reply.id: False}
    comments.delete_comment(session, reply, bob)
    session.commit()
    assert _shown(session, q) == {first.id: False}  # a deleted leaf is not shown
    # The caller's copy may be changed without touching the kept tree.
    comment_thread.skeleton(session, q, None).nodes.clear()
    assert _shown(session, q) == {first.id: False}


def test_a_withheld_rationale_stays_withheld_after_the_tree_is_kept(session):
    q = _open(session, "hidden", hide_crowd_until_forecast=True)
    alice, carol = make_user(session, "alice"), make_user(session, "carol")
    submit_forecast(session, q, alice, probability=0.7, rationale="my reasons")
    session.commit()
    # Alice forecast it: she sees the crowd, and the shared tree with her rationale is kept.
    assert len(_shown(session, q, alice)) == 1
    assert _shown(session, q, carol) == {}
    assert _shown(session, q, None) == {}


def test_two_databases_never_share_entries(session, tmp_path):
    from forecasts import migrate
    from forecasts.db import Database

    q = _open(session, "one", **SHOW_CROWD)
    alice = make_user(session, "alice")
    at = timeutil.now()  # the same time in both: the fingerprints alone would not differ
    kept = comments.post_comment(session, q, alice, "in the first database", now=at)
    session.commit()
    assert set(_shown(session, q)) == {kept.id}
    other = Database(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    migrate.upgrade(other)
    try:
        with other.session() as elsewhere:
            q2 = _open(elsewhere, "one", **SHOW_CROWD)
            assert q2.id == q.id
            make_user(elsewhere, "someone")
            bob = make_user(elsewhere, "bob")
            elsewhere.flush()
            assert bob.id != alice.id
            there = comments.post_comment(elsewhere, q2, bob, "in the second", now=at)
            elsewhere.commit()
            tree = comment_thread.skeleton(elsewhere, q2, None)
            assert {n.user_id for n in tree.nodes.values()} == {bob.id}
            assert set(tree.nodes) == {there.id}
    finally:
        other.dispose()
