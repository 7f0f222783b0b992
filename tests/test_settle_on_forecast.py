"""A forecast on a question whose rule can already decide settles it instead, exactly once,
even with forecasts and scheduler passes racing on one database."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forecasts import timeutil
from forecasts.db import Database
from forecasts.errors import Conflict
from forecasts.models import Forecast, Resolution
from forecasts.services import observations, questions, scheduler
from forecasts.services.forecasts import JustSettled, submit_forecast
from forecasts.services.questions import get_question
from forecasts.services.users import get_user
from tests.builders import make_question, make_user

RULE = {"type": "threshold", "series": "rate", "op": ">=", "value": 0.25, "when": "any"}


@pytest.fixture
def due(session):
    """`due` (threshold met 2 days ago), `later` (conditional on it), `idle` (not met)."""
    now = timeutil.now()
    window = {"open_at": timeutil.iso(now - timedelta(days=30)),
              "close_at": timeutil.iso(now + timedelta(days=300))}
    make_question(session, slug="due", rule=RULE, **window)
    make_question(session, slug="later", **window, rule={
        "type": "conditional", "condition": "due", "outcome": "no",
        "then": {"type": "deadline", "default": "no"}})
    make_question(session, slug="idle", rule={**RULE, "series": "other"}, **window)
    observations.record(session, "rate", 0.3, now - timedelta(days=2), new_series=True)
    observations.record(session, "other", 0.1, now - timedelta(days=2), new_series=True)
    for i in range(4):
        make_user(session, f"user{i}")
    session.commit()


def test_the_refusal_settles_the_question_and_its_cascade(database, due):
    with database.transaction() as s:
        with pytest.raises(JustSettled, match=r"just resolved YES by its rule \(rate = 0.3 at "):
            submit_forecast(s, get_question(s, "due"), get_user(s, "user0"), probability=0.5)
    with database.session() as s:
        assert questions.current_resolution(s, get_question(s, "due")).outcome == "yes"
        # The conditional reading it is annulled in the same unit of work.
        assert questions.current_resolution(s, get_question(s, "later")).annulled
        assert questions.current_resolution(s, get_question(s, "idle")) is None
        assert s.scalar(select(func.count()).select_from(Forecast)) == 0


def test_as_of_the_forecast_time_the_rule_may_not_have_decided(database, due):
    at = timeutil.now() - timedelta(days=3)  # before the observation
    with database.transaction() as s:
        submit_forecast(s, get_question(s, "due"), get_user(s, "user0"), probability=0.5, at=at)
    with database.session() as s:
        assert questions.current_resolution(s, get_question(s, "due")) is None


def test_racing_forecasts_and_schedulers_settle_once(db_url, database, due):
    barrier = threading.Barrier(6)
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def forecaster(i: int) -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            with db.transaction() as s:
                try:
                    submit_forecast(s, get_question(s, "due"), get_user(s, f"user{i}"),
                                    probability=0.5)
                    outcomes.append("stored")
                except JustSettled:
                    outcomes.append("settled it")
                except Conflict:
                    outcomes.append("refused")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.dispose()

    def pass_() -> None:
        db = Database(db_url)
        try:
            barrier.wait()
            result = scheduler.run_once(db)
            assert result.failed == [], result.errors()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=forecaster, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=pass_) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert "stored" not in outcomes and len(outcomes) == 4
    with database.session() as s:
        counts = dict(s.execute(select(Resolution.question_id, func.count())
                                .group_by(Resolution.question_id)).all())
        assert sorted(counts.values()) == [1, 1]  # due and later, once each
        assert s.scalar(select(func.count()).select_from(Forecast)) == 0


def test_proposals_are_not_settled_until_published(database, due, session):
    from forecasts.models import DRAFT, PUBLISHED, Question

    row = session.scalars(select(Question).where(Question.slug == "due")).one()
    row.review_state = DRAFT
    session.commit()
    with database.transaction() as s:
        with pytest.raises(Conflict, match="draft proposal"):
            draft = s.scalars(select(Question).where(Question.slug == "due")).one()
            submit_forecast(s, draft, get_user(s, "user0"), probability=0.5)
    assert scheduler.run_once(database).lines == []
    row.review_state = PUBLISHED
    session.commit()
    assert [line.split()[1] for line in scheduler.run_once(database).lines] == ["due", "later"]


@pytest.mark.parametrize("as_of", ["2025-02-01", "2025-04-01", "2025-06-15", "2025-07-20",
                                   "2025-10-01", "2026-07-01"])
def test_due_now_agrees_with_a_full_resolve_due_plan(runner, tmp_path, database, as_of):
    """The one-question check (with its cheap path for rules reading no other question)
    against the whole-database plan, over every rule type and several moments."""
    from forecasts.models import Question
    from forecasts.services.resolve_due import due_now, plan
    from tests.test_resolve_due import load

    load(runner, tmp_path)
    now = timeutil.parse(as_of, where="now")
    with database.session() as s:
        full = {d.question.slug: d.decision for d in plan(s, now).settle}
        single = {}
        for question in s.scalars(select(Question)):
            due = due_now(s, question, now)
            if due is not None:
                single[question.slug] = due.decision
    assert single.keys() == full.keys()
    for slug, decision in full.items():
        assert (single[slug].outcome, single[slug].known_at) == (decision.outcome,
                                                                  decision.known_at), slug
