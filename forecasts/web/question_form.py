"""The question form of the propose, create and edit pages: its fields to a question
definition and back, and a service error to the field it names."""
from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Mapping

from forecasts import timeutil
from forecasts.errors import ForecastsError
from forecasts.rules.validation import OPERATORS
from forecasts.services.question_edits import AFTER_FORECASTS
from forecasts.services.questions import HIDE_CROWD_DEFAULT

RULE_TYPES = (("manual", "An admin resolves it"), ("deadline", "Resolves by default at close"),
              ("threshold", "A recorded series crosses a threshold"))
JSON_RULE = ("json", "Any rule, as JSON (admins)")
FIELD_NAMES = ("slug", "title", "description", "kind", "options", "ordered", "tags", "open_at",
               "close_at", "rule_type", "deadline_default", "series", "op", "value", "when",
               "rule_json", "hide_crowd_until_forecast")
# The form marks that it carries the hidden-crowd checkbox, so that an unchecked box
# (which browsers do not send) reads as "show", and a post without it keeps the default.
HIDE_CROWD = "hide_crowd_until_forecast"
HIDE_CROWD_SHOWN = "hide_crowd_field"
# Where a rule error points, by the rule field it names.
RULE_FIELDS = {"series": "series", "op": "op", "value": "value", "when": "when",
               "default": "deadline_default", "type": "rule_type"}
_WHERE = re.compile(r"^question(?: \([^)]*\))?\.?")


def rule_types(admin: bool) -> tuple[tuple[str, str], ...]:
    """The rule choices the form offers."""
    return RULE_TYPES + ((JSON_RULE,) if admin else ())


def to_data(form: Mapping[str, str], *, admin: bool, fields: tuple[str, ...] | None = None,
            current: Mapping[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, str]]:
    """The definition the form describes, and the errors found in reading it (per field).

    `fields` limits the definition to these fields (an edit of a question with forecasts
    sends only its wording); the slug is left out when empty, to be derived. `current` is
    the definition being edited: a time sent back as shown keeps its exact stored value
    (the input shows no fractions of a second)."""
    errors: dict[str, str] = {}

    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    data: dict[str, Any] = {"title": text("title"), "description": form.get("description", ""),
                            "tags": [t for t in re.split(r"[\s,]+", text("tags").lower()) if t]}
    if form.get(HIDE_CROWD_SHOWN):
        data[HIDE_CROWD] = bool(form.get(HIDE_CROWD))
    if fields is not None and set(fields) <= set(AFTER_FORECASTS):
        return {k: v for k, v in data.items() if k in fields}, errors
    if text("slug"):
        data["slug"] = text("slug")
    data["kind"] = text("kind") or "binary"
    if data["kind"] == "multiple_choice":
        data["options"] = [line.strip() for line in form.get("options", "").splitlines()
                           if line.strip()]
        data["ordered"] = bool(form.get("ordered"))
    for name in ("open_at", "close_at"):
        if not text(name):
            errors[name] = "is required"
        elif current is not None and text(name) == _local(current.get(name)):
            data[name] = current[name]
        else:
            data[name] = text(name)
    data["rule"] = _rule(form, text, admin, errors)
    if fields is not None:
        data = {k: v for k, v in data.items() if k in fields or k == "slug"}
    return data, errors


def _rule(form: Mapping[str, str], text, admin: bool, errors: dict[str, str]) -> Any:
    kind = text("rule_type") or "manual"
    if kind == "manual":
        return {"type": "manual"}
    if kind == "deadline":
        return {"type": "deadline", "default": text("deadline_default") or "no"}
    if kind == "threshold":
        value: Any = text("value")
        try:
            value = float(value.replace(",", ".")) if value else None
        except ValueError:
            errors["value"] = f"{value!r} is not a number"
        return {"type": "threshold", "series": text("series"), "op": text("op") or ">=",
                "value": value, "when": text("when") or "any"}
    if kind == "json" and admin:
        try:
            return json.loads(form.get("rule_json", ""))
        except json.JSONDecodeError as exc:
            errors["rule_json"] = f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
            return None
    errors["rule_type"] = f"{kind!r} is not a rule you can choose here"
    return None


def field_of(error: ForecastsError, form: Mapping[str, str]) -> str:
    """The form field a service error names ("form" when it names none)."""
    path = _WHERE.sub("", error.where or "")
    head, _, rest = path.partition(".")
    head = re.sub(r"\[\d+\]$", "", head)
    if head == "rule":
        if str(form.get("rule_type", "")) == "json":
            return "rule_json"
        name = re.sub(r"\[\d+\]$", "", rest.partition(".")[0])
        return RULE_FIELDS.get(name, "rule_type")
    return head if head in FIELD_NAMES else "form"


def errors_of(error: ForecastsError, form: Mapping[str, str]) -> dict[str, str]:
    """{field: message} for a service error."""
    return {field_of(error, form): error.message}


def _local(moment: str | None) -> str:
    """ISO text as a datetime-local input's value (UTC, seconds only when set)."""
    if not moment:
        return ""
    value = timeutil.parse(moment, where="date")
    return value.strftime("%Y-%m-%dT%H:%M:%S" if value.second else "%Y-%m-%dT%H:%M")


def to_form(doc: Mapping[str, Any]) -> dict[str, str]:
    """Form values showing a definition (questions.definition)."""
    values = {"slug": doc.get("slug", ""), "title": doc.get("title", ""),
              "description": doc.get("description", ""), "kind": doc.get("kind", "binary"),
              "options": "\n".join(doc.get("options") or []) if doc.get("kind") == "multiple_choice" else "",
              "ordered": "1" if doc.get("ordered") else "", "tags": ", ".join(doc.get("tags", [])),
              "open_at": _local(doc.get("open_at")), "close_at": _local(doc.get("close_at")),
              HIDE_CROWD: "1" if doc.get(HIDE_CROWD) else ""}
    rule = doc.get("rule") or {"type": "manual"}
    kind = rule.get("type")
    if kind == "manual":
        values["rule_type"] = "manual"
    elif kind == "deadline":
        values.update(rule_type="deadline", deadline_default=rule.get("default", "no"))
    elif kind == "threshold":
        values.update(rule_type="threshold", series=rule.get("series", ""), op=rule.get("op", ">="),
                      value=str(rule.get("value", "")), when=rule.get("when", "any"))
    if values.get("rule_type") is None or kind not in ("manual", "deadline", "threshold"):
        values.update(rule_type="json")
    values["rule_json"] = json.dumps(rule, indent=1)
    return values


def blank(now: datetime) -> dict[str, str]:
    """The values of an empty form: opening now, a manual rule, the crowd as a new
    question has it (questions.HIDE_CROWD_DEFAULT)."""
    return {"kind": "binary", "rule_type": "manual", "deadline_default": "no", "op": ">=",
            "when": "any", "open_at": now.strftime("%Y-%m-%dT%H:%M"),
            HIDE_CROWD: "1" if HIDE_CROWD_DEFAULT else ""}


OPS = OPERATORS
