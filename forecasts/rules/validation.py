"""Checking a rule's JSON against its question (SPEC section 4), and cycle detection."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from forecasts.errors import InvalidInput
from forecasts.numbers import finite_number

SERIES = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")
OPERATORS = (">=", ">", "<=", "<")
WHEN = ("any", "close")
RULE_TYPES = ("manual", "deadline", "threshold", "bins", "value", "conditional", "any_of",
              "all_of")
_FIELDS = {
    "manual": {"type"},
    "deadline": {"type", "default"},
    "threshold": {"type", "series", "op", "value", "when"},
    "bins": {"type", "series", "edges"},
    "value": {"type", "series"},
    "conditional": {"type", "condition", "outcome", "then"},
    "any_of": {"type", "questions"},
    "all_of": {"type", "questions"},
}


@dataclass(frozen=True)
class QuestionShape:
    """What a rule needs to know of a question: its kind and option labels."""

    kind: str
    options: tuple[str, ...]
    ordered: bool = False

    def outcomes(self) -> tuple[str, ...]:
        return ("no", "yes") if self.kind == "binary" else self.options


Lookup = Callable[[str], "QuestionShape | None"]


def validate_rule(rule: object, shape: QuestionShape, lookup: Lookup, *, slug: str,
                  where: str = "rule") -> dict[str, Any]:
    """The rule, normalised, if it fits the question; InvalidInput naming the field otherwise.

    `lookup(slug)` gives the shape of another question (None when it does not exist).
    """
    if not isinstance(rule, Mapping):
        raise InvalidInput("must be a JSON object with a 'type'", where=where)
    kind = rule.get("type")
    if kind not in _FIELDS:
        raise InvalidInput(f"unknown rule type {kind!r} (one of {', '.join(RULE_TYPES)})",
                           where=f"{where}.type")
    extra = sorted(set(rule) - _FIELDS[kind])
    if extra:
        raise InvalidInput(f"unexpected field(s) {', '.join(extra)} for a {kind} rule", where=where)
    checker = _CHECKERS[kind]
    return checker(dict(rule), shape, lookup, slug, where)


def _manual(rule, shape, lookup, slug, where):
    return {"type": "manual"}


def _deadline(rule, shape, lookup, slug, where):
    if not shape.outcomes():
        raise InvalidInput(f"a deadline rule needs a question with outcomes; a {shape.kind} "
                           "question resolves to a value (by an administrator, or a value "
                           "rule)", where=where)
    default = rule.get("default", "no")
    if default not in shape.outcomes():
        raise InvalidInput(f"{default!r} is not an outcome of this question "
                           f"({', '.join(shape.outcomes())})", where=f"{where}.default")
    return {"type": "deadline", "default": default}


def _series(rule, where) -> str:
    series = rule.get("series")
    if not isinstance(series, str) or not SERIES.match(series):
        raise InvalidInput(f"{series!r} is not a series name (lowercase letters, digits, "
                           "'-', '_', '.')", where=f"{where}.series")
    return series


def _threshold(rule, shape, lookup, slug, where):
    if shape.kind != "binary":
        raise InvalidInput("a threshold rule needs a binary question", where=where)
    op = rule.get("op")
    if op not in OPERATORS:
        raise InvalidInput(f"{op!r} is not a comparison ({', '.join(OPERATORS)})",
                           where=f"{where}.op")
    when = rule.get("when", "any")
    if when not in WHEN:
        raise InvalidInput(f"{when!r} is not one of {', '.join(WHEN)}", where=f"{where}.when")
    return {"type": "threshold", "series": _series(rule, where), "op": op,
            "value": finite_number(rule.get("value"), where=f"{where}.value"), "when": when}


def _bins(rule, shape, lookup, slug, where):
    if shape.kind != "multiple_choice" or not shape.ordered:
        raise InvalidInput("a bins rule needs an ordered multiple-choice question", where=where)
    edges = rule.get("edges")
    if not isinstance(edges, list):
        raise InvalidInput("must be a list of numbers", where=f"{where}.edges")
    values = [finite_number(e, where=f"{where}.edges[{i}]") for i, e in enumerate(edges)]
    if len(values) != len(shape.options) - 1:
        raise InvalidInput(f"{len(values)} edges for {len(shape.options)} options; "
                           f"need {len(shape.options) - 1}", where=f"{where}.edges")
    if any(b <= a for a, b in zip(values, values[1:])):
        raise InvalidInput("edges must increase strictly", where=f"{where}.edges")
    return {"type": "bins", "series": _series(rule, where), "edges": values}


def _value(rule, shape, lookup, slug, where):
    if shape.kind != "numeric":
        raise InvalidInput("a value rule needs a numeric question (a date question is "
                           "resolved by an administrator)", where=where)
    return {"type": "value", "series": _series(rule, where)}


def _other(ref, lookup, slug, where) -> QuestionShape:
    if not isinstance(ref, str):
        raise InvalidInput(f"{ref!r} is not a question slug", where=where)
    if ref == slug:
        raise InvalidInput("a question's rule cannot depend on the question itself", where=where)
    shape = lookup(ref)
    if shape is None:
        raise InvalidInput(f"no question with slug {ref!r}", where=where)
    return shape


def _conditional(rule, shape, lookup, slug, where):
    condition = rule.get("condition")
    other = _other(condition, lookup, slug, f"{where}.condition")
    outcome = rule.get("outcome", "yes")
    if outcome not in other.outcomes():
        raise InvalidInput(f"{outcome!r} is not an outcome of {condition!r} "
                           f"({', '.join(other.outcomes())})", where=f"{where}.outcome")
    if "then" not in rule:
        raise InvalidInput("missing the rule that settles the question when the condition holds",
                           where=f"{where}.then")
    then = validate_rule(rule["then"], shape, lookup, slug=slug, where=f"{where}.then")
    return {"type": "conditional", "condition": condition, "outcome": outcome, "then": then}


def _combination(rule, shape, lookup, slug, where):
    kind = rule["type"]
    if shape.kind != "binary":
        raise InvalidInput(f"an {kind} rule needs a binary question", where=where)
    questions = rule.get("questions")
    if not isinstance(questions, list) or not questions:
        raise InvalidInput("must be a non-empty list of question slugs", where=f"{where}.questions")
    if len(set(map(str, questions))) != len(questions):
        raise InvalidInput("lists a question twice", where=f"{where}.questions")
    for i, ref in enumerate(questions):
        if _other(ref, lookup, slug, f"{where}.questions[{i}]").kind != "binary":
            raise InvalidInput(f"{ref!r} is not a binary question", where=f"{where}.questions[{i}]")
    return {"type": kind, "questions": list(questions)}


_CHECKERS = {
    "manual": _manual, "deadline": _deadline, "threshold": _threshold, "bins": _bins,
    "value": _value, "conditional": _conditional, "any_of": _combination, "all_of": _combination,
}


def references(rule: Mapping[str, Any]) -> list[str]:
    """Slugs of the other questions a rule reads."""
    kind = rule.get("type")
    if kind == "conditional":
        return [rule["condition"], *references(rule["then"])]
    if kind in ("any_of", "all_of"):
        return list(rule["questions"])
    return []


def find_cycle(graph: Mapping[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a list of slugs (first repeated last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for start in graph:
        if state.get(start):
            continue
        path = [start]
        stack = [iter(graph.get(start, ()))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, ())))
    return None
