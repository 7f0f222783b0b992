"""Tournaments: the service and `forecasts tournament ...`; the leaderboard against a direct
computation from the question_scores rows."""
from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import select

from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import DRAFT, Question, QuestionScore, Tournament, TournamentQuestion, User
from forecasts.services import tournaments
from forecasts.timeutil import parse
from tests.builders import make_question, make_user
from tests.test_cli import assert_fails


def load(runner, tmp_path, doc) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(doc))
    result = runner("import", path)
    assert result.exit_code == 0, result.stderr


def ok(result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


def expected_board(database, slug: str, members: list[str]) -> list[tuple]:
    """(user, questions, peer_total, mean brier, mean coverage) from the rows, one by one."""
    with database.session() as s:
        tid = s.scalars(select(Tournament.id).where(Tournament.slug == slug)).one()
        qids = set(s.scalars(select(TournamentQuestion.question_id)
                             .where(TournamentQuestion.tournament_id == tid)))
        names = {u.id: u.username for u in s.scalars(select(User))}
        rows = [r for r in s.scalars(select(QuestionScore)) if r.question_id in qids]
    out = []
    for name in members:
        mine = [r for r in rows if names[r.user_id] == name]
        n = len(mine)
        out.append((name, n, sum(r.peer for r in mine),
                    sum(r.brier for r in mine) / n if n else None,
                    sum(r.coverage for r in mine) / n if n else None))
    return out


def ranks(values: list[float]) -> list[int]:
    """Competition ranks of values already sorted descending: 1, 2, 2, 4."""
    return [1 + sum(1 for w in values if w > v) for v in values]


def test_leaderboard_matches_question_scores(runner, tmp_path, reference, database):
    load(runner, tmp_path, reference["bundles"][1]["bundle"])
    ok(runner("user", "create", "erin"))
    ok(runner("tournament", "create", "spring-2026", "--title", "Spring", "--start",
              "2026-01-01", "--end", "2026-07-01"))
    ok(runner("tournament", "add", "spring-2026", "tariff-bracket-2026", "partner-pact-2026",
              "intel-suspended-2026"))
    for user in ("alice", "bob", "erin"):  # dan is not a member: not on the board
        ok(runner("tournament", "join", "spring-2026", user))
    shown = json.loads(ok(runner("tournament", "show", "spring-2026", "--format", "json")))
    assert [q["slug"] for q in shown["questions"]] == [
        "intel-suspended-2026", "partner-pact-2026", "tariff-bracket-2026"]
    want = expected_board(database, "spring-2026", ["alice", "bob", "erin"])
    scored = sorted((w for w in want if w[1]), key=lambda w: (-w[2], w[0]))
    idle = [w for w in want if not w[1]]
    board = shown["leaderboard"]
    assert [r["user"] for r in board] == [w[0] for w in scored + idle]
    assert [r["rank"] for r in board] == ranks([w[2] for w in scored]) + [None] * len(idle)
    for row, w in zip(board, scored + idle):
        assert row["questions"] == w[1]
        assert row["peer_total"] == pytest.approx(w[2], abs=1e-9)
        for key, value in (("brier", w[3]), ("coverage", w[4])):
            assert row[key] == (None if value is None else pytest.approx(value, abs=1e-9))
    assert board[-1] == {"rank": None, "user": "erin", "questions": 0, "peer_total": 0.0,
                         "brier": None, "coverage": None}
    # Only the resolved question is scored: the annulled and open ones add nothing.
    assert all(r["questions"] <= 1 for r in board)
    table = ok(runner("tournament", "show", "spring-2026"))
    assert "spring-2026: Spring" in table and "peer_total" in table
    listed = json.loads(ok(runner("tournament", "list", "--format", "json")))
    assert listed == [{"slug": "spring-2026", "title": "Spring", "description": "",
                       "start_at": "2026-01-01T00:00:00Z", "end_at": "2026-07-01T00:00:00Z",
                       "questions": 3, "members": 3}]


def test_ties_share_a_rank_and_list_by_name(runner, tmp_path, reference):
    doc = copy.deepcopy(reference["bundles"][0]["bundle"])
    doc["users"].append({"username": "aaron"})
    doc["forecasts"] += [dict(f, user="aaron") for f in doc["forecasts"] if f["user"] == "bob"]
    load(runner, tmp_path, doc)
    ok(runner("tournament", "create", "ties", "--title", "Ties"))
    ok(runner("tournament", "add", "ties", doc["questions"][0]["slug"]))
    for user in ("alice", "bob", "carol", "aaron"):
        ok(runner("tournament", "join", "ties", user))
    board = json.loads(ok(runner("tournament", "show", "ties", "--format", "json")))["leaderboard"]
    totals = [r["peer_total"] for r in board]
    assert totals == sorted(totals, reverse=True)
    assert [r["rank"] for r in board] == ranks(totals)
    tied = [r["user"] for r in board if r["user"] in ("aaron", "bob")]
    assert tied == ["aaron", "bob"]
    first = next(r for r in board if r["user"] == "aaron")
    assert first["rank"] == next(r for r in board if r["user"] == "bob")["rank"]


def test_membership_and_questions_are_idempotent(session):
    make_question(session)
    make_user(session, "alice")
    tournaments.create(session, "club", "Club", actor="test")
    assert tournaments.add_questions(session, "club", ["strike-2027"]) == 1
    assert tournaments.add_questions(session, "club", ["strike-2027"]) == 0
    assert tournaments.join(session, "club", "alice") is True
    assert tournaments.join(session, "club", "ALICE") is False
    assert [s.user for s in tournaments.leaderboard(session, "club")] == ["alice"]
    assert tournaments.leave(session, "club", "alice") is True
    assert tournaments.leave(session, "club", "alice") is False
    assert tournaments.leaderboard(session, "club") == []
    assert tournaments.remove_questions(session, "club", ["strike-2027"]) == 1
    assert tournaments.questions_of(session, "club") == []
    assert session.scalars(select(Question.slug)).all() == ["strike-2027"]


@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"slug": "No Good"}, InvalidInput, "'No Good' is not a slug"),
    ({"title": "  "}, InvalidInput, "title"),
    ({"start": parse("2026-05-01", where="t"), "end": parse("2026-04-01", where="t")},
     InvalidInput, "start must be before the end"),
])
def test_create_rejects_bad_input(session, kwargs, error, fragment):
    args = {"slug": "club", "title": "Club", **kwargs}
    with pytest.raises(error) as caught:
        tournaments.create(session, args.pop("slug"), args.pop("title"), **args)
    assert fragment in str(caught.value)
    assert tournaments.list_tournaments(session) == []


def test_unknown_names_are_named(session):
    make_question(session)
    tournaments.create(session, "club", "Club")
    with pytest.raises(Conflict, match="'club' already exists"):
        tournaments.create(session, "club", "Again")
    with pytest.raises(NotFound, match="'nope-1', 'nope-2'"):
        tournaments.add_questions(session, "club", ["strike-2027", "nope-1", "nope-2"])
    assert tournaments.questions_of(session, "club") == []
    with pytest.raises(NotFound, match="no tournament with slug 'other'"):
        tournaments.leaderboard(session, "other")
    with pytest.raises(NotFound, match="no user named 'zoe'"):
        tournaments.join(session, "club", "zoe")


def test_a_draft_cannot_be_added(session):
    draft = make_question(session, slug="draft-q")
    draft.review_state = DRAFT
    session.flush()
    tournaments.create(session, "club", "Club")
    with pytest.raises(NotFound, match="'draft-q'"):
        tournaments.add_questions(session, "club", ["draft-q"])
    assert tournaments.questions_of(session, "club") == []


def test_cli_errors_are_one_line_and_change_nothing(runner):
    ok(runner("tournament", "create", "club", "--title", "Club"))
    assert_fails(runner("tournament", "create", "club", "--title", "Again"), "already exists")
    assert_fails(runner("tournament", "create", "x", "--title", "X"), "'x' is not a slug")
    assert_fails(runner("tournament", "create", "late", "--title", "L", "--start", "soon"),
                 "--start")
    assert_fails(runner("tournament", "create", "late", "--title", "L", "--start",
                        "2026-02-01", "--end", "2026-01-01"), "before the end")
    assert_fails(runner("tournament", "add", "club", "nope-q"), "'nope-q'")
    assert_fails(runner("tournament", "join", "club", "nobody"), "'nobody'")
    assert_fails(runner("tournament", "show", "missing"), "no tournament with slug 'missing'")
    listed = json.loads(ok(runner("tournament", "list", "--format", "json")))
    assert [(t["slug"], t["questions"], t["members"]) for t in listed] == [("club", 0, 0)]
