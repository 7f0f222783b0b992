"""Each rule type as a pure function: decide, stay undecided, and the edge cases."""
from __future__ import annotations

from datetime import datetime

import pytest

from forecasts import timeutil
from forecasts.rules import (Decision, Facts, Point, QuestionFacts, Settled, Undecided, decide,
                             dependency_order, dependents)

OPEN, CLOSE = "2025-01-01", "2025-07-01"
BINS = ["low", "mid", "high"]


def t(text: str) -> datetime:
    return timeutil.parse(text, where="test")


def question(rule: dict, *, options: list[str] | None = None, slug: str = "q") -> QuestionFacts:
    kind = "multiple_choice" if options else "binary"
    return QuestionFacts(slug, kind, options or ["no", "yes"], t(OPEN), t(CLOSE), rule)


def run(rule: dict, now: str, *, points=(), outcomes=None, options=None):
    q = question(rule, options=options)
    series = {"s": [Point(t(at), value, f"src {i}") for i, (at, value) in enumerate(points)]}
    return decide(rule, q, Facts(t(now), series, outcomes or {}))


def decided(result) -> tuple[str, str | None]:
    assert isinstance(result, Decision), result
    return result.outcome, timeutil.iso(result.known_at)


def threshold(op: str = ">=", value: float = 0.25, when: str = "any") -> dict:
    return {"type": "threshold", "series": "s", "op": op, "value": value, "when": when}


# --- manual and deadline ----------------------------------------------------

def test_manual_never_decides():
    assert isinstance(run({"type": "manual"}, "2030-01-01"), Undecided)


def test_deadline_waits_for_close():
    result = run({"type": "deadline", "default": "no"}, "2025-06-30T23:59:59Z")
    assert isinstance(result, Undecided) and "close" in result.reason


@pytest.mark.parametrize("now", [CLOSE, "2026-01-01"])
def test_deadline_resolves_to_default_from_close_on(now):
    result = run({"type": "deadline", "default": "no"}, now)
    assert decided(result) == ("no", "2025-07-01T00:00:00Z")


def test_deadline_default_may_be_an_option():
    rule = {"type": "deadline", "default": "mid"}
    assert decided(run(rule, "2025-08-01", options=BINS)) == ("mid", "2025-07-01T00:00:00Z")


# --- threshold, when: any ---------------------------------------------------

def test_threshold_any_yes_at_first_observation_meeting_it():
    points = [("2025-02-01", 0.1), ("2025-03-01", 0.3), ("2025-04-01", 0.5)]
    result = run(threshold(), "2025-05-01", points=points)
    assert decided(result) == ("yes", "2025-03-01T00:00:00Z")
    assert result.evidence["observation"] == {"at": "2025-03-01T00:00:00Z", "value": 0.3,
                                              "source": "src 1"}
    assert result.evidence["as_of"] == "2025-05-01T00:00:00Z"


def test_threshold_any_undecided_before_close_then_no_at_close():
    points = [("2025-02-01", 0.1), ("2025-03-01", 0.2)]
    assert isinstance(run(threshold(), "2025-06-30", points=points), Undecided)
    result = run(threshold(), "2025-07-02", points=points)
    assert decided(result) == ("no", "2025-07-01T00:00:00Z")
    assert result.evidence["observations"] == 2
    assert result.evidence["last"]["value"] == 0.2


def test_threshold_any_ignores_an_observation_exactly_at_close():
    result = run(threshold(), "2025-08-01", points=[(CLOSE, 0.9)])
    assert decided(result) == ("no", "2025-07-01T00:00:00Z")


def test_threshold_any_counts_an_observation_exactly_at_open_but_not_before():
    assert decided(run(threshold(), "2025-08-01", points=[(OPEN, 0.9)]))[0] == "yes"
    assert decided(run(threshold(), "2025-08-01", points=[("2024-12-31", 0.9)]))[0] == "no"


@pytest.mark.parametrize("op, meets", [(">=", True), ("<=", True), (">", False), ("<", False)])
def test_a_value_exactly_on_the_threshold(op, meets):
    result = run(threshold(op=op), "2025-08-01", points=[("2025-03-01", 0.25)])
    assert decided(result)[0] == ("yes" if meets else "no")


def test_threshold_any_does_not_see_observations_after_now():
    points = [("2025-03-01", 0.1), ("2025-04-01", 0.3)]
    assert isinstance(run(threshold(), "2025-03-15", points=points), Undecided)
    assert decided(run(threshold(), "2025-04-01", points=points))[0] == "yes"


# --- threshold, when: close -------------------------------------------------

def test_threshold_close_uses_the_last_value_at_or_before_close():
    rule = threshold(when="close")
    points = [("2025-02-01", 0.5), ("2025-06-01", 0.2)]
    assert isinstance(run(rule, "2025-06-15", points=points), Undecided)  # before close
    result = run(rule, "2025-07-05", points=points)
    assert decided(result) == ("no", "2025-07-01T00:00:00Z")
    assert result.evidence["observation"]["value"] == 0.2


def test_threshold_close_counts_an_observation_exactly_at_close_but_not_after():
    rule = threshold(when="close")
    assert decided(run(rule, "2025-08-01", points=[("2025-06-01", 0.1), (CLOSE, 0.3)]))[0] == "yes"
    later = [("2025-06-01", 0.1), ("2025-07-01T00:00:01Z", 0.3)]
    assert decided(run(rule, "2025-08-01", points=later))[0] == "no"


def test_threshold_close_takes_a_value_from_before_open():
    result = run(threshold(when="close"), "2025-08-01", points=[("2024-06-01", 0.3)])
    assert decided(result)[0] == "yes"


def test_threshold_close_waits_without_any_observation():
    result = run(threshold(when="close"), "2025-08-01", points=[("2025-09-01", 0.3)])
    assert isinstance(result, Undecided) and "no observation" in result.reason


def test_of_two_observations_at_the_same_time_the_later_recorded_wins():
    points = [("2025-06-01", 0.3), ("2025-06-01", 0.1)]
    assert decided(run(threshold(when="close"), "2025-08-01", points=points))[0] == "no"


# --- bins -------------------------------------------------------------------

@pytest.mark.parametrize("value, label", [
    (0.0999, "low"), (0.1, "mid"), (0.2, "mid"), (0.25, "high"), (3.0, "high"), (-1.0, "low")])
def test_bins_pick_the_bin_and_an_edge_belongs_to_the_upper_bin(value, label):
    rule = {"type": "bins", "series": "s", "edges": [0.1, 0.25]}
    result = run(rule, "2025-07-01", points=[("2025-06-30", value)], options=BINS)
    assert decided(result) == (label, "2025-07-01T00:00:00Z")
    assert result.evidence["bin"] == BINS.index(label)


def test_bins_wait_for_close_and_for_an_observation():
    rule = {"type": "bins", "series": "s", "edges": [0.1, 0.25]}
    early = run(rule, "2025-06-30", points=[("2025-06-01", 0.2)], options=BINS)
    assert isinstance(early, Undecided)
    assert isinstance(run(rule, "2025-08-01", points=[], options=BINS), Undecided)
    at_close = run(rule, "2025-08-01", points=[("2025-06-01", 0.05), (CLOSE, 0.3)], options=BINS)
    assert decided(at_close)[0] == "high"


# --- conditional ------------------------------------------------------------

def settled(outcome: str, known: str = "2025-03-01", made: str = "2025-03-02") -> Settled:
    return Settled(outcome, t(known), t(made))


CONDITIONAL = {"type": "conditional", "condition": "c", "outcome": "yes",
               "then": {"type": "deadline", "default": "no"}}


def test_conditional_waits_for_its_condition():
    result = run(CONDITIONAL, "2025-08-01")
    assert isinstance(result, Undecided) and "condition c" in result.reason


@pytest.mark.parametrize("outcome", ["no", "annulled"])
def test_conditional_is_annulled_when_the_condition_fails_or_is_annulled(outcome):
    result = run(CONDITIONAL, "2025-04-01", outcomes={"c": settled(outcome)})
    assert decided(result) == ("annulled", None)
    assert result.evidence["condition"] == {"question": "c", "required": "yes", "outcome": outcome}


def test_conditional_met_is_settled_by_then():
    met = {"c": settled("yes")}
    assert isinstance(run(CONDITIONAL, "2025-04-01", outcomes=met), Undecided)  # then waits
    result = run(CONDITIONAL, "2025-07-02", outcomes=met)
    assert decided(result) == ("no", "2025-07-01T00:00:00Z")
    assert result.evidence["then"]["rule"] == "deadline"


def test_conditional_does_not_see_a_resolution_made_after_now():
    late = {"c": settled("no", known="2025-03-01", made="2025-05-01")}
    assert isinstance(run(CONDITIONAL, "2025-04-01", outcomes=late), Undecided)
    assert decided(run(CONDITIONAL, "2025-05-01", outcomes=late))[0] == "annulled"


def test_conditional_with_a_threshold_then():
    rule = {**CONDITIONAL, "then": threshold()}
    result = run(rule, "2025-04-01", points=[("2025-02-10", 0.3)], outcomes={"c": settled("yes")})
    assert decided(result) == ("yes", "2025-02-10T00:00:00Z")


# --- any_of / all_of --------------------------------------------------------

ANY = {"type": "any_of", "questions": ["a", "b", "c"]}
ALL = {"type": "all_of", "questions": ["a", "b", "c"]}


def test_any_of_yes_as_soon_as_one_is_yes_at_its_known_time():
    outcomes = {"b": settled("yes", known="2025-04-01"), "c": settled("yes", known="2025-03-01")}
    result = run(ANY, "2025-05-01", outcomes=outcomes)
    assert decided(result) == ("yes", "2025-03-01T00:00:00Z")
    assert result.evidence["questions"] == {"a": None, "b": "yes", "c": "yes"}


def test_any_of_no_once_all_are_no_at_the_latest_known_time():
    outcomes = {"a": settled("no", known="2025-02-01"), "b": settled("no", known="2025-06-01")}
    assert isinstance(run(ANY, "2025-07-01", outcomes=outcomes), Undecided)
    outcomes["c"] = settled("no", known="2025-04-01")
    assert decided(run(ANY, "2025-07-01", outcomes=outcomes)) == ("no", "2025-06-01T00:00:00Z")


def test_any_of_with_an_annulled_component():
    outcomes = {"a": settled("annulled"), "b": settled("no")}
    assert isinstance(run(ANY, "2025-07-01", outcomes=outcomes), Undecided)  # c may be yes
    assert decided(run(ANY, "2025-07-01", outcomes={**outcomes, "c": settled("yes")}))[0] == "yes"
    assert decided(run(ANY, "2025-07-01", outcomes={**outcomes, "c": settled("no")})) == \
        ("annulled", None)


def test_all_of_mirrors_any_of():
    early_no = {"b": settled("no", known="2025-02-01")}
    assert decided(run(ALL, "2025-04-01", outcomes=early_no)) == ("no", "2025-02-01T00:00:00Z")
    known = ("2025-02-01", "2025-05-01", "2025-03-01")
    yes = {s: settled("yes", known=k) for s, k in zip("abc", known)}
    assert decided(run(ALL, "2025-06-01", outcomes=yes)) == ("yes", "2025-05-01T00:00:00Z")
    yes["a"] = settled("annulled")
    assert decided(run(ALL, "2025-06-01", outcomes=yes)) == ("annulled", None)
    yes["c"] = settled("no", known="2025-03-01")
    assert decided(run(ALL, "2025-06-01", outcomes=yes))[0] == "no"


def test_combination_known_at_is_never_before_its_own_opening():
    result = run(ANY, "2025-05-01", outcomes={"a": settled("yes", known="2024-06-01")})
    assert decided(result) == ("yes", "2025-01-01T00:00:00Z")


def test_combination_ignores_resolutions_made_after_now():
    outcomes = {"a": settled("yes", known="2025-02-01", made="2025-06-01")}
    assert isinstance(run(ANY, "2025-05-01", outcomes=outcomes), Undecided)


# --- dependency graph -------------------------------------------------------

def test_dependency_order_puts_what_a_rule_reads_first():
    graph = {"all": ["x", "y"], "x": [], "y": ["z"], "z": [], "cond": ["all"]}
    order = dependency_order(graph)
    assert sorted(order) == sorted(graph)
    for reader, read in graph.items():
        assert all(order.index(r) < order.index(reader) for r in read)
    assert dependents(graph, "z") == ["y", "all", "cond"]
    assert dependents(graph, "cond") == []


def test_dependency_order_terminates_on_a_cycle():
    graph = {"a": ["b"], "b": ["a"], "c": ["a"]}
    order = dependency_order(graph)
    assert sorted(order) == ["a", "b", "c"] and order[-1] == "c"
