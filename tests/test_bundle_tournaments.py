"""The bundle's tournaments (SPEC section 7): export, import with row-named errors and
nothing written on a bad one, and a lossless round trip including the leaderboard."""
from __future__ import annotations

import copy
import json
from dataclasses import asdict

import pytest
from sqlalchemy import func, select

from forecasts.errors import ForecastsError
from forecasts.models import (DRAFT, Forecast, Question, Tournament, TournamentMember,
                              TournamentQuestion, User)
from forecasts.services import tournaments
from forecasts.services.bundle import export_bundle, import_bundle
from forecasts.timeutil import parse
from tests.builders import bundle, mc_data, question_data
from tests.test_bundle import wipe

SPRING = {"slug": "spring-2026", "title": "Spring 2026", "description": "The *spring* cup.",
          "start": "2026-01-01T00:00:00Z", "end": "2026-07-01T00:00:00Z",
          "questions": ["tariff-bracket-2026", "goalkeeper-leak", "partner-pact-2026"],
          "members": ["bob", "alice"]}
OPEN = {"slug": "open-season", "title": "Open season"}


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(m))
                 for m in (User, Question, Forecast, Tournament, TournamentQuestion,
                           TournamentMember))


def with_tournaments(doc: dict, *entries: dict) -> dict:
    return {**copy.deepcopy(doc), "tournaments": [copy.deepcopy(e) for e in entries]}


def test_export_writes_every_tournament_as_made_by_the_service(session):
    import_bundle(session, bundle(questions_=[question_data(), mc_data()],
                                  users=["alice", "Bob", "carol"]))
    tournaments.create(session, "cup-b", "Cup B", "Second", start=parse("2026-02-01", where="-"))
    tournaments.create(session, "cup-a", "Cup A")
    tournaments.add_questions(session, "cup-b", ["strike-2027", "partner-2027"])
    for name in ("carol", "alice", "bob"):
        tournaments.join(session, "cup-b", name)
    session.commit()
    doc = export_bundle(session)
    assert list(doc)[-1] == "tournaments"
    assert doc["tournaments"] == [
        {"slug": "cup-b", "title": "Cup B", "description": "Second",
         "start": "2026-02-01T00:00:00Z", "end": None,
         "questions": ["partner-2027", "strike-2027"], "members": ["alice", "Bob", "carol"]},
        {"slug": "cup-a", "title": "Cup A", "description": "", "start": None, "end": None,
         "questions": [], "members": []}]


def test_export_import_export_keeps_tournaments_and_their_leaderboard(database, reference):
    doc = with_tournaments(reference["bundles"][1]["bundle"], SPRING, OPEN)
    with database.transaction() as s:
        added = import_bundle(s, doc)
    assert added["tournaments"] == 2
    with database.session() as s:
        first = export_bundle(s)
        board = [asdict(r) for r in tournaments.leaderboard(s, "spring-2026")]
    assert first["tournaments"] == [
        {**SPRING, "questions": sorted(SPRING["questions"]), "members": ["alice", "bob"]},
        {**OPEN, "description": "", "start": None, "end": None, "questions": [],
         "members": []}]
    assert [r["user"] for r in board if r["questions"]]  # scored questions: a real board
    wipe(database)
    with database.transaction() as s:
        import_bundle(s, json.loads(json.dumps(first)))
    with database.session() as s:
        again = export_bundle(s)
        assert [asdict(r) for r in tournaments.leaderboard(s, "spring-2026")] == board
    assert again["tournaments"] == first["tournaments"]
    assert again == first


def test_a_bundle_without_tournaments_exports_an_empty_list(database):
    with database.transaction() as s:
        assert import_bundle(s, bundle())["tournaments"] == 0
    with database.session() as s:
        assert export_bundle(s)["tournaments"] == []


def test_stored_questions_and_users_may_be_named(database):
    with database.transaction() as s:
        import_bundle(s, bundle(users=["alice", "dora"]))
    later = bundle(questions_=[mc_data()], forecasts=[], users=[],
                   tournaments=[{"slug": "mixed-cup", "title": "Mixed",
                                 "questions": ["strike-2027", "partner-2027", "strike-2027"],
                                 "members": ["DORA", "alice", "dora"]}])
    with database.transaction() as s:
        import_bundle(s, later)
    with database.session() as s:
        assert [q.slug for q in tournaments.questions_of(s, "mixed-cup")] == [
            "partner-2027", "strike-2027"]
        assert [r.user for r in tournaments.leaderboard(s, "mixed-cup")] == ["alice", "dora"]


def _base() -> dict:
    draft = question_data(slug="draft-one", review_state=DRAFT, proposed_by="alice")
    return bundle(questions_=[question_data(), mc_data(), draft], users=["alice", "bob"],
                  tournaments=[copy.deepcopy(OPEN),
                               {"slug": "cup-two", "title": "Two",
                                "questions": ["strike-2027"], "members": ["bob"]},
                               {"slug": "cup-three", "title": "Three",
                                "questions": ["partner-2027", "strike-2027"],
                                "members": ["alice", "bob"]}])


BAD = [
    ("unknown question", lambda d: d["tournaments"][2]["questions"].insert(0, "x"),
     "tournaments[2].questions[0]", "no question 'x'"),
    ("draft question", lambda d: d["tournaments"][1]["questions"].append("draft-one"),
     "tournaments[1].questions[1]", "not published"),
    ("question not a slug", lambda d: d["tournaments"][1]["questions"].append(3),
     "tournaments[1].questions[1]", "slug"),
    ("NUL in a question slug", lambda d: d["tournaments"][1]["questions"].append("a\x00b"),
     "tournaments[1].questions[1]", "no question"),
    ("unknown member", lambda d: d["tournaments"][2]["members"].append("zed"),
     "tournaments[2].members[2]", "no user 'zed'"),
    ("bad member name", lambda d: d["tournaments"][1]["members"].insert(0, "bad name"),
     "tournaments[1].members[0]", "not a valid username"),
    ("members not a list", lambda d: d["tournaments"][1].update(members="bob"),
     "tournaments[1].members", "must be a list"),
    ("duplicate slug", lambda d: d["tournaments"][2].update(slug="cup-two"),
     "tournaments[2].slug", "duplicate slug 'cup-two' (also tournaments[1])"),
    ("bad slug", lambda d: d["tournaments"][0].update(slug="Open Season"),
     "tournaments[0].slug", "not a slug"),
    ("missing title", lambda d: d["tournaments"][1].pop("title"),
     "tournaments[1].title", "must be text"),
    ("blank title", lambda d: d["tournaments"][1].update(title="   "),
     "tournaments[1].title", "title of 1-300 characters"),
    ("NUL in description", lambda d: d["tournaments"][2].update(description="a\x00b"),
     "tournaments[2].description", "NUL"),
    ("start after end", lambda d: d["tournaments"][2].update(
        start="2026-06-01T00:00:00Z", end="2026-05-01T00:00:00Z"),
     "tournaments[2].end", "before the end"),
    ("bad start", lambda d: d["tournaments"][0].update(start="soon"),
     "tournaments[0].start", "ISO 8601"),
    ("unknown field", lambda d: d["tournaments"][1].update(prize=100),
     "tournaments[1]", "unknown field(s): prize"),
    ("entry not an object", lambda d: d["tournaments"].append("cup"),
     "tournaments[3]", "JSON object"),
    ("not a list", lambda d: d.update(tournaments={"slug": "x"}), "tournaments", "list"),
]


@pytest.mark.parametrize("label, mutate, where, message", BAD, ids=[b[0] for b in BAD])
def test_a_bad_tournament_rejects_the_whole_bundle(database, label, mutate, where, message):
    with database.transaction() as s:
        import_bundle(s, bundle(questions_=[question_data(slug="earlier-one")], users=["eve"],
                                forecasts=[]))
    doc = _base()
    with database.session() as s:
        before = counts(s)
    with database.transaction() as s:  # the unchanged bundle imports, into a savepoint
        nested = s.begin_nested()
        import_bundle(s, copy.deepcopy(doc))
        nested.rollback()
    mutate(doc)
    with pytest.raises(ForecastsError) as caught, database.transaction() as s:
        import_bundle(s, doc)
    assert caught.value.where == where
    assert message in caught.value.message
    with database.session() as s:
        assert counts(s) == before


def test_an_existing_tournament_slug_is_refused(database):
    with database.transaction() as s:
        import_bundle(s, bundle(tournaments=[OPEN]))
    with database.session() as s:
        before = counts(s)
    doc = bundle(questions_=[question_data(slug="other-one")], forecasts=[],
                 tournaments=[{"slug": "new-one", "title": "New"}, OPEN])
    with pytest.raises(ForecastsError, match="already exists") as caught, \
            database.transaction() as s:
        import_bundle(s, doc)
    assert caught.value.where == "tournaments[1].slug"
    with database.session() as s:
        assert counts(s) == before
