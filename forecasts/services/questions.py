"""Questions: validating a definition, creating, finding and listing."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from forecasts import timeutil
from forecasts.errors import Conflict, InvalidInput, NotFound
from forecasts.models import (ANNULLED, CONTINUOUS_KINDS, PUBLISHED, Question, QuestionTag,
                              Resolution, User)
from forecasts.numbers import finite_number
from forecasts.rules import QuestionShape, find_cycle, references, validate_rule
from forecasts.services.text import check_storable

SLUG = re.compile(r"^[a-z0-9-]{3,80}$")
TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
KINDS = ("binary", "multiple_choice", *CONTINUOUS_KINDS)
# Numeric and date questions only (SPEC §11).
RANGE_FIELDS = ("range", "open_lower", "open_upper", "unit")
FIELDS = {"slug", "title", "description", "kind", "options", "ordered", "tags", "open_at",
          "close_at", "rule", "resolution", "hide_crowd_until_forecast", *RANGE_FIELDS}
MAX_UNIT = 40
# New questions withhold their crowd from whoever has not forecast them (visibility.py),
# against anchoring: the one default, for every way a question is defined.
HIDE_CROWD_DEFAULT = True
STATUSES = ("upcoming", "open", "closed", "resolved", "annulled")


@dataclass
class QuestionSpec:
    """A validated question definition, before any rule check against other questions."""

    slug: str
    title: str
    description: str
    kind: str
    options: list[str] | None
    ordered: bool
    tags: list[str]
    open_at: datetime
    close_at: datetime
    rule: dict[str, Any] = field(default_factory=lambda: {"type": "manual"})
    hide_crowd_until_forecast: bool = HIDE_CROWD_DEFAULT
    # Numeric and date questions (SPEC §11): the range (dates in seconds since the
    # epoch), whether the outcome may fall below / above it, and a display unit.
    range_min: float | None = None
    range_max: float | None = None
    open_lower: bool = False
    open_upper: bool = False
    unit: str | None = None

    @property
    def labels(self) -> list[str]:
        """Option labels; binary questions are implicitly ["no", "yes"], numeric and date
        questions have none."""
        if self.continuous:
            return []
        return self.options or ["no", "yes"]

    @property
    def continuous(self) -> bool:
        return self.kind in CONTINUOUS_KINDS

    @property
    def shape(self) -> QuestionShape:
        return shape_of(self.kind, self.options, self.ordered)


def shape_of(kind: str, options: list[str] | None, ordered: bool) -> QuestionShape:
    if kind in CONTINUOUS_KINDS:
        return QuestionShape(kind, (), False)
    return QuestionShape(kind, tuple(options or ("no", "yes")), ordered)


def question_shape(question: Question) -> QuestionShape:
    return shape_of(question.kind, question.options, question.ordered)


def _text(data: Mapping[str, Any], key: str, where: str, *, limit: int, required: bool) -> str:
    value = data.get(key, None if required else "")
    if value is None and not required:
        value = ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput("is required and must be text" if required else "must be text",
                           where=f"{where}.{key}")
    if len(value) > limit:
        raise InvalidInput(f"is longer than {limit} characters", where=f"{where}.{key}")
    check_storable(value, where=f"{where}.{key}")
    return value.strip() if required else value


def parse_question(data: object, *, where: str = "question") -> QuestionSpec:
    """Check a question definition (SPEC section 3) field by field."""
    if not isinstance(data, Mapping):
        raise InvalidInput("must be a JSON object", where=where)
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", where=where)
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise InvalidInput(f"{slug!r} is not a slug (3-80 of a-z, 0-9 and '-')", where=f"{where}.slug")
    where = f"{where} ({slug})"
    title = _text(data, "title", where, limit=300, required=True)
    description = _text(data, "description", where, limit=20000, required=False)
    kind = data.get("kind", "binary")
    if kind not in KINDS:
        raise InvalidInput(f"{kind!r} is not a kind ({', '.join(KINDS)})", where=f"{where}.kind")
    options = _options(data.get("options"), kind, f"{where}.options")
    ordered = data.get("ordered", False)
    if not isinstance(ordered, bool):
        raise InvalidInput("must be true or false", where=f"{where}.ordered")
    if ordered and kind != "multiple_choice":
        raise InvalidInput("only multiple-choice questions can be ordered", where=f"{where}.ordered")
    tags = _tags(data.get("tags", []), f"{where}.tags")
    open_at = timeutil.parse(data.get("open_at"), where=f"{where}.open_at")
    close_at = timeutil.parse(data.get("close_at"), where=f"{where}.close_at")
    if not open_at < close_at:
        raise InvalidInput("close_at must be after open_at", where=f"{where}.close_at")
    hide = data.get("hide_crowd_until_forecast", HIDE_CROWD_DEFAULT)
    if not isinstance(hide, bool):
        raise InvalidInput("must be true or false", where=f"{where}.hide_crowd_until_forecast")
    spec = QuestionSpec(slug, title, description, kind, options, ordered, tags, open_at, close_at,
                        hide_crowd_until_forecast=hide)
    _range_fields(spec, data, where)
    rule = data.get("rule")
    spec.rule = {"type": "manual"} if rule is None else rule
    return spec


def _range_fields(spec: QuestionSpec, data: Mapping[str, Any], where: str) -> None:
    """Set a numeric or date spec's range, open sides and unit from `data` (SPEC §11);
    refuse them on other kinds."""
    if not spec.continuous:
        for name in RANGE_FIELDS:
            if data.get(name) not in (None, False):
                raise InvalidInput("only numeric and date questions have a range, open sides "
                                   "or a unit", where=f"{where}.{name}")
        return
    value = data.get("range")
    if not isinstance(value, Mapping) or set(value) != {"min", "max"}:
        raise InvalidInput(f"a {spec.kind} question needs a range {{\"min\": ..., \"max\": ...}}",
                           where=f"{where}.range")
    lo, hi = (range_value(spec.kind, value[end], where=f"{where}.range.{end}")
              for end in ("min", "max"))
    if not lo < hi:
        raise InvalidInput(f"range.min must be < range.max ({value['min']!r} is not below "
                           f"{value['max']!r})", where=f"{where}.range.max")
    spec.range_min, spec.range_max = lo, hi
    for name in ("open_lower", "open_upper"):
        flag = data.get(name, False)
        if not isinstance(flag, bool):
            raise InvalidInput("must be true or false", where=f"{where}.{name}")
        setattr(spec, name, flag)
    unit = data.get("unit")
    if unit is not None:
        if not isinstance(unit, str) or len(unit.strip()) > MAX_UNIT:
            raise InvalidInput(f"must be text of at most {MAX_UNIT} characters",
                               where=f"{where}.unit")
        unit = check_storable(unit.strip(), where=f"{where}.unit") or None
    spec.unit = unit


def range_value(kind: str, value: object, *, where: str) -> float:
    """A number on a numeric or date question's scale: for a date, an ISO 8601 timestamp
    as seconds since the epoch (exact to the microsecond); else a finite number."""
    if kind == "date":
        return timeutil.to_micros(timeutil.parse(value, where=where)) / 1e6
    return finite_number(value, where=where)


def range_text(kind: str, value: float) -> Any:
    """The inverse of `range_value`: the ISO 8601 text of a date, else the number."""
    if kind == "date":
        return timeutil.iso(timeutil.from_micros(round(value * 1e6)))
    return value


def _options(value: object, kind: str, where: str) -> list[str] | None:
    if kind in CONTINUOUS_KINDS:
        if value not in (None, []):
            raise InvalidInput(f"{kind} questions have no options", where=where)
        return None
    if kind == "binary":
        if value not in (None, ["no", "yes"]):
            raise InvalidInput('binary questions have the implicit options ["no", "yes"]', where=where)
        return None
    if not isinstance(value, list) or not 2 <= len(value) <= 20:
        raise InvalidInput("a multiple-choice question needs a list of 2 to 20 labels", where=where)
    labels = []
    for i, label in enumerate(value):
        if not isinstance(label, str) or not label.strip() or len(label) > 200:
            raise InvalidInput(f"{label!r} is not a label (1-200 characters of text)",
                               where=f"{where}[{i}]")
        if label.strip().lower() == ANNULLED:
            raise InvalidInput(f"{label!r} is reserved for annulment", where=f"{where}[{i}]")
        labels.append(check_storable(label.strip(), where=f"{where}[{i}]"))
    if len({label.lower() for label in labels}) != len(labels):
        raise InvalidInput("labels must be distinct", where=where)
    return labels


def _tags(value: object, where: str) -> list[str]:
    if not isinstance(value, list):
        raise InvalidInput("must be a list of tags", where=where)
    tags = []
    for i, tag in enumerate(value):
        if not isinstance(tag, str) or not TAG.match(tag.strip().lower()):
            raise InvalidInput(f"{tag!r} is not a tag (1-40 of a-z, 0-9 and '-')", where=f"{where}[{i}]")
        tags.append(tag.strip().lower())
    return list(dict.fromkeys(tags))


def check_rules(specs: Iterable[QuestionSpec], session: Session, *, where: Callable[[QuestionSpec], str]) -> None:
    """Validate each spec's rule against the others and the database; reject cycles."""
    specs = list(specs)
    pending = {s.slug: s.shape for s in specs}
    stored: dict[str, QuestionShape | None] = {}

    def lookup(slug: str) -> QuestionShape | None:
        if slug in pending:
            return pending[slug]
        if slug not in stored:
            q = find_question(session, slug)
            # A draft may never be published: no rule may read it.
            stored[slug] = question_shape(q) if q and q.review_state == PUBLISHED else None
        return stored[slug]

    graph: dict[str, list[str]] = {}
    for spec in specs:
        spec.rule = validate_rule(spec.rule, spec.shape, lookup, slug=spec.slug,
                                  where=f"{where(spec)}.rule")
        graph[spec.slug] = references(spec.rule)
    # Stored questions cannot point at new ones, so a cycle lies among the new ones.
    cycle = find_cycle(graph)
    if cycle:
        bad = next(s for s in specs if s.slug == cycle[0])
        raise InvalidInput(f"rules form a cycle: {' -> '.join(cycle)}", where=f"{where(bad)}.rule")


def add_question(session: Session, spec: QuestionSpec, *, review_state: str = PUBLISHED,
                 proposed_by: User | None = None) -> Question:
    """Insert a validated spec (slug uniqueness checked here); proposals come in as drafts."""
    if find_question(session, spec.slug) is not None:
        raise Conflict(f"a question with slug {spec.slug!r} already exists", where="slug")
    question = Question(
        slug=spec.slug, title=spec.title, description=spec.description, kind=spec.kind,
        options_json=json.dumps(spec.options) if spec.options else None, ordered=spec.ordered,
        open_at=spec.open_at, close_at=spec.close_at, rule_json=json.dumps(spec.rule),
        tag_rows=[QuestionTag(tag=t, position=i) for i, t in enumerate(spec.tags)],
        review_state=review_state, proposed_by_id=proposed_by.id if proposed_by else None,
        hide_crowd_until_forecast=spec.hide_crowd_until_forecast, range_min=spec.range_min,
        range_max=spec.range_max, open_lower=spec.open_lower, open_upper=spec.open_upper,
        unit=spec.unit)
    session.add(question)
    session.flush()
    return question


def create_question(session: Session, data: object) -> Question:
    """Validate a definition (including its rule) and add it."""
    spec = parse_question(data)
    if "resolution" in (data or {}):
        raise InvalidInput("set a resolution with `forecasts resolve`, not at creation",
                           where="question.resolution")
    check_rules([spec], session, where=lambda s: f"question ({s.slug})")
    return add_question(session, spec)


def find_question(session: Session, slug: str, *, tags: bool = True) -> Question | None:
    """The question with this slug, whatever its review state; `tags=False` leaves its
    tags to be loaded when first used (one statement fewer where they are not)."""
    stmt = select(Question).where(Question.slug == slug)
    if not tags:
        stmt = stmt.options(lazyload(Question.tag_rows))
    return session.scalars(stmt).first()


def can_see(question: Question, viewer: User | None) -> bool:
    """Published questions are public; a draft or rejected proposal is seen only by its
    proposer and the admins."""
    if question.review_state == PUBLISHED:
        return True
    return viewer is not None and (viewer.is_admin or viewer.id == question.proposed_by_id)


def get_question(session: Session, slug: str, *, viewer: User | None = None,
                 tags: bool = True) -> Question:
    """The question with this slug as `viewer` may see it: an unpublished one is "not
    found" to everyone but its proposer and the admins (and to anyone when no viewer is
    given), so drafts never reach pages, the API or commands that act on questions."""
    question = find_question(session, slug, tags=tags)
    if question is None or not can_see(question, viewer):
        raise NotFound(f"no question with slug {slug!r}", where="question")
    return question


def definition(question: Question | QuestionSpec) -> dict[str, Any]:
    """A stored question (or a parsed spec) as a definition (SPEC section 3, as in a bundle),
    without resolution."""
    doc: dict[str, Any] = {"slug": question.slug, "title": question.title,
                           "description": question.description, "kind": question.kind}
    if question.kind == "multiple_choice":
        doc.update(options=question.options, ordered=question.ordered)
    if question.kind in CONTINUOUS_KINDS:
        assert question.range_min is not None and question.range_max is not None
        doc.update(range={"min": range_text(question.kind, question.range_min),
                          "max": range_text(question.kind, question.range_max)},
                   open_lower=bool(question.open_lower), open_upper=bool(question.open_upper),
                   unit=question.unit)
    doc.update(tags=question.tags, open_at=timeutil.iso(question.open_at),
               close_at=timeutil.iso(question.close_at), rule=question.rule,
               hide_crowd_until_forecast=bool(question.hide_crowd_until_forecast))
    return doc


def lock_question(session: Session, question: Question, *, write: bool = True
                  ) -> tuple[datetime, datetime]:
    """Serialise resolution against forecasting on PostgreSQL (SQLite's BEGIN IMMEDIATE
    already serialises writers); `write=False` takes a shared lock. Returns the question's
    window (open_at, close_at) as stored now, under the lock. (Not its resolution: on
    PostgreSQL a statement that waited for the lock reads the locked row afresh but any
    joined row as of its start; the next statement sees what was committed meanwhile.)"""
    open_at, close_at = session.execute(
        select(Question.open_at, Question.close_at).where(Question.id == question.id)
        .with_for_update(read=not write)).one()
    return open_at, close_at


def current_resolution(session: Session, question: Question) -> Resolution | None:
    return session.scalars(select(Resolution).where(
        Resolution.question_id == question.id, Resolution.superseded_at.is_(None))).first()


def question_status(question: Question, resolution: Resolution | None, now: datetime) -> str:
    """upcoming, open, closed, resolved or annulled."""
    if resolution is not None:
        return "annulled" if resolution.annulled else "resolved"
    if now < question.open_at:
        return "upcoming"
    return "open" if now < question.close_at else "closed"
