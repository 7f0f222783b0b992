"""The hidden crowd: the question option (default on) in definitions, bundles, edits and
the CLI; the one rule of visibility.py; and the API's `crowd: null, crowd_hidden: true`."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import Question
from forecasts.services import bundle, question_edits, questions, resolution, visibility
from forecasts.services.forecasts import submit_forecast
from forecasts.services.tokens import create_token
from tests.api.conftest import Api
from tests.builders import SHOW_CROWD, make_user, question_data


def around(open_days: float, close_days: float, **changes):
    now = timeutil.now()
    return question_data(open_at=timeutil.iso(now + timedelta(days=open_days)),
                         close_at=timeutil.iso(now + timedelta(days=close_days)), **changes)


def hide_of(database, slug: str) -> bool:
    with database.session() as s:
        return s.scalar(select(Question.hide_crowd_until_forecast).where(Question.slug == slug))


# --- the option ---------------------------------------------------------------------

def test_new_questions_hide_their_crowd_by_default(session):
    assert questions.parse_question(question_data()).hide_crowd_until_forecast is True
    q = questions.create_question(session, question_data())
    shown = questions.create_question(session, question_data(slug="shown", **SHOW_CROWD))
    assert (q.hide_crowd_until_forecast, shown.hide_crowd_until_forecast) == (True, False)
    assert questions.definition(q)["hide_crowd_until_forecast"] is True
    assert questions.definition(shown)["hide_crowd_until_forecast"] is False


@pytest.mark.parametrize("value", ["yes", 1, None, []])
def test_the_option_is_a_boolean(session, value):
    with pytest.raises(InvalidInput) as err:
        questions.create_question(session, question_data(hide_crowd_until_forecast=value))
    assert err.value.where == "question (strike-2027).hide_crowd_until_forecast"


def test_it_may_change_after_forecasts_and_the_change_is_recorded(session):
    q = questions.create_question(session, around(-10, 10))
    submit_forecast(session, q, make_user(session), probability=0.3)
    now = timeutil.now()
    revision = question_edits.edit_question(session, q, {"hide_crowd_until_forecast": False},
                                            actor="root", now=now)
    assert q.hide_crowd_until_forecast is False
    assert revision.changes == {"hide_crowd_until_forecast": {"old": True, "new": False}}
    assert question_edits.edit_question(session, q, {"hide_crowd_until_forecast": False},
                                        actor="root", now=now) is None


# --- bundles ------------------------------------------------------------------------

def test_bundle_import_defaults_to_hidden_and_export_round_trips(session):
    doc = {"format": bundle.FORMAT, "users": [],
           "questions": [question_data(slug="default-q"),
                         question_data(slug="shown-q", **SHOW_CROWD),
                         question_data(slug="hidden-q", hide_crowd_until_forecast=True)],
           "forecasts": []}
    bundle.import_bundle(session, doc)
    exported = {q["slug"]: q for q in bundle.export_bundle(session)["questions"]}
    assert {s: q["hide_crowd_until_forecast"] for s, q in exported.items()} == {
        "default-q": True, "shown-q": False, "hidden-q": True}
    # What export writes reads back as the same definition.
    for slug, entry in exported.items():
        again = questions.parse_question({k: v for k, v in entry.items() if k != "resolution"})
        assert again.hide_crowd_until_forecast is entry["hide_crowd_until_forecast"], slug


def test_a_bad_value_in_a_bundle_names_the_question(session):
    doc = {"format": bundle.FORMAT, "questions": [question_data(hide_crowd_until_forecast="no")]}
    with pytest.raises(InvalidInput) as err:
        bundle.import_bundle(session, doc)
    assert err.value.where == "questions[0] (strike-2027).hide_crowd_until_forecast"


# --- the command line ---------------------------------------------------------------

def test_question_create_hides_unless_told(runner, database, tmp_path):
    def create(slug: str, *flags: str, **changes) -> None:
        path = tmp_path / f"{slug}.json"
        path.write_text(json.dumps(question_data(slug=slug, **changes)))
        result = runner("question", "create", "--file", path, *flags)
        assert result.exit_code == 0, result.output

    create("plain")
    create("shown", "--show-crowd")
    create("from-file", **SHOW_CROWD)
    create("forced", "--hide-crowd", **SHOW_CROWD)
    assert [hide_of(database, s) for s in ("plain", "shown", "from-file", "forced")] == [
        True, False, False, True]


def test_question_import_takes_the_flag(runner, database, tmp_path):
    head = "slug,title,open_at,close_at\n"
    (tmp_path / "a.csv").write_text(head + "csv-hidden,One?,2026-01-01,2027-01-01\n")
    (tmp_path / "b.csv").write_text(head + "csv-shown,Two?,2026-01-01,2027-01-01\n")
    assert runner("question", "import", tmp_path / "a.csv").exit_code == 0
    assert runner("question", "import", tmp_path / "b.csv", "--show-crowd").exit_code == 0
    assert (hide_of(database, "csv-hidden"), hide_of(database, "csv-shown")) == (True, False)


# --- the rule -----------------------------------------------------------------------

def test_the_rule_open_closed_settled_and_the_users_own_switch(session):
    alice, bob = make_user(session, "alice"), make_user(session, "bob")
    carol = make_user(session, "carol")
    carol.hide_crowd = True
    now = timeutil.now()
    q = questions.create_question(session, around(-10, 10))
    submit_forecast(session, q, bob, probability=0.3)
    assert not visibility.crowd_visible(session, q, None)
    assert not visibility.crowd_visible(session, q, alice)
    assert visibility.crowd_visible(session, q, bob)
    assert visibility.crowd_visible(session, q, alice, now=q.close_at)  # closed
    assert visibility.hidden_by(q, alice) == "question"

    shown = questions.create_question(session, around(-10, 10, slug="shown", **SHOW_CROWD))
    assert visibility.crowd_visible(session, shown, None)
    assert visibility.crowd_visible(session, shown, alice)
    assert not visibility.crowd_visible(session, shown, carol)
    assert visibility.hidden_by(shown, carol) == "user" and visibility.hidden_by(shown, alice) is None
    pairs = [(q, None), (shown, None)]
    assert visibility.hidden_question_ids(session, carol, pairs, now=now) == {q.id, shown.id}
    assert visibility.hidden_question_ids(session, bob, pairs, now=now) == set()
    assert visibility.hidden_question_ids(session, None, pairs, now=now) == {q.id}

    settled = resolution.resolve(session, q, "yes", actor="root", now=now)
    assert visibility.crowd_visible(session, q, None, resolution=settled)


# --- the API ------------------------------------------------------------------------

@pytest.fixture
def api_world(session):
    """bob forecast `hidden-open` (0.37) and `shown-open` (0.61); alice forecast nothing;
    carol always hides the crowd; `hidden-closed` closed with bob's forecast."""
    users = {name: make_user(session, name) for name in ("alice", "bob", "carol")}
    users["carol"].hide_crowd = True
    tokens = {name: create_token(session, user, "tests")[1] for name, user in users.items()}
    now = timeutil.now()
    hidden = questions.create_question(session, around(-30, 30, slug="hidden-open"))
    shown = questions.create_question(session, around(-30, 30, slug="shown-open", **SHOW_CROWD))
    closed = questions.create_question(session, around(-30, -1, slug="hidden-closed"))
    submit_forecast(session, hidden, users["bob"], probability=0.37)
    submit_forecast(session, shown, users["bob"], probability=0.61)
    submit_forecast(session, closed, users["bob"], probability=0.2, at=now - timedelta(days=5))
    session.commit()
    return tokens


def crowds(api: Api, token: str | None) -> dict[str, tuple]:
    """{slug: (crowd, crowd_hidden)} from the list and, checked equal, each detail."""
    listed = api.get("/api/v1/questions", token=token)
    assert listed.status_code == 200
    out = {q["slug"]: (q["crowd"], q["crowd_hidden"]) for q in listed.body["items"]}
    for slug, seen in out.items():
        detail = api.get(f"/api/v1/questions/{slug}", token=token).body
        assert (detail["crowd"], detail["crowd_hidden"]) == seen, slug
    return out


def test_api_gives_null_while_hidden(client, api_world):
    api = Api(client)
    anonymous = crowds(api, None)
    assert anonymous["hidden-open"] == (None, True)
    assert anonymous["shown-open"] == (pytest.approx([0.39, 0.61]), False)
    assert anonymous["hidden-closed"] == (pytest.approx([0.8, 0.2]), False)
    assert crowds(api, api_world["alice"]) == anonymous
    bob = crowds(api, api_world["bob"])
    assert bob["hidden-open"] == (pytest.approx([0.63, 0.37]), False)
    carol = crowds(api, api_world["carol"])
    assert carol["shown-open"] == (None, True) and carol["hidden-closed"][1] is False
    # The raw bytes carry no number either.
    raw = client.get("/api/v1/questions/hidden-open").get_data(as_text=True)
    assert "0.37" not in raw and "0.63" not in raw
    # A bad token on a read is refused, not read as logged out.
    assert api.get("/api/v1/questions/hidden-open", token="nope").status_code == 401


def test_api_reveals_after_the_first_forecast(client, api_world):
    api = Api(client)
    made = api.post("/api/v1/questions/hidden-open/forecasts", token=api_world["alice"],
                    json={"probability": 0.41})
    assert made.status_code == 201
    assert crowds(api, api_world["alice"])["hidden-open"] == (pytest.approx([0.61, 0.39]), False)
    assert crowds(api, None)["hidden-open"] == (None, True)
