"""The figures the question list, page and API show: forecasters, forecasts, last
forecast and the current crowd, kept in `question_stats` on every write.

One definition: a question's figures count the forecasts that count for its crowd,
which are all of them until it is resolved and, once resolved, only those made before
its effective close (the scored ones; an annulled question keeps them all). `compute`
is that definition from the forecasts table; `on_forecast` keeps a row current when a
forecast is added, `refresh` recomputes rows after anything else that changes them
(a bulk import, a resolution, a correction) and `stats_for` reads them, computing the
rows that are missing (a database migrated to 0005 that has not been rescored yet).

Numeric and date questions (SPEC §11) get the same counts; their crowd figure is None
for now (a crowd of CDFs is no list of option probabilities), never a wrong number.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

import numpy as np
from sqlalchemy import Row, and_, delete, exists, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

import scoring
from forecasts import timeutil
from forecasts.models import (ANNULLED, CONTINUOUS_KINDS, Forecast, Question, QuestionStats,
                              Resolution)
from forecasts.queries import fetch_columns, forecast_arrays, raw_time
from forecasts.services import latest_forecasts

# Questions per statement, well under SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 5000


@dataclass(frozen=True)
class Stats:
    """A question's figures; `version` changes whenever they may have (0: never stored)."""

    question_id: int
    forecasters: int
    forecasts: int
    last_forecast_at: datetime | None
    crowd: list[float] | None
    version: int = 0


def counted_before(question: Question, resolution: Resolution | None) -> datetime | None:
    """The time before which forecasts count for the crowd (None: all of them): the
    effective close of a resolved question."""
    from forecasts.services.resolution import effective_close  # resolution imports us

    if resolution is None or resolution.annulled:
        return None
    return effective_close(question, resolution)


def _cutoffs(session: Session, ids: Sequence[int]
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ascending question ids, their option counts, the counted-before time in
    microseconds (int64 max: every forecast counts) and which are numeric or date."""
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    rows = session.execute(
        select(Question.id, Question.options_json, Question.close_at, Resolution.outcome,
               Resolution.known_at, Question.kind).outerjoin(Resolution, current)
        .where(Question.id.in_(list(ids))).order_by(Question.id)).all()
    qid = np.array([r[0] for r in rows], np.int64)
    n_options = np.array([len(json.loads(r[1])) if r[1] else 2 for r in rows], np.int64)
    never = np.iinfo(np.int64).max
    # resolution.effective_close (min of close and known_at), on plain rows for speed.
    cut = [never if outcome is None or outcome == ANNULLED else
           timeutil.to_micros(close if known is None else min(close, known))
           for _, _, close, outcome, known, _ in rows]
    continuous = np.array([r[5] in CONTINUOUS_KINDS for r in rows], bool)
    return qid, n_options, np.array(cut, np.int64), continuous


def _cdf_counts(session: Session, qid: np.ndarray, cut: np.ndarray
                ) -> dict[int, tuple[int, int, int]]:
    """For numeric and date questions `qid` (ascending): (forecasters, forecasts, last
    forecast time in microseconds) of the CDF forecasts before each one's cut-off."""
    if not len(qid):
        return {}
    question_id, user, at = fetch_columns(session, select(
        Forecast.question_id, Forecast.user_id, raw_time(Forecast.at))
        .where(Forecast.question_id.in_(qid.tolist()), Forecast.cdf.is_not(None)),
        (np.int64, np.int64, np.int64))
    index = np.searchsorted(qid, question_id)
    keep = at < cut[index]
    index, user, at = index[keep], user[keep], at[keep]
    count = np.bincount(index, minlength=len(qid))
    pairs = np.unique(np.stack([index, user]), axis=1)
    forecasters = np.bincount(pairs[0], minlength=len(qid))
    last = np.full(len(qid), np.iinfo(np.int64).min)
    np.maximum.at(last, index, at)
    return {q: (int(n), int(c), int(t)) for q, n, c, t in
            zip(qid.tolist(), forecasters.tolist(), count.tolist(), last.tolist())}


def compute(session: Session, question_ids: Iterable[int], *,
            aggregator: scoring.Aggregator = scoring.MEDIAN) -> dict[int, Stats]:
    """The figures of these questions computed afresh from the forecasts table, the
    crowd made by `aggregator`."""
    out: dict[int, Stats] = {}
    ids = sorted(set(question_ids))
    for start in range(0, len(ids), _CHUNK):
        qid, n_options, cut, continuous = _cutoffs(session, ids[start:start + _CHUNK])
        if not len(qid):
            continue
        for q, (n, count, last_us) in _cdf_counts(session, qid[continuous],
                                                  cut[continuous]).items():
            out[q] = Stats(q, n, count, timeutil.from_micros(last_us) if count else None, None)
        f = forecast_arrays(session, qid, n_options)
        keep = f.at < cut[f.question]
        if not keep.all():
            f = _subset(f, n_options, keep)
        crowd = scoring.current_crowd(n_options, f, method=aggregator)
        count = np.bincount(f.question, minlength=len(qid))
        last = np.full(len(qid), np.iinfo(np.int64).min)
        np.maximum.at(last, f.question, f.at)
        for i, q in enumerate(qid.tolist()):
            if continuous[i]:
                continue
            n = int(crowd.n_forecasters[i])
            out[q] = Stats(q, n, int(count[i]),
                           timeutil.from_micros(int(last[i])) if count[i] else None,
                           crowd.probs[i, :n_options[i]].tolist() if n else None)
    return out


def _subset(f: scoring.Forecasts, n_options: np.ndarray, keep: np.ndarray) -> scoring.Forecasts:
    """The forecasts where `keep` is true, in the same flat layout."""
    k = n_options[f.question]
    starts = np.concatenate(([0], np.cumsum(k)[:-1])).astype(np.int64)
    kept_k = k[keep]
    flat = np.repeat(starts[keep], kept_k) + (np.arange(int(kept_k.sum())) -
                                               np.repeat(np.cumsum(kept_k) - kept_k, kept_k))
    return scoring.Forecasts(question=f.question[keep], user=f.user[keep], at=f.at[keep],
                             probs=f.probs[flat])


def from_row(row: QuestionStats) -> Stats:
    """The figures of a stored row."""
    return Stats(row.question_id, row.forecasters, row.forecasts, row.last_forecast_at,
                 None if row.crowd_json is None else json.loads(row.crowd_json), row.version)


def refresh(session: Session, question_ids: Iterable[int] | None = None, *,
            aggregator: scoring.Aggregator = scoring.MEDIAN) -> int:
    """Recompute the stored figures of these questions (None: of every question), the
    crowd made by `aggregator`, and bump their versions; returns the rows written."""
    if question_ids is None:
        ids = list(session.scalars(select(Question.id)))
    else:
        ids = sorted(set(question_ids))
    if not ids:
        return 0
    session.flush()
    fresh = compute(session, ids, aggregator=aggregator)
    written = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        versions = dict(session.execute(select(QuestionStats.question_id, QuestionStats.version)
                                        .where(QuestionStats.question_id.in_(chunk))).all())
        session.execute(delete(QuestionStats).where(QuestionStats.question_id.in_(chunk)),
                        execution_options={"synchronize_session": False})
        rows = [{"question_id": q, "forecasters": s.forecasters, "forecasts": s.forecasts,
                 "last_forecast_at": s.last_forecast_at,
                 "crowd_json": None if s.crowd is None else json.dumps(s.crowd),
                 "version": versions.get(q, 0) + 1}
                for q in chunk if (s := fresh.get(q)) is not None]
        if rows:
            session.execute(insert(QuestionStats), rows)
        written += len(rows)
    # Loaded QuestionStats objects of these ids are stale now.
    for obj in [o for o in session.identity_map.values() if isinstance(o, QuestionStats)]:
        session.expire(obj)
    return written


def _locked(session: Session, question_id: int) -> Row | None:
    """The row's last forecast time and kept latest state, locked. FOR UPDATE serialises
    concurrent forecasts on PostgreSQL; under READ COMMITTED the statements after it see
    what the transaction it waited for committed. (Columns, not the mapped object: the
    caller updates the row with a statement and expires any loaded copy.)"""
    return session.execute(select(QuestionStats.last_forecast_at, QuestionStats.latest)
                           .where(QuestionStats.question_id == question_id)
                           .with_for_update()).first()


def _expire_loaded(session: Session, question_id: int) -> None:
    loaded = session.identity_map.get(identity_key(QuestionStats, question_id))
    if loaded is not None:
        session.expire(loaded)


def _insert_new(session: Session, stats: Stats) -> bool:
    """Insert a row unless one exists (another transaction may be inserting it)."""
    values = {"question_id": stats.question_id, "forecasters": stats.forecasters,
              "forecasts": stats.forecasts, "last_forecast_at": stats.last_forecast_at,
              "crowd_json": None if stats.crowd is None else json.dumps(stats.crowd),
              "version": 1}
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    result = session.execute(upsert(QuestionStats).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


def on_forecast(session: Session, question: Question, forecast: Forecast, *,
                aggregator: scoring.Aggregator = scoring.MEDIAN) -> bool:
    """Bring the question's row up to date with `forecast`, just added and flushed to an
    unresolved question (submit_forecast refuses the others), in its transaction; the
    crowd made by `aggregator`.

    Each forecaster's latest forecast is kept in the row (`latest`): `forecast` is
    applied to it, or, where it is not kept, it is read from the forecasts table (which
    then holds `forecast`); the state after `forecast` is stored with the figures.

    Returns False when `forecast`'s user had forecast the question before, True when
    they had not or that is not known."""
    row = _locked(session, question.id)
    if row is None:
        if _insert_new(session, compute(session, [question.id],
                                        aggregator=aggregator)[question.id]):
            return True
        row = _locked(session, question.id)
        assert row is not None
    if question.kind in CONTINUOUS_KINDS:
        # No crowd to keep yet (module docstring): the counts, one more forecast and, if
        # this is the user's first on the question, one more forecaster.
        again = session.scalar(select(exists().where(
            Forecast.question_id == question.id, Forecast.user_id == forecast.user_id,
            Forecast.id != forecast.id)))
        last = row.last_forecast_at
        session.execute(update(QuestionStats).where(QuestionStats.question_id == question.id)
                        .values(forecasters=QuestionStats.forecasters + (0 if again else 1),
                                forecasts=QuestionStats.forecasts + 1,
                                last_forecast_at=forecast.at if last is None or forecast.at > last
                                else last, crowd_json=None, version=QuestionStats.version + 1),
                        execution_options={"synchronize_session": False})
        _expire_loaded(session, question.id)
        return not again
    k = len(question.options)
    kept = latest_forecasts.decode_latest(row.latest, k)
    latest = (latest_forecasts.with_forecast(kept, forecast) if kept is not None
              else latest_forecasts.from_table(session, question))
    first = kept is None or len(latest.users) > len(kept.users)  # the user was added
    crowd, forecasters = latest_forecasts.crowd_of(latest, k, aggregator)
    last = row.last_forecast_at
    session.execute(update(QuestionStats).where(QuestionStats.question_id == question.id).values(
        forecasters=forecasters, forecasts=QuestionStats.forecasts + 1,
        last_forecast_at=forecast.at if last is None or forecast.at > last else last,
        crowd_json=None if crowd is None else json.dumps(crowd),
        latest=latest_forecasts.encode_latest(latest),
        version=QuestionStats.version + 1), execution_options={"synchronize_session": False})
    _expire_loaded(session, question.id)
    return first


def stats_for(session: Session, question_ids: Iterable[int], *,
              aggregator: scoring.Aggregator = scoring.MEDIAN) -> dict[int, Stats]:
    """The stored figures of these questions, computing (not storing) any missing row
    (its crowd made by `aggregator`)."""
    ids = sorted(set(question_ids))
    if not ids:
        return {}
    found = {row.question_id: from_row(row) for row in session.scalars(
        select(QuestionStats).where(QuestionStats.question_id.in_(ids)))}
    missing = [q for q in ids if q not in found]
    return {**found, **compute(session, missing, aggregator=aggregator)} if missing else found


def stats_of(session: Session, question: Question, *,
             aggregator: scoring.Aggregator = scoring.MEDIAN) -> Stats:
    """The figures of one question."""
    return stats_for(session, [question.id], aggregator=aggregator)[question.id]
