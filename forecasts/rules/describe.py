"""Rules in plain words, for the question page and the CLI."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from forecasts.rules.evaluation import number

_REACHES = {">=": "reaches {v} or more", ">": "goes above {v}", "<=": "falls to {v} or less",
            "<": "falls below {v}"}
_IS = {">=": "is {v} or more", ">": "is above {v}", "<=": "is {v} or less", "<": "is below {v}"}


def describe(rule: Mapping[str, Any], question: Any) -> str:
    """One or two sentences saying how the question settles, e.g. "Resolves YES as soon as
    the series us-mx-tariff-rate reaches 0.25 or more before 2027-06-30; otherwise NO."

    `question` needs `kind`, `options` and `close_at` (a Question row or a spec).
    """
    kind = rule.get("type")
    writer = _WRITERS.get(kind)
    if writer is None:
        return f"Resolved by a rule of unknown type {kind!r}."
    return writer(rule, question)


def _when(moment: datetime) -> str:
    """A date, with the time of day only when it is not midnight UTC."""
    moment = moment.astimezone(timezone.utc)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _outcome(label: str, question: Any) -> str:
    return label.upper() if question.kind == "binary" else f"“{label}”"


def _manual(rule, question):
    return "Resolved by an administrator according to the description; no automatic rule."


def _deadline(rule, question):
    return (f"Resolves {_outcome(rule['default'], question)} at close "
            f"({_when(question.close_at)}) unless an administrator has resolved it earlier.")


def _threshold(rule, question):
    series, v = rule["series"], number(rule["value"])
    if rule["when"] == "any":
        reaches = _REACHES[rule["op"]].format(v=v)
        return (f"Resolves YES as soon as the series {series} {reaches} before "
                f"{_when(question.close_at)}; otherwise NO.")
    is_ = _IS[rule["op"]].format(v=v)
    return (f"Resolves YES if the last value of the series {series} recorded at or before "
            f"close ({_when(question.close_at)}) {is_}; otherwise NO.")


def _bins(rule, question):
    edges = [number(e) for e in rule["edges"]]
    labels = list(question.options)
    bins = [f"under {edges[0]}: {_outcome(labels[0], question)}"]
    bins += [f"{lo} to under {hi}: {_outcome(label, question)}"
             for lo, hi, label in zip(edges, edges[1:], labels[1:])]
    bins.append(f"{edges[-1]} or more: {_outcome(labels[-1], question)}")
    return (f"Resolves to the bin holding the last value of the series {rule['series']} "
            f"recorded at or before close ({_when(question.close_at)}): {'; '.join(bins)}. "
            "A value exactly on an edge falls in the upper bin.")


def _value(rule, question):
    unit = getattr(question, "unit", None)
    return (f"Resolves to the last value of the series {rule['series']} recorded at or "
            f"before close ({_when(question.close_at)})"
            f"{f', in {unit}' if unit else ''}.")


def _conditional(rule, question):
    condition = rule["condition"]
    wanted = rule["outcome"]
    shown = wanted.upper() if wanted in ("yes", "no") else f"“{wanted}”"
    then = describe(rule["then"], question)
    return (f"Annulled unless the question {condition} resolves {shown}. If it does: {then}")


def _combination(rule, question):
    names = ", ".join(rule["questions"])
    if rule["type"] == "any_of":
        return (f"Resolves YES as soon as any of {names} resolves YES, and NO once all resolve "
                "NO; annulled if none resolves YES and one is annulled.")
    return (f"Resolves YES once all of {names} resolve YES, and NO as soon as any resolves NO; "
            "annulled if none resolves NO and one is annulled.")


_WRITERS = {
    "manual": _manual, "deadline": _deadline, "threshold": _threshold, "bins": _bins,
    "value": _value, "conditional": _conditional, "any_of": _combination, "all_of": _combination,
}
