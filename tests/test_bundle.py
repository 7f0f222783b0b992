"""Bundle import and export: atomic, row-named errors, lossless round trip."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from forecasts.errors import ForecastsError, InvalidInput
from forecasts.models import Base, Forecast, Observation, Question, Resolution, User
from forecasts.services.bundle import export_bundle, import_bundle
from tests.builders import bundle, mc_data, question_data


def counts(session) -> tuple[int, ...]:
    return tuple(session.scalar(select(func.count()).select_from(m))
                 for m in (User, Question, Forecast, Resolution, Observation))


@pytest.fixture
def reference_bundles(reference):
    return [case["bundle"] for case in reference["bundles"]]


def wipe(database) -> None:
    with database.transaction() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(table.delete())


def test_import_keeps_every_field(database, reference_bundles):
    doc = reference_bundles[1]
    with database.transaction() as s:
        import_bundle(s, doc)
    with database.session() as s:
        exported = export_bundle(s)
    assert [q["slug"] for q in exported["questions"]] == [q["slug"] for q in doc["questions"]]
    for mine, theirs in zip(exported["questions"], doc["questions"]):
        assert {k: mine[k] for k in theirs if k != "resolution"} == \
            {k: v for k, v in theirs.items() if k != "resolution"}
        if theirs["resolution"] is None:
            assert mine["resolution"] is None
        else:
            assert mine["resolution"]["outcome"] == theirs["resolution"]["outcome"]
            assert mine["resolution"].get("known_at") == theirs["resolution"].get("known_at")
    assert exported["forecasts"] == doc["forecasts"]


def test_export_import_export_is_identical(database, reference_bundles):
    with database.transaction() as s:
        import_bundle(s, reference_bundles[1])
        import_bundle(s, {**reference_bundles[0], "users": [{"username": "carol"}]})
        import_bundle(s, bundle(questions_=[mc_data()], forecasts=[
            {"question": "partner-2027", "user": "zed", "at": "2026-03-01T00:00:00.250000Z",
             "probabilities": [0.1, 0.2, 0.3, 0.4], "rationale": "Ottawa is keen."}],
            observations=[{"series": "us-mx-tariff-rate", "at": "2026-01-02T00:00:00Z",
                           "value": 0.1, "source": "https://example.org/x"}]))
    with database.session() as s:
        first = export_bundle(s)
    wipe(database)
    with database.transaction() as s:
        import_bundle(s, json.loads(json.dumps(first)))
    with database.session() as s:
        assert export_bundle(s) == first


BAD_ROWS = [
    ("probability 1.2", lambda d: d["forecasts"][0].update(probability=1.2),
     "forecasts[0] (strike-2027, 'alice').probability", "outside"),
    ("NaN", lambda d: d["forecasts"][0].update(probability=float("nan")),
     "forecasts[0] (strike-2027, 'alice').probability", "finite"),
    ("string probability", lambda d: d["forecasts"][0].update(probability="0.3"),
     "forecasts[0] (strike-2027, 'alice').probability", "not a number"),
    ("unknown question", lambda d: d["forecasts"][0].update(question="nope"),
     "forecasts[0].question", "unknown question 'nope'"),
    ("before open", lambda d: d["forecasts"][0].update(at="2025-12-31T23:59:59Z"),
     "forecasts[0] (strike-2027, 'alice').at", "before the question opens"),
    ("at close", lambda d: d["forecasts"][0].update(at="2027-01-01T00:00:00Z"),
     "forecasts[0] (strike-2027, 'alice').at", "not before the question closes"),
    ("malformed timestamp", lambda d: d["forecasts"][0].update(at="2026-13-01T00:00:00Z"),
     "forecasts[0] (strike-2027, 'alice').at", "not a valid timestamp"),
    ("not a timestamp", lambda d: d["forecasts"][0].update(at="yesterday"),
     "forecasts[0] (strike-2027, 'alice').at", "ISO 8601"),
    ("duplicate slug", lambda d: d["questions"].append(question_data(title="Again")),
     "questions[2].slug", "duplicate slug 'strike-2027'"),
    ("vector not summing to 1", lambda d: d["forecasts"].append(
        {"question": "partner-2027", "user": "bob", "at": "2026-03-01T00:00:00Z",
         "probabilities": [0.3, 0.3, 0.3, 0.3]}),
     "forecasts[1] (partner-2027, 'bob').probabilities", "sums to 1.2"),
    ("vector of wrong length", lambda d: d["forecasts"].append(
        {"question": "partner-2027", "user": "bob", "at": "2026-03-01T00:00:00Z",
         "probabilities": [0.5, 0.5]}),
     "forecasts[1] (partner-2027, 'bob').probabilities", "2 values for 4 options"),
    ("bad open window", lambda d: d["questions"][0].update(close_at="2025-01-01T00:00:00Z"),
     "questions[0] (strike-2027).close_at", "after open_at"),
    ("bad outcome", lambda d: d["questions"][0].update(resolution={"outcome": "maybe"}),
     "questions[0] (strike-2027).resolution.outcome", "not an outcome"),
    ("unknown rule", lambda d: d["questions"][0].update(rule={"type": "oracle"}),
     "questions[0] (strike-2027).rule.type", "unknown rule type"),
    ("rule on missing question", lambda d: d["questions"][0].update(
        rule={"type": "any_of", "questions": ["ghost"]}),
     "questions[0] (strike-2027).rule.questions[0]", "no question with slug 'ghost'"),
    ("bad username", lambda d: d["forecasts"][0].update(user="bad name"),
     "forecasts[0] (strike-2027, 'bad name').user", "not a valid username"),
    ("wrong format", lambda d: d.update(format="other/2"), "format", "forecasts-bundle/1"),
    ("timestamp past year 9999 in UTC", lambda d: d["questions"][0].update(
        close_at="9999-12-31T23:59:59-23:59"),
     "questions[0] (strike-2027).close_at", "not a valid timestamp"),
    ("integer too large for a float in a rule", lambda d: d["questions"][0].update(rule={
        "type": "threshold", "series": "us-mx-tariff-rate", "op": ">=", "value": 10 ** 400,
        "when": "any"}),
     "questions[0] (strike-2027).rule.value", "not a finite number"),
    ("integer too large for a float in an observation", lambda d: d.update(observations=[
        {"series": "us-mx-tariff-rate", "at": "2026-01-02T00:00:00Z", "value": 10 ** 400}]),
     "observations[0].value", "not a finite number"),
    ("NUL in a title", lambda d: d["questions"][0].update(title="Strike\x00"),
     "questions[0] (strike-2027).title", "NUL"),
    ("lone surrogate in a rationale", lambda d: d["forecasts"][0].update(rationale="\ud800"),
     "forecasts[0] (strike-2027, 'alice').rationale", "surrogate"),
]


@pytest.mark.parametrize("label, mutate, where, message", BAD_ROWS, ids=[r[0] for r in BAD_ROWS])
def test_bad_row_rejects_whole_bundle(database, label, mutate, where, message):
    doc = bundle(questions_=[question_data(), mc_data()])
    doc["forecasts"].append({"question": "partner-2027", "user": "alice",
                             "at": "2026-02-02T00:00:00Z", "probabilities": [0.4, 0.3, 0.2, 0.1]})
    doc["forecasts"] = doc["forecasts"][:1] if label.startswith("vector") else doc["forecasts"]
    mutate(doc)
    with database.session() as s:
        before = counts(s)
    with pytest.raises(ForecastsError) as caught, database.transaction() as s:
        import_bundle(s, doc)
    assert caught.value.where == where
    assert message in caught.value.message
    with database.session() as s:
        assert counts(s) == before


def test_cycle_between_bundle_questions_is_rejected(database):
    a = question_data(slug="q-a", rule={"type": "any_of", "questions": ["q-b"]})
    b = question_data(slug="q-b", rule={"type": "conditional", "condition": "q-a", "outcome": "yes",
                                       "then": {"type": "manual"}})
    with pytest.raises(InvalidInput, match=r"cycle: q-a -> q-b -> q-a"), database.transaction() as s:
        import_bundle(s, bundle(questions_=[a, b], forecasts=[]))


def test_existing_slug_is_rejected_and_nothing_written(database):
    with database.transaction() as s:
        import_bundle(s, bundle())
    with database.session() as s:
        before = counts(s)
    doc = bundle(questions_=[question_data(slug="other-one"), question_data()])
    with pytest.raises(InvalidInput, match="already exists") as caught, database.transaction() as s:
        import_bundle(s, doc)
    assert caught.value.where == "questions[1].slug"
    with database.session() as s:
        assert counts(s) == before


def test_forecasts_after_early_resolution_are_kept(database):
    q = question_data(resolution={"outcome": "yes", "known_at": "2026-03-01T00:00:00Z"})
    doc = bundle(questions_=[q], forecasts=[
        {"question": "strike-2027", "user": "bob", "at": "2026-06-01T00:00:00Z", "probability": 0.9}])
    with database.transaction() as s:
        import_bundle(s, doc)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Forecast)) == 1
        assert s.scalar(select(User.password_hash).where(User.username == "bob")) is None


def test_multiple_choice_vectors_are_normalised(database):
    doc = bundle(questions_=[mc_data()], forecasts=[
        {"question": "partner-2027", "user": "a1", "at": "2026-03-01T00:00:00Z",
         "probabilities": [0.4, 0.3, 0.2, 0.1000005]}], users=[])
    with database.transaction() as s:
        import_bundle(s, doc)
    with database.session() as s:
        stored = s.scalars(select(Forecast)).one().probabilities
    assert abs(sum(stored) - 1) < 1e-12
    assert stored[0] == pytest.approx(0.4 / 1.0000005)
