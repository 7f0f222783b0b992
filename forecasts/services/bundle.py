"""The bundle (SPEC section 7): import is all-or-nothing; export writes it back."""
from __future__ import annotations

import json
from typing import Any, Mapping

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import (ANNULLED, DRAFT, PUBLISHED, REJECTED, Forecast, Observation,
                              Question, Resolution, User)
from forecasts.services import scores
from forecasts.services import forecasts as forecast_rules
from forecasts.services.observations import check_observation
from forecasts.services.questions import (QuestionSpec, add_question, check_rules, definition,
                                         parse_question)
from forecasts.services.resolution import parse_outcome
from forecasts.services.users import check_username, ensure_users

FORMAT = "forecasts-bundle/1"
TOP_LEVEL = {"format", "users", "questions", "forecasts", "observations"}
FORECAST_FIELDS = {"question", "user", "at", "probability", "probabilities", "rationale"}
RESOLUTION_FIELDS = {"outcome", "known_at", "note", "resolved_at", "resolved_by", "source",
                     "evidence", "history"}
SOURCES = ("manual", "rule", "import", "cascade")
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


def import_bundle(session: Session, doc: object, *, actor: str = "import") -> dict[str, int]:
    """Validate the whole bundle, then write it; any bad row raises before anything is written.

    The caller's transaction makes the write atomic; counts of what was added come back.
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
    checked_forecasts = [_check_forecast(entry, i, by_slug, stored)
                         for i, entry in enumerate(_list(doc, "forecasts"))]
    checked_resolutions = {slug: _check_resolution(by_slug[slug], value, f"questions[{i}] ({slug}).resolution")
                           for slug, (i, value) in resolutions.items() if value is not None}
    observations = [check_observation(entry, where=f"observations[{i}]")
                    for i, entry in enumerate(_list(doc, "observations"))]

    # Everything is valid: write.
    proposers = [r["proposed_by"] for r in reviews.values() if r.get("proposed_by")]
    users = ensure_users(session, usernames + proposers + [f["user"] for f in checked_forecasts])
    questions = dict(stored)
    for spec in specs:
        review = reviews[spec.slug]
        proposer = review.get("proposed_by")
        questions[spec.slug] = add_question(session, spec, review_state=review["review_state"],
                                            proposed_by=users[proposer] if proposer else None)
        questions[spec.slug].review_note = review.get("review_note")
    rows = [forecast_rules.row(questions[f["question"]], users[f["user"]], f["at"],
                               f["probability"], f["probabilities"], f["rationale"])
            for f in checked_forecasts]
    if rows:
        session.execute(insert(Forecast), rows)
    if observations:
        session.execute(insert(Observation), [{**o, "recorded_by": actor} for o in observations])
    now = timeutil.now()
    for slug, chain in checked_resolutions.items():
        # Each earlier resolution was superseded when the next one was made.
        made = [res["resolved_at"] or now for res in chain]
        for res, created, superseded in zip(chain, made, made[1:] + [None]):
            columns = {k: v for k, v in res.items() if k not in ("resolved_by", "resolved_at")}
            session.add(Resolution(question_id=questions[slug].id, actor=res["resolved_by"] or actor,
                                   created_at=created, superseded_at=superseded, **columns))
    session.flush()
    scores.rescore_questions(session, [questions[s].id for s in checked_resolutions])
    return {"users": len(set(u.lower() for u in users)), "questions": len(specs),
            "forecasts": len(rows), "observations": len(observations),
            "resolutions": len(checked_resolutions)}


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


def _review_doc(q: Question, names: Mapping[int, str]) -> dict[str, Any]:
    """What a bundle says of a question's review: nothing for a published one."""
    if q.review_state == PUBLISHED:
        return {}
    doc: dict[str, Any] = {"review_state": q.review_state}
    if q.proposed_by_id is not None:
        doc["proposed_by"] = names[q.proposed_by_id]
    if q.review_note:
        doc["review_note"] = q.review_note
    return doc


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
    p, ps = forecast_rules.check_payload(question.kind, len(labels), entry.get("probability"),
                                         entry.get("probabilities"), where=where)
    rationale = forecast_rules.check_rationale(entry.get("rationale"), where=f"{where}.rationale")
    return {"question": slug, "user": user, "at": at, "probability": p, "probabilities": ps,
            "rationale": rationale}


def _check_resolution(spec: QuestionSpec, value: object, where: str) -> list[dict[str, Any]]:
    """The resolution and its history, oldest first, as Resolution column values."""
    value = _object(value, where, RESOLUTION_FIELDS)
    history = value.get("history", [])
    if not isinstance(history, list):
        raise InvalidInput("must be a list of earlier resolutions", where=f"{where}.history")
    chain = [_one_resolution(spec, h, f"{where}.history[{k}]") for k, h in enumerate(history)]
    return chain + [_one_resolution(spec, {k: v for k, v in value.items() if k != "history"}, where)]


def _one_resolution(spec: QuestionSpec, value: object, where: str) -> dict[str, Any]:
    value = _object(value, where, RESOLUTION_FIELDS - {"history"})
    outcome = value.get("outcome")
    if outcome != ANNULLED:
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
    return {"outcome": outcome, "known_at": known_at, "note": note, "source": source,
            "resolved_by": by,
            "resolved_at": timeutil.parse_optional(value.get("resolved_at"), where=f"{where}.resolved_at"),
            "evidence_json": json.dumps(evidence, sort_keys=True) if evidence else None}


def _resolution_doc(r: Resolution) -> dict[str, Any]:
    doc: dict[str, Any] = {"outcome": r.outcome}
    if not r.annulled:
        doc["known_at"] = timeutil.iso(r.known_at)
    doc.update(note=r.note, source=r.source, resolved_by=r.actor,
               resolved_at=timeutil.iso(r.created_at))
    if r.evidence is not None:
        doc["evidence"] = r.evidence
    return doc


def export_bundle(session: Session) -> dict[str, Any]:
    """The whole platform, except passwords and tokens, as a bundle document."""
    chains: dict[int, list[Resolution]] = {}
    for r in session.scalars(select(Resolution).order_by(Resolution.id)):
        chains.setdefault(r.question_id, []).append(r)
    questions = []
    slugs: dict[int, str] = {}
    names = {uid: name for uid, name in session.execute(select(User.id, User.username))}
    for q in session.scalars(select(Question).order_by(Question.id)):
        slugs[q.id] = q.slug
        doc: dict[str, Any] = {**definition(q), **_review_doc(q, names), "resolution": None}
        chain = chains.get(q.id, [])
        current = [r for r in chain if r.superseded_at is None]
        if current:
            doc["resolution"] = _resolution_doc(current[0])
            older = [_resolution_doc(r) for r in chain if r.superseded_at is not None]
            if older:
                doc["resolution"]["history"] = older
        questions.append(doc)
    forecasts = []
    for f in session.scalars(select(Forecast).order_by(Forecast.id)):
        doc = {"question": slugs[f.question_id], "user": names[f.user_id], "at": timeutil.iso(f.at)}
        if f.probability is not None:
            doc["probability"] = f.probability
        else:
            doc["probabilities"] = json.loads(f.probabilities_json or "[]")
        if f.rationale:
            doc["rationale"] = f.rationale
        forecasts.append(doc)
    observations = [{"series": o.series, "at": timeutil.iso(o.at), "value": o.value,
                     **({"source": o.source} if o.source else {})}
                    for o in session.scalars(select(Observation).order_by(Observation.id))]
    return {"format": FORMAT,
            "users": [{"username": n} for n in sorted(names.values(), key=str.lower)],
            "questions": questions, "forecasts": forecasts, "observations": observations}
