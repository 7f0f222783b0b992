"""Deciding a question from its rule (SPEC section 4): pure functions, no database.

A rule sees the world as of `facts.now`: observations dated after it and resolutions
made after it do not exist yet. Edge semantics, fixed here and tested:

- `when: any` thresholds look at observations in [open_at, close_at): one exactly at
  close_at does not count. `when: close` thresholds and bins take the last observation
  at or before close_at (one exactly at close_at counts; one before open_at counts too,
  since a level such as a tariff rate stays in force until it changes). Of two
  observations at the same instant, the later-recorded one is the later.
- `value` (numeric questions) takes the last observation at or before close_at, as bins
  do; its number is the resolution's value. Beyond a closed side of the range it decides
  nothing (a forecast gives that no probability, SPEC §11): an administrator resolves.
- A value exactly on a threshold satisfies >= and <=, not > or <. A value exactly on a
  bin edge belongs to the upper bin: bins include their lower edge.
- conditional: annulled once the condition question resolves otherwise or is annulled;
  settled by `then` once it resolves the required outcome; undecided before.
- any_of: YES as soon as one question resolved YES (known at the earliest such effective
  known time), NO once all resolved NO (known at the latest), and annulled when none
  resolved YES, none is pending and at least one was annulled. all_of mirrors it.
"""
from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Protocol, Sequence

from forecasts import timeutil
from forecasts.models import ANNULLED

COMPARE = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


class QuestionLike(Protocol):
    """What a rule reads of its question (a Question row or a QuestionFacts)."""

    slug: str
    kind: str
    open_at: datetime
    close_at: datetime

    @property
    def options(self) -> list[str]: ...


@dataclass(frozen=True)
class QuestionFacts:
    """A question's rule-relevant columns, detached from the database."""

    slug: str
    kind: str
    options: list[str]
    open_at: datetime
    close_at: datetime
    rule: dict[str, Any] = field(default_factory=lambda: {"type": "manual"})
    # Numeric and date questions: the range and its open sides (SPEC §11).
    range_min: float | None = None
    range_max: float | None = None
    open_lower: bool = False
    open_upper: bool = False


@dataclass(frozen=True)
class Point:
    """One observation of a series."""

    at: datetime
    value: float
    source: str | None = None


@dataclass(frozen=True)
class Settled:
    """Another question's resolution: its outcome, effective known time, and when it was made."""

    outcome: str
    known_at: datetime
    made_at: datetime


@dataclass(frozen=True)
class Facts:
    """Everything a rule may look at. Points of a series are in time order."""

    now: datetime
    observations: Mapping[str, Sequence[Point]] = field(default_factory=dict)
    outcomes: Mapping[str, Settled] = field(default_factory=dict)

    def points(self, series: str) -> list[Point]:
        return [p for p in self.observations.get(series, ()) if p.at <= self.now]

    def outcome(self, slug: str) -> Settled | None:
        settled = self.outcomes.get(slug)
        return settled if settled is not None and settled.made_at <= self.now else None


@dataclass(frozen=True)
class Decision:
    """The rule settles the question: outcome (a label or ANNULLED), known_at, evidence."""

    outcome: str
    known_at: datetime | None
    evidence: dict[str, Any]
    reason: str
    # Numeric questions: the number resolved to (outcome is its `value_outcome` text).
    value: float | None = None


@dataclass(frozen=True)
class Undecided:
    """The rule cannot decide yet, and why."""

    reason: str


def decide(rule: Mapping[str, Any], question: QuestionLike, facts: Facts) -> Decision | Undecided:
    """Apply a validated rule to a question as of `facts.now`."""
    result = _RULES[rule["type"]](rule, question, facts)
    if isinstance(result, Decision):
        result.evidence["as_of"] = timeutil.iso(facts.now)
    return result


def _iso(value: datetime | None) -> str | None:
    return timeutil.iso(value)


def _point(p: Point) -> dict[str, Any]:
    return {"at": _iso(p.at), "value": p.value, "source": p.source}


def number(value: float) -> str:
    """A number as people write it: 200 rather than 200.0."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def value_outcome(kind: str, value: float) -> str:
    """The outcome text of a numeric or date resolution, the one definition: a numeric
    question's value as `number` writes it (200, 0.25), a date's as ISO 8601 UTC
    (value in seconds since the epoch, to the microsecond). Resolution.value holds the
    number itself, which scores read; this text is what lists and logs show."""
    if kind == "date":
        return timeutil.iso(timeutil.from_micros(round(value * 1e6))) or ""
    return number(value)


def _manual(rule, question, facts):
    return Undecided("settled only by an administrator")


def _deadline(rule, question, facts):
    if facts.now < question.close_at:
        return Undecided(f"waiting for close at {_iso(question.close_at)}")
    return Decision(rule["default"], question.close_at,
                    {"rule": "deadline", "close_at": _iso(question.close_at)},
                    f"closed at {_iso(question.close_at)} without an earlier resolution")


def _threshold(rule, question, facts):
    series, op, value = rule["series"], rule["op"], rule["value"]
    meets = COMPARE[op]
    points = facts.points(series)
    base = {"rule": "threshold", "series": series, "op": op, "value": value, "when": rule["when"]}
    condition = f"{op} {number(value)}"
    if rule["when"] == "any":
        window = [p for p in points if question.open_at <= p.at < question.close_at]
        hit = next((p for p in window if meets(p.value, value)), None)
        if hit is not None:
            return Decision("yes", hit.at, {**base, "observation": _point(hit)},
                            f"{series} = {number(hit.value)} at {_iso(hit.at)} ({condition})")
        if facts.now < question.close_at:
            return Undecided(f"no observation of {series} {condition} yet")
        last = window[-1] if window else None
        return Decision("no", question.close_at,
                        {**base, "observations": len(window), "last": last and _point(last)},
                        f"none of {len(window)} observations of {series} before close was "
                        f"{condition}")
    if facts.now < question.close_at:
        return Undecided(f"waiting for close at {_iso(question.close_at)}")
    last = _last_at_close(points, question.close_at)
    if last is None:
        return Undecided(f"no observation of {series} at or before close")
    outcome = "yes" if meets(last.value, value) else "no"
    return Decision(outcome, question.close_at, {**base, "observation": _point(last)},
                    f"last {series} at or before close: {number(last.value)} at "
                    f"{_iso(last.at)} ({'' if outcome == 'yes' else 'not '}{condition})")


def _last_at_close(points: Sequence[Point], close_at: datetime) -> Point | None:
    before = [p for p in points if p.at <= close_at]
    return before[-1] if before else None


def _bins(rule, question, facts):
    series, edges = rule["series"], rule["edges"]
    if facts.now < question.close_at:
        return Undecided(f"waiting for close at {_iso(question.close_at)}")
    last = _last_at_close(facts.points(series), question.close_at)
    if last is None:
        return Undecided(f"no observation of {series} at or before close")
    index = bisect.bisect_right(edges, last.value)  # on an edge: the upper bin
    label = question.options[index]
    return Decision(label, question.close_at,
                    {"rule": "bins", "series": series, "edges": edges, "bin": index,
                     "observation": _point(last)},
                    f"last {series} at or before close: {number(last.value)} at "
                    f"{_iso(last.at)}, in bin {label!r}")


def _value(rule, question, facts):
    series = rule["series"]
    if facts.now < question.close_at:
        return Undecided(f"waiting for close at {_iso(question.close_at)}")
    last = _last_at_close(facts.points(series), question.close_at)
    if last is None:
        return Undecided(f"no observation of {series} at or before close")
    lo, hi = getattr(question, "range_min", None), getattr(question, "range_max", None)
    beyond = None
    if lo is not None and last.value < lo and not question.open_lower:
        beyond = f"below the closed lower bound {number(lo)}"
    elif hi is not None and last.value > hi and not question.open_upper:
        beyond = f"above the closed upper bound {number(hi)}"
    if beyond is not None:
        return Undecided(f"last {series} at or before close, {number(last.value)} at "
                         f"{_iso(last.at)}, is {beyond}; an administrator must resolve it")
    return Decision(value_outcome(question.kind, last.value), question.close_at,
                    {"rule": "value", "series": series, "observation": _point(last)},
                    f"last {series} at or before close: {number(last.value)} at "
                    f"{_iso(last.at)}", value=last.value)


def _conditional(rule, question, facts):
    slug, wanted = rule["condition"], rule["outcome"]
    settled = facts.outcome(slug)
    if settled is None:
        return Undecided(f"waiting for the condition {slug}")
    condition = {"question": slug, "required": wanted, "outcome": settled.outcome}
    if settled.outcome != wanted:
        return Decision(ANNULLED, None, {"rule": "conditional", "condition": condition},
                        f"condition {slug} {_settled_words(settled.outcome)}, not {wanted}")
    then = decide(rule["then"], question, facts)
    if isinstance(then, Undecided):
        return Undecided(f"condition {slug} met; {then.reason}")
    then.evidence.pop("as_of", None)
    return Decision(then.outcome, then.known_at,
                    {"rule": "conditional", "condition": condition, "then": then.evidence},
                    f"condition {slug} met; {then.reason}", value=then.value)


def _settled_words(outcome: str) -> str:
    return "was annulled" if outcome == ANNULLED else f"resolved {outcome}"


def _combination(rule, question, facts):
    kind, slugs = rule["type"], rule["questions"]
    # any_of is decided early by a YES, all_of by a NO; the other outcome needs them all.
    early, late = ("yes", "no") if kind == "any_of" else ("no", "yes")
    found = {slug: facts.outcome(slug) for slug in slugs}
    evidence = {"rule": kind,
                "questions": {s: (v.outcome if v else None) for s, v in found.items()}}
    deciding = [(v.known_at, s) for s, v in found.items() if v and v.outcome == early]
    if deciding:
        known, slug = min(deciding)
        return Decision(early, max(known, question.open_at), evidence, f"{slug} resolved {early}")
    pending = [s for s, v in found.items() if v is None]
    if pending:
        return Undecided(f"waiting for {', '.join(pending)}")
    annulled = [s for s, v in found.items() if v.outcome == ANNULLED]
    if annulled:
        return Decision(ANNULLED, None, evidence,
                        f"{', '.join(annulled)} annulled and none resolved {early}")
    known = max(v.known_at for v in found.values() if v is not None)
    return Decision(late, max(known, question.open_at), evidence,
                    f"all of {', '.join(slugs)} resolved {late}")


_RULES = {
    "manual": _manual, "deadline": _deadline, "threshold": _threshold, "bins": _bins,
    "value": _value, "conditional": _conditional, "any_of": _combination, "all_of": _combination,
}
