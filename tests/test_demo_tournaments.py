"""The demo's tournaments: seeded through the bundle, with members who forecast their
questions and, for the settled one, a leaderboard of real scores."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forecasts.models import Forecast, Question, QuestionScore, User
from forecasts.services import demo, tournaments


@pytest.fixture
def seeded(database):
    with database.transaction() as s:
        assert demo.seed(s) is not None
    return database


def test_demo_tournaments_have_members_who_forecast_their_questions(seeded):
    with seeded.session() as s:
        listed = {t.slug: (q, m) for t, q, m in tournaments.list_tournaments(s)}
        assert set(listed) == {"us-mexico-security-2025", "us-mexico-security-2026"}
        for slug in listed:
            qids = {q.id for q in tournaments.questions_of(s, slug)}
            assert all("security" in q.tags for q in tournaments.questions_of(s, slug))
            board = tournaments.leaderboard(s, slug)
            assert len(board) == listed[slug][1] and 0 < len(board) < len(demo.NAMES)
            for row in board:
                user = s.scalars(select(User).where(User.username == row.user)).one()
                mine = set(s.scalars(select(Forecast.question_id)
                                     .where(Forecast.user_id == user.id)))
                assert len(mine & qids) >= demo.JOIN_AFTER, row.user
            assert "demo" not in [row.user for row in board]  # the admin login joined nothing


def test_the_settled_demo_tournament_ranks_by_the_sum_of_peer(seeded):
    slug = "us-mexico-security-2025"
    with seeded.session() as s:
        qids = {q.id for q in tournaments.questions_of(s, slug)}
        names = {u.id: u.username for u in s.scalars(select(User))}
        totals: dict[str, list[float]] = {}
        for r in s.scalars(select(QuestionScore).where(QuestionScore.question_id.in_(qids))):
            totals.setdefault(names[r.user_id], []).append(r.peer)
        board = tournaments.leaderboard(s, slug)
        settled = s.scalars(select(Question).where(Question.id.in_(qids))).all()
    ranked = [row for row in board if row.rank is not None]
    assert len(ranked) >= 10 and ranked[0].rank == 1
    for row in ranked:
        assert row.peer_total == pytest.approx(sum(totals[row.user]), abs=1e-9)
        assert row.questions == len(totals[row.user])
    assert [row.peer_total for row in ranked] == sorted((r.peer_total for r in ranked),
                                                        reverse=True)
    assert len(settled) == 6


def test_the_demo_bundle_names_only_its_own_questions_and_users():
    doc = demo.build_bundle()
    slugs = {q["slug"] for q in doc["questions"]}
    users = {u["username"] for u in doc["users"]}
    for t in doc["tournaments"]:
        assert set(t["questions"]) <= slugs and set(t["members"]) <= users
    assert demo.build_bundle() == doc  # deterministic
