"""tournaments.update (checked as create is), tournaments_of_question and page: the service
helpers behind the tournament pages."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from forecasts import timeutil
from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.services import resolution, tournaments
from forecasts.services.forecasts import submit_forecast
from tests.builders import make_question, make_user

START = datetime(2026, 1, 1, tzinfo=timeutil.UTC)
END = datetime(2026, 7, 1, tzinfo=timeutil.UTC)


def test_update_changes_the_details_and_keeps_the_slug(session):
    tournaments.create(session, "spring", "Spring", "old", start=START, end=END)
    changed = tournaments.update(session, "spring", title="  Spring season ", description="new",
                                 start=None, end=END + timedelta(days=1))
    session.commit()
    session.expire_all()
    again = tournaments.get(session, "spring")
    assert changed is again
    assert (again.slug, again.title, again.description, again.start_at, again.end_at) == (
        "spring", "Spring season", "new", None, END + timedelta(days=1))


@pytest.mark.parametrize("changes, where", [
    ({"title": ""}, "tournament.title"),
    ({"title": "x" * 301}, "tournament.title"),
    ({"start": END, "end": START}, "tournament.end"),
    ({"start": START, "end": START}, "tournament.end"),
    ({"description": "x" * (tournaments.MAX_DESCRIPTION + 1)}, "tournament.description"),
])
def test_update_and_create_refuse_the_same_input(session, changes, where):
    tournaments.create(session, "spring", "Spring", start=START, end=END)
    session.commit()
    details = {"title": "Spring", "description": "", "start": START, "end": END, **changes}
    with pytest.raises(InvalidInput) as refused:
        tournaments.update(session, "spring", **details)
    assert refused.value.where == where
    with pytest.raises(InvalidInput) as also:
        tournaments.create(session, "autumn", details["title"], details["description"],
                           start=details["start"], end=details["end"])
    assert also.value.where == where
    session.rollback()
    kept = tournaments.get(session, "spring")
    assert (kept.title, kept.start_at, kept.end_at) == ("Spring", START, END)
    assert tournaments.find(session, "autumn") is None


def test_create_refuses_a_reserved_or_taken_slug_and_update_an_unknown_one(session):
    tournaments.create(session, "spring", "Spring")
    with pytest.raises(InvalidInput, match="reserved"):
        tournaments.create(session, "new", "New")
    with pytest.raises(Conflict):
        tournaments.create(session, "spring", "Again")
    with pytest.raises(NotFound):
        tournaments.update(session, "autumn", title="Autumn")


def test_tournaments_of_question_by_title(session):
    q, other = make_question(session, slug="in-two"), make_question(session, slug="in-none")
    for slug, title in (("zeta", "Zeta cup"), ("alpha", "Alpha cup"), ("empty", "Empty")):
        tournaments.create(session, slug, title)
    tournaments.add_questions(session, "zeta", ["in-two"])
    tournaments.add_questions(session, "alpha", ["in-two"])
    assert [t.slug for t in tournaments.tournaments_of_question(session, q.id)] == ["alpha", "zeta"]
    assert tournaments.tournaments_of_question(session, other.id) == []


def test_page_counts_resolved_questions_and_the_viewers_membership(session):
    now = timeutil.now()
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    window = {"open_at": timeutil.iso(now - timedelta(days=60)),
              "close_at": timeutil.iso(now - timedelta(days=10))}
    settled = make_question(session, slug="settled", **window)
    annulled = make_question(session, slug="annulled", **window)
    make_question(session, slug="waiting", **window)
    for q in (settled, annulled):
        submit_forecast(session, q, alice, probability=0.7, at=now - timedelta(days=50))
    resolution.resolve(session, settled, "yes", actor="root", now=now - timedelta(days=5))
    resolution.annul(session, annulled, "void", actor="root", now=now - timedelta(days=5))
    tournaments.create(session, "cup", "Cup")
    tournaments.add_questions(session, "cup", ["settled", "annulled", "waiting"])
    tournaments.join(session, "cup", "alice")
    shown = tournaments.page(session, "cup", viewer=bob, now=now)
    assert sorted((q.slug, status) for q, status in shown.questions) == [
        ("annulled", "annulled"), ("settled", "resolved"), ("waiting", "closed")]
    assert shown.scored == 1 and shown.member is False
    assert [(s.user, s.questions) for s in shown.standings] == [("alice", 1)]
    assert shown.standings == tournaments.leaderboard(session, "cup")
    assert tournaments.page(session, "cup", viewer=alice, now=now).member is True
    assert tournaments.page(session, "cup", viewer=None, now=now).member is None
    tournaments.create(session, "bare", "Bare")
    bare = tournaments.page(session, "bare", viewer=alice, now=now)
    assert (bare.questions, bare.standings, bare.scored, bare.member) == ([], [], 0, False)


def test_page_slices_concatenate_to_the_whole(session):
    now = timeutil.now()
    tournaments.create(session, "big", "Big")
    for i in range(7):
        make_user(session, f"user{i}")
        tournaments.join(session, "big", f"user{i}")
        make_question(session, slug=f"question-{i}")
    tournaments.add_questions(session, "big", [f"question-{i}" for i in range(7)])
    whole = tournaments.page(session, "big", viewer=None, now=now, board_size=100,
                             question_size=100)
    parts = [tournaments.page(session, "big", viewer=None, now=now, board_page=n,
                              question_page=n, board_size=3, question_size=3) for n in (1, 2, 3)]
    assert [s for p in parts for s in p.standings] == whole.standings
    assert [q for p in parts for q in p.questions] == whole.questions
    assert [len(p.standings) for p in parts] == [3, 3, 1]
    assert {(p.board_pages, p.question_pages, p.n_members, p.n_questions) for p in parts} == {
        (3, 3, 7, 7)}
    with pytest.raises(InvalidInput) as past:
        tournaments.page(session, "big", viewer=None, now=now, board_page=4, board_size=3)
    assert past.value.where == "page"
    with pytest.raises(InvalidInput) as past:
        tournaments.page(session, "big", viewer=None, now=now, question_page=2)
    assert past.value.where == "qpage"
