"""Editing questions: every field while nobody has forecast, only the wording after;
each edit recorded with old and new values."""
from __future__ import annotations

import pytest

from forecasts import timeutil
from forecasts.errors import Conflict, InvalidInput
from forecasts.services import question_edits, questions
from forecasts.services.forecasts import submit_forecast
from forecasts.services.users import create_user
from tests.builders import make_question, mc_data

NOW = timeutil.parse("2026-06-01T12:00:00Z", where="now")


def test_edit_records_old_and_new_values(session):
    q = make_question(session)
    revision = question_edits.edit_question(
        session, q, {"title": "Will a strike happen before 2027 at all?", "tags": ["security", "war"],
                     "close_at": "2026-12-01T00:00:00Z"}, actor="root", now=NOW)
    assert revision.changes == {
        "title": {"old": "Will a strike happen before 2027?", "new": "Will a strike happen before 2027 at all?"},
        "tags": {"old": ["security"], "new": ["security", "war"]},
        "close_at": {"old": "2027-01-01T00:00:00Z", "new": "2026-12-01T00:00:00Z"}}
    session.commit()
    session.expire_all()
    q = questions.get_question(session, "strike-2027")
    assert (q.title, q.tags, timeutil.iso(q.close_at)) == (
        "Will a strike happen before 2027 at all?", ["security", "war"], "2026-12-01T00:00:00Z")
    assert [r.id for r in question_edits.revisions(session, q)] == [revision.id]


def test_no_change_records_nothing(session):
    q = make_question(session)
    assert question_edits.edit_question(session, q, questions.definition(q), actor="r", now=NOW) is None
    # The same rule, written with an int for a float, is no change either.
    q2 = make_question(session, slug="with-threshold",
                       rule={"type": "threshold", "series": "s", "op": ">=", "value": 1.0, "when": "any"})
    same = {"type": "threshold", "series": "s", "op": ">=", "value": 1, "when": "any"}
    assert question_edits.edit_question(session, q2, {"rule": same}, actor="r", now=NOW) is None
    assert question_edits.revisions(session, q) == []


def test_with_forecasts_only_wording_may_change(session):
    q = make_question(session, open_at="2026-01-01T00:00:00Z", close_at="2030-01-01T00:00:00Z")
    submit_forecast(session, q, create_user(session, "alice"), probability=0.3)
    assert question_edits.editable_fields(session, q) == question_edits.WORDING + (
        "hide_crowd_until_forecast",)
    for changes, field in (({"close_at": "2029-01-01T00:00:00Z"}, "close_at"),
                           ({"rule": {"type": "deadline", "default": "no"}}, "rule"),
                           ({"kind": "multiple_choice", "options": ["a", "b"]}, "kind")):
        with pytest.raises(Conflict) as err:
            question_edits.edit_question(session, q, changes, actor="root", now=NOW)
        assert err.value.where == f"question.{field}"
    revision = question_edits.edit_question(session, q, {"description": "Clearer *now*."},
                                            actor="root", now=NOW)
    assert revision.changes == {"description": {"old": "Resolves yes if it happens.", "new": "Clearer *now*."}}


@pytest.mark.parametrize("changes, where", [
    ({"slug": "renamed"}, "question.slug"),
    ({"title": ""}, "title"),
    ({"close_at": "2025-01-01T00:00:00Z"}, "close_at"),
    ({"rule": {"type": "threshold", "series": "s", "op": "~", "value": 1, "when": "any"}}, "rule.op"),
    ({"nonsense": 1}, "question"),
])
def test_bad_edits_change_nothing(session, changes, where):
    q = make_question(session)
    before = questions.definition(q)
    with pytest.raises(InvalidInput) as err:
        question_edits.edit_question(session, q, changes, actor="root", now=NOW)
    assert err.value.where.endswith(where)
    assert questions.definition(q) == before and question_edits.revisions(session, q) == []


def test_options_of_a_question_other_rules_read_are_kept(session):
    q = questions.create_question(session, mc_data())
    make_question(session, slug="depends", rule={"type": "conditional", "condition": q.slug,
                                                  "outcome": "Canada", "then": {"type": "manual"}})
    with pytest.raises(Conflict):
        question_edits.edit_question(session, q, {"options": ["Canada", "Mexico"]}, actor="r", now=NOW)
    assert question_edits.edit_question(session, q, {"title": "Partner?"}, actor="r", now=NOW)


def test_search_finds_a_question_by_its_edited_title(session):
    from forecasts.services import question_list

    q = make_question(session, open_at="2026-01-01T00:00:00Z", close_at="2099-01-01T00:00:00Z")
    session.commit()
    assert question_list.list_questions(session, now=NOW, search="embargoes") == []
    question_edits.edit_question(session, q, {"title": "Will an embargo start before 2027?"},
                                 actor="root", now=NOW)
    session.commit()
    assert [r.question.slug for r in question_list.list_questions(session, now=NOW, search="embargoes")] \
        == [q.slug]
