"""The bundle (SPEC section 7): import is all-or-nothing; export (bundle_export) writes it back."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

import scoring
from forecasts import bulk, timeutil
from forecasts.errors import InvalidInput
from forecasts.models import (ANNULLED, CONTINUOUS_KINDS, DRAFT, PUBLISHED, REJECTED, Forecast,
                              Observation, Question, QuestionTag, Resolution, User)
from forecasts.services import comments, follows, question_stats, scores
from forecasts.services import forecasts as forecast_rules
from forecasts.services.bundle_export import FORMAT, export_bundle, write_bundle
from forecasts.services.bundle_forecasts import QuestionInfo, check_forecasts
from forecasts.services.bundle_tournaments import check_tournaments, write_tournaments
from forecasts.services.observations import check_observation
from forecasts.services.questions import QuestionSpec, check_rules, parse_question
from forecasts.rules import value_outcome
from forecasts.services.resolution import parse_outcome, parse_value
from forecasts.services.users import check_username, ensure_users

__all__ = ["FORMAT", "export_bundle", "import_bundle", "write_bundle"]
TOP_LEVEL = {"format", "users", "questions", "forecasts", "observations", "tournaments"}
FORECAST_FIELDS = {"question", "user", "at", "probability", "probabilities", "cdf",
                   "rationale"}
# `value`: a numeric question's number or a date question's ISO 8601 timestamp (SPEC §11);
# its outcome, if given, must be the value's text (rules.value_outcome).
RESOLUTION_FIELDS = {"outcome", "value", "known_at", "note", "resolved_at", "resolved_by",
                     "source", "evidence", "history"}
SOURCES = ("manual", "rule", "import", "cascade")
FORECAST_COLUMNS = ("question_id", "user_id", "at", "probability", "probabilities_json",
                    "rationale", "created_at", "cdf")
QUESTION_COLUMNS = ("id", "slug", "title", "description", "kind", "options_json", "ordered",
                    "open_at", "close_at", "rule_json", "created_at", "review_state",
                    "proposed_by_id", "review_note", "hide_crowd_until_forecast",
                    "range_min", "range_max", "open_lower", "open_upper", "unit")
# A bulk load of this many forecasts refreshes PostgreSQL's planner statistics.
ANALYZE_AFTER = 10_000
# Carried only by questions that are not published (proposals waiting or rejected).
REVIEW_FIELDS = ("review_state", "proposed_by", "review_note")


def _list(doc: Mapping[str, Any], key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise InvalidInput("must be a list", where=key)
    return value


def _object(value: object, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput("must be a JSON object", where=where)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", where=where)
    return value


def import_bundle(session: Session, doc: object, *, actor: str = "import",
                  aggregator: scoring.Aggregator = scoring.MEDIAN) -> dict[str, int]:
    """Validate the whole bundle, then write it; any bad row raises before anything is written.

    The caller's transaction makes the write atomic; counts of what was added come back.
    The crowd's scores and figures are made by `aggregator`.
    """
    if not isinstance(doc, Mapping):
        raise InvalidInput("a bundle must be a JSON object", where="bundle")
    if doc.get("format") != FORMAT:
        raise InvalidInput(f"expected {FORMAT!r}, got {doc.get('format')!r}", where="format")
    unknown = sorted(set(doc) - TOP_LEVEL)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", where="bundle")

    usernames = []
    for i, entry in enumerate(_list(doc, "users")):
        entry = _object(entry, f"users[{i}]", {"username"})
        usernames.append(check_username(entry.get("username"), where=f"users[{i}].username"))

    specs: list[QuestionSpec] = []
    resolutions: dict[str, tuple[int, Any]] = {}
    reviews: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for i, data in enumerate(_list(doc, "questions")):
        review, data = _split_review(data)
        spec = parse_question(data, where=f"questions[{i}]")
        reviews[spec.slug] = _check_review(review, f"questions[{i}] ({spec.slug})")
        if spec.slug in seen:
            raise InvalidInput(f"duplicate slug {spec.slug!r} (also questions[{seen[spec.slug]}])",
                               where=f"questions[{i}].slug")
        seen[spec.slug] = i
        specs.append(spec)
        resolutions[spec.slug] = (i, data.get("resolution"))
    check_rules(specs, session, where=lambda s: f"questions[{seen[s.slug]}] ({s.slug})")
    existing = session.scalars(select(Question.slug).where(Question.slug.in_(list(seen)))).all()
    if existing:
        slug = sorted(existing)[0]
        raise InvalidInput(f"a question with slug {slug!r} already exists",
                           where=f"questions[{seen[slug]}].slug")

    by_slug = {s.slug: s for s in specs}
    stored = {q.slug: q for q in session.scalars(select(Question).where(
        Question.slug.in_(_forecast_slugs(doc) - set(by_slug))))}
    info = {slug: QuestionInfo(q.kind, len(q.labels if isinstance(q, QuestionSpec) else q.options),
                               timeutil.to_micros(q.open_at), timeutil.to_micros(q.close_at),
                               bool(q.open_lower), bool(q.open_upper))
            for slug, q in [*by_slug.items(), *stored.items()]}
    checked = check_forecasts(_list(doc, "forecasts"), info,
                              lambda entry, i: _check_forecast(entry, i, by_slug, stored))
    checked_resolutions = {slug: _check_resolution(by_slug[slug], value,
                                                   f"questions[{i}] ({slug}).resolution")
                           for slug, (i, value) in resolutions.items() if value is not None}
    observations = [check_observation(entry, where=f"observations[{i}]")
                    for i, entry in enumerate(_list(doc, "observations"))]
    proposers = [r["proposed_by"] for r in reviews.values() if r.get("proposed_by")]
    tournaments = check_tournaments(
        session, _list(doc, "tournaments"),
        published={slug: r["review_state"] == PUBLISHED for slug, r in reviews.items()},
        usernames=[*usernames, *proposers, *checked.user])

    # Everything is valid: write.
    users = ensure_users(session, usernames + proposers + list(dict.fromkeys(checked.user)))
    now = timeutil.now()
    ids = {slug: q.id for slug, q in stored.items()}
    ids.update(_insert_questions(session, specs, reviews, users, now))
    now_us = timeutil.to_micros(now)
    user_id = {name: u.id for name, u in users.items()}
    bulk.insert_rows(session, Forecast, FORECAST_COLUMNS, (
        (ids[q], user_id[u], t, p, None if ps is None else json.dumps(ps), r, now_us, c)
        for q, u, t, p, ps, r, c in zip(checked.question, checked.user, checked.at.tolist(),
                                        checked.probability, checked.probabilities,
                                        checked.rationale, checked.cdf)),
        expected=len(checked))
    if observations:
        session.execute(insert(Observation), [{**o, "recorded_by": actor} for o in observations])
    for slug, chain in checked_resolutions.items():
        # Each earlier resolution was superseded when the next one was made.
        made = [res["resolved_at"] or now for res in chain]
        for res, created, superseded in zip(chain, made, made[1:] + [None]):
            columns = {k: v for k, v in res.items() if k not in ("resolved_by", "resolved_at")}
            # Imported history is not news: nobody is notified of it.
            session.add(Resolution(question_id=ids[slug], actor=res["resolved_by"] or actor,
                                   created_at=created, superseded_at=superseded,
                                   notified_at=now, **columns))
    session.flush()
    write_tournaments(session, tournaments, actor=actor, question_ids=ids)
    scores.rescore_questions(session, [ids[s] for s in checked_resolutions],
                             aggregator=aggregator)
    # The figures the list and page read, for the questions that got forecasts.
    forecast_questions = sorted({ids[q] for q in set(checked.question)})
    question_stats.refresh(session, forecast_questions, aggregator=aggregator)
    comments.from_rationales(session, forecast_questions)
    follows.follow_forecasters(session, forecast_questions)
    if len(checked) >= ANALYZE_AFTER:
        bulk.analyze(session, (Question, QuestionTag, Forecast))
    return {"users": len(set(u.lower() for u in users)), "questions": len(specs),
            "forecasts": len(checked), "observations": len(observations),
            "resolutions": len(checked_resolutions), "tournaments": len(tournaments)}


def _insert_questions(session: Session, specs: list[QuestionSpec],
                      reviews: Mapping[str, Mapping[str, Any]], users: Mapping[str, User],
                      now: datetime) -> dict[str, int]:
    """Bulk-insert the bundle's questions and their tags; their ids by slug."""
    ids = bulk.reserve_ids(session, Question, len(specs)).tolist()
    now_us = timeutil.to_micros(now)

    def proposer(spec: QuestionSpec) -> int | None:
        name = reviews[spec.slug].get("proposed_by")
        return users[name].id if name else None

    bulk.insert_rows(session, Question, QUESTION_COLUMNS, (
        (i, s.slug, s.title, s.description, s.kind,
         json.dumps(s.options) if s.options else None, s.ordered, timeutil.to_micros(s.open_at),
         timeutil.to_micros(s.close_at), json.dumps(s.rule), now_us,
         reviews[s.slug]["review_state"], proposer(s), reviews[s.slug].get("review_note"),
         s.hide_crowd_until_forecast, s.range_min, s.range_max, s.open_lower, s.open_upper,
         s.unit)
        for i, s in zip(ids, specs)))
    bulk.insert_rows(session, QuestionTag, ("question_id", "tag", "position"), (
        (i, tag, position) for i, s in zip(ids, specs) for position, tag in enumerate(s.tags)))
    return {s.slug: i for i, s in zip(ids, specs)}


def _split_review(data: object) -> tuple[dict[str, Any], object]:
    """The review fields of a question entry, and the entry without them."""
    if not isinstance(data, Mapping):
        return {}, data
    return ({k: data[k] for k in REVIEW_FIELDS if k in data},
            {k: v for k, v in data.items() if k not in REVIEW_FIELDS})


def _check_review(review: Mapping[str, Any], where: str) -> dict[str, Any]:
    state = review.get("review_state", PUBLISHED)
    if state not in (DRAFT, PUBLISHED, REJECTED):
        raise InvalidInput(f"{state!r} is not one of {DRAFT}, {PUBLISHED}, {REJECTED}",
                           where=f"{where}.review_state")
    out: dict[str, Any] = {"review_state": state}
    if review.get("proposed_by") is not None:
        out["proposed_by"] = check_username(review["proposed_by"], where=f"{where}.proposed_by")
    note = review.get("review_note")
    if note is not None and not isinstance(note, str):
        raise InvalidInput("must be text", where=f"{where}.review_note")
    out["review_note"] = note
    return out


def _forecast_slugs(doc: Mapping[str, Any]) -> set[str]:
    return {f.get("question") for f in _list(doc, "forecasts")
            if isinstance(f, Mapping) and isinstance(f.get("question"), str)}


def _check_forecast(entry: object, i: int, specs: Mapping[str, QuestionSpec],
                    stored: Mapping[str, Question]) -> dict[str, Any]:
    where = f"forecasts[{i}]"
    entry = _object(entry, where, FORECAST_FIELDS)
    slug = entry.get("question")
    question: QuestionSpec | Question
    if slug in specs:
        question, labels = specs[slug], specs[slug].labels
    elif slug in stored:
        question, labels = stored[slug], stored[slug].options
    else:
        raise InvalidInput(f"unknown question {slug!r}", where=f"{where}.question")
    where = f"forecasts[{i}] ({slug}, {entry.get('user')!r})"
    user = check_username(entry.get("user"), where=f"{where}.user")
    at = timeutil.parse(entry.get("at"), where=f"{where}.at")
    forecast_rules.check_window(question.open_at, question.close_at, at, where=f"{where}.at")
    cdf = None
    if question.kind in CONTINUOUS_KINDS:
        p, ps = None, None
        cdf = forecast_rules.check_continuous(question, entry.get("probability"),
                                              entry.get("probabilities"), entry.get("cdf"),
                                              where=where)
    else:
        p, ps = forecast_rules.check_payload(question.kind, len(labels), entry.get("probability"),
                                             entry.get("probabilities"), where=where,
                                             cdf=entry.get("cdf"))
    rationale = forecast_rules.check_rationale(entry.get("rationale"), where=f"{where}.rationale")
    return {"question": slug, "user": user, "at_us": timeutil.to_micros(at), "probability": p,
            "probabilities": ps, "rationale": rationale, "cdf": cdf}


def _check_resolution(spec: QuestionSpec, value: object, where: str) -> list[dict[str, Any]]:
    """The resolution and its history, oldest first, as Resolution column values."""
    value = _object(value, where, RESOLUTION_FIELDS)
    history = value.get("history", [])
    if not isinstance(history, list):
        raise InvalidInput("must be a list of earlier resolutions", where=f"{where}.history")
    chain = [_one_resolution(spec, h, f"{where}.history[{k}]") for k, h in enumerate(history)]
    return chain + [_one_resolution(spec, {k: v for k, v in value.items() if k != "history"}, where)]


def _value_outcome(spec: QuestionSpec, value: Mapping[str, Any], where: str
                   ) -> tuple[str, float]:
    """A numeric or date resolution's outcome text and value (within the range, or beyond
    it on an open side)."""
    if "value" not in value:
        raise InvalidInput(f"a {spec.kind} question resolves to a value (or is annulled)",
                           where=f"{where}.value")
    raw = value["value"]
    if spec.kind == "numeric" and isinstance(raw, str):
        raise InvalidInput(f"{raw!r} is not a number", where=f"{where}.value")
    number = parse_value(spec, raw, where=f"{where}.value")
    text = value_outcome(spec.kind, number)
    if value.get("outcome") not in (None, text):
        raise InvalidInput(f"{value['outcome']!r} is not the text of the value {raw!r} "
                           f"({text!r}); give the value alone", where=f"{where}.outcome")
    return text, number


def _one_resolution(spec: QuestionSpec, value: object, where: str) -> dict[str, Any]:
    value = _object(value, where, RESOLUTION_FIELDS - {"history"})
    outcome = value.get("outcome")
    number = None
    if spec.continuous and outcome != ANNULLED:
        outcome, number = _value_outcome(spec, value, where)
    elif "value" in value:
        raise InvalidInput("only a numeric or date question's resolution has a value",
                           where=f"{where}.value")
    elif outcome != ANNULLED:
        outcome = parse_outcome(spec.labels, outcome, slug=spec.slug, where=f"{where}.outcome")
    known_at = timeutil.parse_optional(value.get("known_at"), where=f"{where}.known_at")
    if known_at is not None and known_at < spec.open_at:
        raise InvalidInput("is before the question opened", where=f"{where}.known_at")
    note = value.get("note") or ""
    if not isinstance(note, str):
        raise InvalidInput("must be text", where=f"{where}.note")
    source = value.get("source", "import")
    if source not in SOURCES:
        raise InvalidInput(f"{source!r} is not one of {', '.join(SOURCES)}", where=f"{where}.source")
    by = value.get("resolved_by")
    if by is not None and (not isinstance(by, str) or len(by) > 80):
        raise InvalidInput("must be text of at most 80 characters", where=f"{where}.resolved_by")
    evidence = value.get("evidence")
    if evidence is not None and not isinstance(evidence, Mapping):
        raise InvalidInput("must be a JSON object", where=f"{where}.evidence")
    return {"outcome": outcome, "value": number, "known_at": known_at, "note": note,
            "source": source,
            "resolved_by": by,
            "resolved_at": timeutil.parse_optional(value.get("resolved_at"), where=f"{where}.resolved_at"),
            "evidence_json": json.dumps(evidence, sort_keys=True) if evidence else None}
