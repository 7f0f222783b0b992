"""Writing the bundle (SPEC section 7) incrementally: memory stays flat in the number of
forecasts, and the text is exactly `json.dumps(document, indent=1, ensure_ascii=False)`.

The caller reads in one snapshot (forecasts.snapshot) so that every table is seen at
the same moment: a forecast written meanwhile by a user registered meanwhile is absent
from all of them, never half-present.
"""
from __future__ import annotations

import io
import json
from typing import Any, Iterable, Mapping, TextIO

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts import cdf as cdf_codec
from forecasts.models import CONTINUOUS_KINDS, PUBLISHED, Observation, Question, Resolution, User
from forecasts.services.bundle_tournaments import export_tournaments
from forecasts.services.questions import definition, range_text

FORMAT = "forecasts-bundle/1"
_BATCH = 20_000
# Years 1000-9999 format the same in numpy and strftime; others go through timeutil.iso.
_YEAR_1000 = timeutil.to_micros(timeutil.parse("1000-01-01T00:00:00Z", where="-"))


def review_doc(q: Question, names: Mapping[int, str]) -> dict[str, Any]:
    """What a bundle says of a question's review: nothing for a published one."""
    if q.review_state == PUBLISHED:
        return {}
    doc: dict[str, Any] = {"review_state": q.review_state}
    if q.proposed_by_id is not None:
        doc["proposed_by"] = names[q.proposed_by_id]
    if q.review_note:
        doc["review_note"] = q.review_note
    return doc


def resolution_doc(r: Resolution, kind: str) -> dict[str, Any]:
    """One resolution as a bundle carries it (of a question of this kind): a numeric or
    date question's also carries its value (a date's as ISO 8601)."""
    doc: dict[str, Any] = {"outcome": r.outcome}
    if kind in CONTINUOUS_KINDS and r.value is not None:
        doc["value"] = range_text(kind, r.value)
    if not r.annulled:
        doc["known_at"] = timeutil.iso(r.known_at)
    doc.update(note=r.note, source=r.source, resolved_by=r.actor,
               resolved_at=timeutil.iso(r.created_at))
    if r.evidence is not None:
        doc["evidence"] = r.evidence
    return doc


def _element(value: Any) -> str:
    """An element of a top-level list, indented as json.dumps(indent=1) nests it."""
    return "  " + json.dumps(value, indent=1, ensure_ascii=False).replace("\n", "\n  ")


def _write_list(out: TextIO, key: str, items: Iterable[str], *, last: bool = False) -> int:
    out.write(f" {json.dumps(key)}: [")
    count = 0
    for text in items:
        out.write(",\n" if count else "\n")
        out.write(text)
        count += 1
    out.write("\n ]" if count else "]")
    out.write("\n" if last else ",\n")
    return count


def _iso(at: np.ndarray) -> list[str]:
    """timeutil.iso of an array of UTC microseconds, vectorised."""
    text = np.datetime_as_string(at.astype("datetime64[us]"), unit="us").tolist()
    whole = (at % 1_000_000 == 0).tolist()
    out = [t[:19] + "Z" if w else t + "Z" for t, w in zip(text, whole)]
    for i in np.flatnonzero(at < _YEAR_1000).tolist():
        out[i] = timeutil.iso(timeutil.from_micros(int(at[i])))
    return out


def _questions(session: Session, names: Mapping[int, str], slugs: dict[int, str]) -> Iterable[str]:
    chains: dict[int, list[Resolution]] = {}
    for r in session.scalars(select(Resolution).order_by(Resolution.id)):
        chains.setdefault(r.question_id, []).append(r)
    for q in session.scalars(select(Question).order_by(Question.id)
                             .execution_options(yield_per=1000)):
        slugs[q.id] = q.slug
        doc: dict[str, Any] = {**definition(q), **review_doc(q, names), "resolution": None}
        chain = chains.get(q.id, [])
        current = [r for r in chain if r.superseded_at is None]
        if current:
            doc["resolution"] = resolution_doc(current[0], q.kind)
            older = [resolution_doc(r, q.kind) for r in chain if r.superseded_at is not None]
            if older:
                doc["resolution"]["history"] = older
        yield _element(doc)


def _vector(text: str | None) -> str:
    return _numbers(json.loads(text or "[]"))


def _numbers(values: list) -> str:
    """A list of numbers inside a forecast element, as json.dumps(indent=1) writes it."""
    if not values:
        return "[]"
    inner = ",\n    ".join(repr(v) if type(v) is float else json.dumps(v) for v in values)
    return f"[\n    {inner}\n   ]"


def _forecasts(session: Session, names: Mapping[int, str], slugs: Mapping[int, str]) -> Iterable[str]:
    user_text = {uid: json.dumps(name, ensure_ascii=False) for uid, name in names.items()}
    head = {qid: '  {\n   "question": ' + json.dumps(slug, ensure_ascii=False) + ',\n   "user": '
            for qid, slug in slugs.items()}
    result = session.connection().execution_options(stream_results=True, max_row_buffer=_BATCH) \
        .exec_driver_sql("SELECT question_id, user_id, at, probability, probabilities_json, "
                         "rationale, cdf FROM forecasts ORDER BY id")
    while rows := result.fetchmany(_BATCH):
        question, user, at, p, ps, note, cdf = zip(*rows)
        stamps = _iso(np.fromiter(at, np.int64, len(at)))
        for q, u, t, pb, vec, r, c in zip(question, user, stamps, p, ps, note, cdf):
            if c is not None:  # the stored values exactly: re-import stores the same bytes
                body = f'\n   "cdf": {_numbers(cdf_codec.decode(bytes(c)).tolist())}'
            elif pb is not None:
                body = f'\n   "probability": {pb!r}'
            else:
                body = f'\n   "probabilities": {_vector(vec)}'
            tail = f',\n   "rationale": {json.dumps(r, ensure_ascii=False)}' if r else ""
            yield f'{head[q]}{user_text[u]},\n   "at": "{t}",{body}{tail}\n  }}'


def write_bundle(session: Session, out: TextIO) -> dict[str, int]:
    """Write the whole platform, except passwords and tokens, as a bundle to `out`
    (tournaments last: SPEC section 7 and forecasts.services.bundle_tournaments);
    returns how many questions and forecasts it holds."""
    names = {uid: name for uid, name in session.execute(select(User.id, User.username))}
    out.write("{\n" f' "format": {json.dumps(FORMAT)},\n')
    _write_list(out, "users", (_element({"username": n})
                               for n in sorted(names.values(), key=str.lower)))
    slugs: dict[int, str] = {}
    n_questions = _write_list(out, "questions", _questions(session, names, slugs))
    n_forecasts = _write_list(out, "forecasts", _forecasts(session, names, slugs))
    _write_list(out, "observations", (
        _element({"series": o.series, "at": timeutil.iso(o.at), "value": o.value,
                  **({"source": o.source} if o.source else {})})
        for o in session.scalars(select(Observation).order_by(Observation.id))))
    _write_list(out, "tournaments", map(_element, export_tournaments(session)), last=True)
    out.write("}")
    return {"questions": n_questions, "forecasts": n_forecasts}


def export_bundle(session: Session) -> dict[str, Any]:
    """The whole platform, except passwords and tokens, as a bundle document."""
    out = io.StringIO()
    write_bundle(session, out)
    return json.loads(out.getvalue())
