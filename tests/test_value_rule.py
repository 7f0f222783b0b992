"""The value rule (SPEC §4, §11): a numeric question resolves to the last observation of
its series at or before close; validation, plain words, and resolve-due end to end."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import Resolution
from forecasts.rules import (Decision, Facts, Point, QuestionFacts, QuestionShape, Undecided,
                             decide, describe, validate_rule, value_outcome)
from forecasts.services import observations, questions, resolve_due
from tests.test_numeric_domain import numeric_data

OPEN, CLOSE = "2025-01-01T00:00:00Z", "2025-07-01T00:00:00Z"
RULE = {"type": "value", "series": "gdp"}
NUMERIC = QuestionShape("numeric", ())


def t(text: str):
    return timeutil.parse(text, where="test")


def run(now: str, points=(), *, rule=RULE, bounds=(None, None, False, False)):
    q = QuestionFacts("q", "numeric", [], t(OPEN), t(CLOSE), rule, *bounds)
    series = {"gdp": [Point(t(at), value, f"src {i}") for i, (at, value) in enumerate(points)]}
    return decide(rule, q, Facts(t(now), series))


def slow_value(points, close):
    """The last point at or before close by a plain scan (later-recorded wins ties)."""
    found = None
    for at, value in points:
        if t(at) <= t(close):
            found = value
    return found


def test_it_waits_for_close():
    result = run("2025-06-30T23:59:59Z", [("2025-02-01", 3.0)])
    assert isinstance(result, Undecided) and "close" in result.reason


def test_without_an_observation_it_stays_undecided():
    result = run("2025-08-01", [("2025-07-02", 3.0)])
    assert isinstance(result, Undecided) and "no observation" in result.reason


@pytest.mark.parametrize("points", [
    [("2025-02-01", 3.0), ("2025-05-01", 4.5)],
    [("2024-11-01", -1.25)],                       # before open counts
    [("2025-03-01", 2.0), (CLOSE, 7.0)],           # exactly at close counts
    [("2025-03-01", 2.0), ("2025-07-01T00:00:01Z", 9.0)],  # after close does not
    [("2025-03-01", 2.0), ("2025-03-01", 2.5)],    # same instant: the later-recorded
])
def test_it_takes_the_last_observation_at_or_before_close(points):
    result = run("2025-09-01", points)
    assert isinstance(result, Decision)
    expected = slow_value(points, CLOSE)
    assert result.value == expected
    assert result.outcome == value_outcome("numeric", expected)
    assert timeutil.iso(result.known_at) == CLOSE
    assert result.evidence["observation"]["value"] == expected
    assert result.evidence["rule"] == "value" and result.evidence["series"] == "gdp"


@pytest.mark.parametrize("value, decided", [(-5.5, False), (-5.0, True), (15.0, True),
                                            (15.25, True)])
def test_beyond_a_closed_side_it_leaves_the_question_to_an_administrator(value, decided):
    # [-5, 15], the lower side closed, the upper open.
    result = run("2025-09-01", [("2025-03-01", value)], bounds=(-5.0, 15.0, False, True))
    assert isinstance(result, Decision) == decided
    if not decided:
        assert "below the closed lower bound -5" in result.reason
        assert "administrator" in result.reason


def test_observations_after_now_are_not_seen():
    result = run("2025-07-15", [("2025-03-01", 2.0), ("2025-07-20", 3.0)])
    assert isinstance(result, Decision) and result.value == 2.0


def test_a_conditional_passes_the_value_through():
    from forecasts.rules import Settled

    rule = {"type": "conditional", "condition": "c", "outcome": "yes", "then": RULE}
    q = QuestionFacts("q", "numeric", [], t(OPEN), t(CLOSE), rule)
    facts = Facts(t("2025-08-01"), {"gdp": [Point(t("2025-06-01"), 1.5)]},
                  {"c": Settled("yes", t("2025-02-01"), t("2025-02-01"))})
    result = decide(rule, q, facts)
    assert isinstance(result, Decision) and (result.value, result.outcome) == (1.5, "1.5")


def test_value_outcome_is_the_one_text_of_a_value():
    assert [value_outcome("numeric", v) for v in (200.0, 0.25, -3.0, 1e20)] == \
        ["200", "0.25", "-3", "1e+20"]
    assert value_outcome("date", 1767225600.0) == "2026-01-01T00:00:00Z"
    assert value_outcome("date", 1767225600.5) == "2026-01-01T00:00:00.500000Z"


def test_validation():
    assert validate_rule({"type": "value", "series": "gdp"}, NUMERIC, lambda s: None,
                         slug="q") == RULE
    for shape in (QuestionShape("binary", ("no", "yes")), QuestionShape("date", ()),
                  QuestionShape("multiple_choice", ("a", "b"), True)):
        with pytest.raises(InvalidInput, match="needs a numeric question") as info:
            validate_rule(RULE, shape, lambda s: None, slug="q")
        assert info.value.where == "rule"
    with pytest.raises(InvalidInput, match="not a series name") as info:
        validate_rule({"type": "value", "series": "GDP!"}, NUMERIC, lambda s: None, slug="q")
    assert info.value.where == "rule.series"
    with pytest.raises(InvalidInput, match="unexpected field") as info:
        validate_rule({"type": "value", "series": "gdp", "op": ">"}, NUMERIC, lambda s: None,
                      slug="q")
    # Rules that need an outcome label do not fit a numeric question.
    for shape in (NUMERIC, QuestionShape("date", ())):
        with pytest.raises(InvalidInput, match="resolves to a value") as info:
            validate_rule({"type": "deadline", "default": "no"}, shape, lambda s: None,
                          slug="q")
        assert info.value.where == "rule"
    # A condition must be a question with outcomes.
    with pytest.raises(InvalidInput, match="not an outcome of 'gdp'") as info:
        validate_rule({"type": "conditional", "condition": "gdp", "then": {"type": "manual"}},
                      QuestionShape("binary", ("no", "yes")),
                      lambda s: NUMERIC if s == "gdp" else None, slug="q")
    assert info.value.where == "rule.outcome"
    with pytest.raises(InvalidInput, match="needs a binary question"):
        validate_rule({"type": "threshold", "series": "gdp", "op": ">", "value": 1},
                      NUMERIC, lambda s: None, slug="q")


def test_describe():
    q = QuestionFacts("q", "numeric", [], t(OPEN), t(CLOSE), RULE)
    assert describe(RULE, q) == ("Resolves to the last value of the series gdp recorded at "
                                 "or before close (2025-07-01).")


def test_resolve_due_settles_a_numeric_question_to_the_value(session):
    q = questions.create_question(session, numeric_data(
        open_at=OPEN, close_at=CLOSE, rule=RULE, open_lower=False, open_upper=False))
    observations.record(session, "gdp", 2.5, t("2025-03-01"), new_series=True)
    observations.record(session, "gdp", 22.0, t("2025-06-30"))  # above the closed max
    observations.record(session, "gdp", 3.0, t("2025-07-02"))
    plan = resolve_due.plan(session, t("2025-06-01"))
    assert [d.question.slug for d in plan.settle] == []
    now = t("2025-08-01")
    waiting = resolve_due.resolve_due(session, now=now, actor="rule", recorded_at=now)
    assert waiting.settle == [] and "above the closed upper bound 15" in waiting.waiting[0][1].reason
    observations.record(session, "gdp", 14.5, t("2025-06-30T12:00:00Z"))
    done = resolve_due.resolve_due(session, now=now, actor="rule", recorded_at=now)
    assert [d.question.slug for d in done.settle] == [q.slug]
    found = session.scalars(select(Resolution)).one()
    assert (found.value, found.outcome, found.source) == (14.5, "14.5", "rule")
    assert timeutil.iso(found.known_at) == CLOSE
    assert found.evidence["observation"]["value"] == 14.5
    again = resolve_due.resolve_due(session, now=now, actor="rule", recorded_at=now)
    assert again.settle == []
