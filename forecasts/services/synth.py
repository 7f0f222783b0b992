"""A realistic synthetic data set written straight into the database (`forecasts synth`).

Questions of both kinds with tags, rules and windows spread around now, about 60% of them
resolved with outcomes drawn from a hidden truth; users with skill profiles whose forecasts
are noisy versions of that truth; one hot open question. Everything is drawn with numpy and
written through `forecasts.bulk`, then scored once. Every forecast is valid as a bundle
row would be (within [0.001, 0.999], vectors summing to 1), so the result exports and
re-imports unchanged.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forecasts import bulk, timeutil
from forecasts.errors import Conflict, InvalidInput
from forecasts.models import Forecast, Question, QuestionTag, Resolution, User
from forecasts.services import comments, follows, question_stats, scores

DAY = 86_400_000_000  # microseconds
TAGS = ("economy", "elections", "security", "science", "technology", "health", "climate",
        "sport", "energy", "trade", "space", "culture")
RATIONALES = ("Base rates say so.", "The latest polls moved.", "Nothing has changed.",
              "Following the crowd here.", "Reports this week point the other way.")
# Probabilities are drawn in thousandths: 1..999 for binary, at least 1 per option for
# multiple choice, with integer thousandths summing to exactly 1000.
GRAIN = 1000
CHUNK = 100_000


@dataclass
class SynthCounts:
    users: int
    questions: int
    resolved: int
    forecasts: int


def _check(value: int, name: str, minimum: int = 0) -> int:
    if value < minimum:
        raise InvalidInput(f"must be at least {minimum}, got {value}", where=name)
    return value


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def binary_thousandths(p: np.ndarray) -> np.ndarray:
    """Probabilities mapped into 1..999 thousandths (so within [0.001, 0.999] exactly)."""
    return np.rint(1 + (GRAIN - 2) * p).astype(np.int64)


def vector_thousandths(p: np.ndarray) -> np.ndarray:
    """Rows of probabilities as integer thousandths, each at least 1, summing to 1000.

    The floor is applied before rounding (p -> 1 + (1000 - k) p, then largest remainder),
    so no value falls below 0.001 after the sum is restored, unlike clipping after
    normalising.
    """
    k = p.shape[1]
    scaled = 1 + (GRAIN - k) * p
    base = np.floor(scaled).astype(np.int64)
    short = GRAIN - base.sum(axis=1)  # 0..k-1 units still to hand out
    order = np.argsort(-(scaled - base), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(k)[None, :].repeat(len(p), 0), axis=1)
    return base + (rank < short[:, None])


def _names_free(session: Session, model: type, column, names: list[str], where: str) -> None:
    taken = session.scalars(select(column).where(func.lower(column).in_(names)).limit(1)).first()
    if taken is not None:
        raise Conflict(f"{taken!r} already exists; run synth on an empty database "
                       "or with another --seed", where=where)


def synth(session: Session, *, questions: int, users: int, forecasts: int,
          hot_question_forecasts: int = 0, seed: int = 0, now: datetime | None = None,
          progress: Callable[[int], None] | None = None) -> SynthCounts:
    """Generate and insert the data set in the caller's transaction, then score it.

    `progress` is called with the number of forecast rows written since its last call.
    """
    _check(questions, "--questions")
    _check(users, "--users")
    _check(forecasts, "--forecasts")
    _check(hot_question_forecasts, "--hot-question-forecasts")
    if (forecasts or hot_question_forecasts) and users == 0:
        raise InvalidInput("forecasts need at least one user", where="--users")
    if forecasts and questions == 0:
        raise InvalidInput("forecasts need at least one question", where="--questions")
    rng = np.random.default_rng(seed)
    now_us = timeutil.to_micros(now or timeutil.now())
    n_q = questions + (1 if hot_question_forecasts else 0)

    user_ids = bulk.reserve_ids(session, User, users)
    names = [f"s{seed}-user-{i}" for i in range(users)]
    q_ids = bulk.reserve_ids(session, Question, n_q)
    slugs = [f"s{seed}-q-{i}" for i in range(n_q)]
    if names:
        _names_free(session, User, User.username, names[:1] + names[-1:], "--seed")
    if slugs:
        _names_free(session, Question, Question.slug, slugs[:1] + slugs[-1:], "--seed")

    # Users: skill (noise in logit space), bias, and how active they are.
    noise = rng.uniform(0.25, 1.6, users)
    bias = rng.normal(0.0, 0.25, users)
    activity = rng.lognormal(0.0, 1.0, users)
    bulk.insert_rows(session, User, ("id", "username", "role", "session_epoch", "created_at",
                                     "failed_logins"),
                     {"id": user_ids, "username": names, "role": ["forecaster"] * users,
                      "session_epoch": np.zeros(users, np.int64),
                      "created_at": now_us - rng.integers(400, 900, users) * DAY,
                      "failed_logins": np.zeros(users, np.int64)})

    # Questions: kind, window, hidden truth, outcome.
    k = np.where(rng.random(n_q) < 0.7, 2, rng.integers(3, 7, n_q))
    ordered = (k > 2) & (rng.random(n_q) < 0.3)
    duration = rng.integers(30, 400, n_q) * DAY
    open_at = now_us - rng.integers(0, 800, n_q) * DAY + rng.integers(0, DAY, n_q)
    upcoming = rng.random(n_q) < 0.03
    upcoming[0] = False  # so that some question always takes the forecasts
    open_at[upcoming] = now_us + rng.integers(1, 30, upcoming.sum()) * DAY
    close_at = open_at + duration
    closed = close_at <= now_us
    resolved = closed & (rng.random(n_q) < 0.85)
    early = resolved & (rng.random(n_q) < 0.1)
    known_at = np.where(early, open_at + (rng.uniform(0.5, 0.95, n_q) * duration).astype(np.int64),
                        0)
    annulled = resolved & (rng.random(n_q) < 0.02)
    if hot_question_forecasts:  # the last question: open for 60 more days, binary
        h = n_q - 1
        k[h], ordered[h], upcoming[h] = 2, False, False
        open_at[h], close_at[h] = now_us - 60 * DAY, now_us + 60 * DAY
        closed[h] = resolved[h] = early[h] = annulled[h] = False
    truth_binary = _sigmoid(rng.normal(0.0, 1.6, n_q))
    outcome_index = np.where(k == 2, rng.random(n_q) < truth_binary, 0).astype(np.int64)
    truth_vectors: dict[int, np.ndarray] = {}
    for kk in range(3, 7):
        rows = np.flatnonzero(k == kk)
        truth_vectors[kk] = rng.dirichlet(np.full(kk, 0.8), len(rows))
        cumulative = truth_vectors[kk].cumsum(axis=1)
        draws = rng.random(len(rows))[:, None]
        outcome_index[rows] = np.minimum((draws > cumulative).sum(axis=1), kk - 1)
    deadline = (k == 2) & (~closed | resolved) & (rng.random(n_q) < 0.3)

    options = [None if kk == 2 else json.dumps([f"Option {chr(65 + j)}" for j in range(kk)])
               for kk in k.tolist()]
    rule = ['{"type": "deadline", "default": "no"}' if d else '{"type": "manual"}'
            for d in deadline.tolist()]
    bulk.insert_rows(session, Question, (
        "id", "slug", "title", "description", "kind", "options_json", "ordered", "open_at",
        "close_at", "rule_json", "created_at", "review_state"), {
        "id": q_ids, "slug": slugs,
        "title": [f"Synthetic question {i}: will event {i} happen?" for i in range(n_q)],
        "description": ["Generated by `forecasts synth`."] * n_q,
        "kind": ["binary" if kk == 2 else "multiple_choice" for kk in k.tolist()],
        "options_json": options, "ordered": [bool(o) for o in ordered.tolist()],
        "open_at": open_at, "close_at": close_at, "rule_json": rule,
        "created_at": open_at - DAY, "review_state": ["published"] * n_q})
    n_tags = rng.integers(1, 4, n_q)
    tag_q = np.repeat(np.arange(n_q), n_tags)
    position = np.arange(len(tag_q)) - np.repeat(np.cumsum(n_tags) - n_tags, n_tags)
    # Distinct tags per question: consecutive entries of a per-question rotation.
    tag_index = (rng.integers(0, len(TAGS), n_q)[tag_q] + position * 5) % len(TAGS)
    bulk.insert_rows(session, QuestionTag, ("question_id", "tag", "position"), {
        "question_id": q_ids[tag_q], "tag": [TAGS[t] for t in tag_index.tolist()],
        "position": position})

    res = np.flatnonzero(resolved)
    labels = [("no", "yes") if kk == 2 else tuple(f"Option {chr(65 + j)}" for j in range(kk))
              for kk in k.tolist()]
    outcome = ["annulled" if annulled[i] else labels[i][outcome_index[i]] for i in res.tolist()]
    made = np.where(early, np.minimum(known_at + 2 * DAY, now_us),
                    np.minimum(close_at + DAY, now_us))
    bulk.insert_rows(session, Resolution, (
        "question_id", "outcome", "known_at", "note", "actor", "source", "created_at",
        "notified_at"), {
        "question_id": q_ids[res], "outcome": outcome,
        "known_at": [int(known_at[i]) if early[i] and not annulled[i] else None
                     for i in res.tolist()],
        "note": [""] * len(res), "actor": ["synth"] * len(res), "source": ["manual"] * len(res),
        "created_at": made[res], "notified_at": made[res]})

    # Forecasts: popular questions and active users get more; times mostly before the
    # effective close (a few after an early known_at, kept but never scored).
    regular = ~upcoming
    if hot_question_forecasts:
        regular[n_q - 1] = False  # the hot question gets exactly its own count
    forecastable = np.flatnonzero(regular)
    total = forecasts + hot_question_forecasts
    if total:
        popularity = rng.lognormal(0.0, 1.0, len(forecastable))
        fq = np.empty(0, np.int64)
        if forecasts:
            fq = forecastable[rng.choice(len(forecastable), forecasts,
                                         p=popularity / popularity.sum())]
        if hot_question_forecasts:
            fq = np.concatenate([fq, np.full(hot_question_forecasts, n_q - 1)])
        fu = rng.choice(users, total, p=activity / activity.sum())
        end = np.minimum(close_at, now_us)
        end = np.where(early & (rng.random(n_q) < 0.98), np.minimum(known_at, end), end)
        span = np.maximum(end - open_at, 1)
        frac = rng.random(total)
        at = open_at[fq] + (frac * span[fq]).astype(np.int64)
        # Closer to the close, forecasters know more: noise shrinks over the window.
        sigma = noise[fu] * (1.0 - 0.6 * frac)
        p = np.zeros(total)
        is_binary = k[fq] == 2
        b = np.flatnonzero(is_binary)
        logit = np.log(truth_binary[fq[b]] / (1 - truth_binary[fq[b]]))
        noisy = logit + bias[fu[b]] + sigma[b] * rng.normal(size=len(b))
        p[b] = binary_thousandths(_sigmoid(noisy)) / GRAIN
        vectors: list[str | None] = [None] * total
        for kk in range(3, 7):
            rows = np.flatnonzero(k[fq] == kk)
            if len(rows) == 0:
                continue
            position_in_kind = np.searchsorted(np.flatnonzero(k == kk), fq[rows])
            z = (np.log(truth_vectors[kk][position_in_kind])
                 + sigma[rows, None] * rng.normal(size=(len(rows), kk)))
            z = np.exp(z - z.max(axis=1, keepdims=True))
            thousandths = vector_thousandths(z / z.sum(axis=1, keepdims=True))
            for row, vector in zip(rows.tolist(), (thousandths / GRAIN).tolist()):
                vectors[row] = json.dumps(vector)
        with_note = np.flatnonzero(rng.random(total) < 0.05)
        notes: list[str | None] = [None] * total
        picks = rng.integers(0, len(RATIONALES), len(with_note))
        for row, choice in zip(with_note.tolist(), picks.tolist()):
            notes[row] = RATIONALES[choice]
        order = np.argsort(at, kind="stable")  # ids in time order, as forecasts arrive
        probability = [float(v) if bn else None for v, bn in zip(p.tolist(), is_binary.tolist())]
        qcol, ucol = q_ids[fq][order].tolist(), user_ids[fu][order].tolist()
        atcol = at[order].tolist()
        ordering = order.tolist()

        def rows():
            for start in range(0, total, CHUNK):
                stop = min(start + CHUNK, total)
                yield from ((q, u, t, probability[i], vectors[i], notes[i], t) for q, u, t, i in
                            zip(qcol[start:stop], ucol[start:stop], atcol[start:stop],
                                ordering[start:stop]))
                if progress is not None:
                    progress(stop - start)

        bulk.insert_rows(session, Forecast, ("question_id", "user_id", "at", "probability",
                                             "probabilities_json", "rationale", "created_at"),
                         rows(), expected=total)

    scores.rescore_questions(session, q_ids[res].tolist())
    question_stats.refresh(session, q_ids.tolist())
    comments.from_rationales(session, q_ids.tolist())
    follows.follow_forecasters(session, q_ids.tolist())
    bulk.analyze(session, (User, Question, QuestionTag, Resolution, Forecast))
    return SynthCounts(users=users, questions=n_q, resolved=len(res), forecasts=total)
