"""Proposals: drafts from forecasters, hidden from everyone else until an admin approves
them; rejection with a reason; slugs from titles; resolve-due and bundles."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from forecasts import timeutil
from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import DRAFT, PUBLISHED, REJECTED, Observation
from forecasts.services import bundle, proposals, questions, resolve_due
from forecasts.services.users import create_user
from tests.builders import make_question
from tests.test_bundle import wipe

NOW = timeutil.parse("2026-06-01T12:00:00Z", where="now")


def proposal(**changes):
    data = {"title": "Will the US raise tariffs on Mexican steel?", "description": "If **it** does.",
            "kind": "binary", "tags": ["trade"], "open_at": "2026-06-01T00:00:00Z",
            "close_at": "2026-12-01T00:00:00Z", "rule": {"type": "manual"}}
    data.update(changes)
    return data


@pytest.fixture
def people(session):
    users = {"alice": create_user(session, "alice"), "bob": create_user(session, "bob"),
             "root": create_user(session, "root", role="admin")}
    session.commit()
    return users


@pytest.mark.parametrize("title, slug", [
    ("Will the US raise tariffs on Mexican steel?", "will-the-us-raise-tariffs-on-mexican-steel"),
    ("  Élection: ¿quién gana?  ", "election-quien-gana"),
    ("Go", "question-go"),
    ("?!", "question"),
    ("word " * 30, ("word-" * 12).rstrip("-")),
])
def test_slug_from_title(title, slug):
    derived = proposals.slug_from_title(title)
    assert derived == slug
    assert questions.SLUG.match(derived) and len(derived) <= proposals.SLUG_LENGTH


def test_proposal_is_a_draft_seen_only_by_its_proposer_and_admins(session, people):
    q = proposals.propose(session, proposal(), people["alice"], now=NOW)
    session.commit()
    assert q.slug == "will-the-us-raise-tariffs-on-mexican-steel"
    assert (q.review_state, q.proposed_by_id) == (DRAFT, people["alice"].id)
    for viewer in (None, people["bob"]):
        with pytest.raises(NotFound):
            questions.get_question(session, q.slug, viewer=viewer)
    for viewer in (people["alice"], people["root"]):
        assert questions.get_question(session, q.slug, viewer=viewer) is q


def test_slugs_stay_unique(session, people):
    first = proposals.propose(session, proposal(), people["alice"], now=NOW)
    second = proposals.propose(session, proposal(), people["bob"], now=NOW)
    third = proposals.propose(session, proposal(), people["bob"], now=NOW)
    assert [first.slug, second.slug, third.slug] == [first.slug, f"{first.slug}-2", f"{first.slug}-3"]
    with pytest.raises(Conflict) as err:
        proposals.propose(session, proposal(slug=first.slug), people["bob"], now=NOW)
    assert err.value.where == "slug"


@pytest.mark.parametrize("changes, where", [
    ({"title": ""}, "title"),
    ({"close_at": "2026-05-01T00:00:00Z"}, "close_at"),        # in the past
    ({"close_at": "2026-05-31T00:00:00Z", "open_at": "2026-06-01T00:00:00Z"}, "close_at"),
    ({"kind": "multiple_choice", "options": ["only one"]}, "options"),
    ({"rule": {"type": "threshold", "series": "Bad Series!", "op": ">=", "value": 1, "when": "any"}}, "rule.series"),
    ({"rule": {"type": "bins", "series": "s", "edges": [1]}}, "rule"),   # admins only
    ({"rule": {"type": "deadline", "default": "maybe"}}, "rule.default"),
    ({"slug": "Not A Slug"}, "slug"),
    ({"tags": ["ok", "not ok!"]}, "tags[1]"),
])
def test_bad_proposals_are_refused_naming_the_field(session, people, changes, where):
    with pytest.raises(InvalidInput) as err:
        proposals.propose(session, proposal(**changes), people["alice"], now=NOW)
    assert err.value.where.endswith(where), err.value.where
    session.rollback()
    assert proposals.waiting(session) == []


def test_admins_may_give_any_rule_and_publish_directly(session, people):
    q = proposals.create(session, proposal(kind="multiple_choice", options=["low", "mid", "high"],
                                           ordered=True, rule={"type": "bins", "series": "s", "edges": [1, 2]}),
                         people["root"], now=NOW)
    assert q.review_state == PUBLISHED and q.reviewed_by == "root"
    assert questions.get_question(session, q.slug) is q


def test_approve_publishes(session, people):
    q = proposals.propose(session, proposal(), people["alice"], now=NOW)
    assert proposals.waiting_count(session) == 1
    [item] = proposals.waiting(session)
    assert (item.question, item.proposer) == (q, "alice")
    proposals.approve(session, q, actor="root", now=NOW)
    assert (q.review_state, q.reviewed_by, q.reviewed_at) == (PUBLISHED, "root", NOW)
    assert questions.get_question(session, q.slug) is q
    assert proposals.waiting_count(session) == 0
    with pytest.raises(Conflict):
        proposals.approve(session, q, actor="root", now=NOW)


def test_approve_refuses_a_draft_that_closed_meanwhile(session, people):
    q = proposals.propose(session, proposal(), people["alice"], now=NOW)
    with pytest.raises(Conflict) as err:
        proposals.approve(session, q, actor="root", now=q.close_at)
    assert err.value.where == "close_at" and q.review_state == DRAFT


def test_reject_keeps_the_reason_for_the_proposer(session, people):
    q = proposals.propose(session, proposal(), people["alice"], now=NOW)
    with pytest.raises(InvalidInput) as err:
        proposals.reject(session, q, "  ", actor="root", now=NOW)
    assert err.value.where == "reason" and q.review_state == DRAFT
    proposals.reject(session, q, "Duplicate of tariffs-2027.", actor="root", now=NOW)
    assert (q.review_state, q.review_note) == (REJECTED, "Duplicate of tariffs-2027.")
    assert proposals.proposals_of(session, people["alice"]) == [q]
    assert proposals.proposals_of(session, people["bob"]) == []
    with pytest.raises(NotFound):
        proposals.get_draft(session, q.slug)
    with pytest.raises(NotFound):
        questions.get_question(session, q.slug, viewer=people["bob"])


def test_rules_cannot_read_a_draft(session, people):
    draft = proposals.propose(session, proposal(), people["alice"], now=NOW)
    with pytest.raises(InvalidInput) as err:
        make_question(session, slug="reads-draft", rule={"type": "any_of", "questions": [draft.slug]})
    assert "no question" in err.value.message


def test_resolve_due_skips_drafts(session, people):
    rule = {"type": "threshold", "series": "rate", "op": ">=", "value": 0.25, "when": "any"}
    draft = proposals.propose(session, proposal(rule=rule), people["alice"], now=NOW)
    published = proposals.create(session, proposal(title="Published twin", rule=rule),
                                 people["root"], now=NOW)
    session.add(Observation(series="rate", at=NOW + timedelta(hours=1), value=0.3))
    session.commit()
    later = NOW + timedelta(days=1)
    plan = resolve_due.resolve_due(session, now=later, actor="test", recorded_at=later)
    assert [d.question.slug for d in plan.settle] == [published.slug]
    assert questions.current_resolution(session, draft) is None


def test_bundle_round_trip_keeps_review_state(database):
    with database.transaction() as session:
        alice, bob = create_user(session, "alice"), create_user(session, "bob")
        proposals.propose(session, proposal(), alice, now=NOW)
        rejected = proposals.propose(session, proposal(title="Rejected one"), bob, now=NOW)
        proposals.reject(session, rejected, "Too vague.", actor="root", now=NOW)
        make_question(session, slug="plain-one")
    with database.session() as session:
        doc = bundle.export_bundle(session)
    by_slug = {q["slug"]: q for q in doc["questions"]}
    assert "review_state" not in by_slug["plain-one"]
    assert by_slug["rejected-one"]["review_state"] == REJECTED
    assert by_slug["rejected-one"]["review_note"] == "Too vague."
    assert by_slug["rejected-one"]["proposed_by"] == "bob"
    assert by_slug[doc["questions"][0]["slug"]]["review_state"] == DRAFT
    wipe(database)
    with database.transaction() as session:
        bundle.import_bundle(session, json.loads(json.dumps(doc)))
    with database.session() as session:
        assert bundle.export_bundle(session) == doc


def test_bundle_refuses_a_bad_review_state(session):
    doc = {"format": bundle.FORMAT, "questions": [{**proposal(slug="x-question"), "review_state": "pending"}]}
    with pytest.raises(InvalidInput) as err:
        bundle.import_bundle(session, doc)
    assert err.value.where == "questions[0] (x-question).review_state"
