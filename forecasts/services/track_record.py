"""A forecaster's track record (issue #13): rolling scores over time, the split by forecast
horizon, discrimination and calibration counts, over the resolved questions they scored.

The questions are the user's scored ones (a row in question_scores) that pass the filters:
a tag, a tournament, and the effective close T1 = min(close, known) in [start, end), the
leaderboard's definition (SPEC section 6). Per question (ordered by T1, then id):

- peer and Brier as stored, and the relative Brier, Brier - the crowd's Brier on it (the
  leaderboard's relative_brier is the mean of these); each with its trailing mean over the
  questions whose T1 falls in (T1 - ROLLING_DAYS, T1] (scoring.rolling_mean).

From the user's forecasts on those questions, each weighted by the share of the user's
window on its question for which it stood (the engine's forecast_weight, as the
calibration chart weighs them, so every question weighs 1 in all):

- horizons: per scoring.HORIZON_LABELS bin of T1 - at, the weighted mean Brier of the
  forecasts (the engine's all-options Brier, for binary and multiple-choice questions),
  the number of forecasts and of questions;
- discrimination: the weighted ROC AUC of P(yes) on binary questions with its bootstrap
  interval over questions (scoring.auc_interval), None without both outcomes;
- calibration: the calibration chart's ten bins with, besides the mean forecast and the
  observed frequency, the number of forecasts and of questions behind each.

Only forecasts with a positive weight count (one replaced at the same instant never stood).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from forecasts import timeutil
from forecasts.cache import cached
from forecasts.errors import InvalidInput, NotFound
from forecasts.models import CrowdScore, Question, QuestionScore, TournamentQuestion
from forecasts.queries import ScoreInputs, score_inputs
from forecasts.services import browse, score_version, tournaments
# The leaderboard's selection of questions by tag and effective-close dates: one definition.
from forecasts.services.leaderboard import question_filter as leaderboard_questions
from forecasts.services.calibration import N_BINS
from forecasts.services.users import get_user

ROLLING_DAYS = 90
LEVEL = 0.9
KINDS = ("binary", "multiple_choice")  # the kinds the engine scores with Brier
_DAY = 86400.0
_MICROS = 1_000_000


@dataclass(frozen=True)
class Point:
    """One scored question: its effective close, scores and the rolling means up to it
    (relative Brier and its mean are None without a crowd score)."""

    time: datetime
    question: str
    title: str
    peer: float
    brier: float
    relative_brier: float | None
    peer_mean: float
    brier_mean: float
    relative_brier_mean: float | None
    window_questions: int


@dataclass(frozen=True)
class Horizon:
    label: str
    mean_brier: float | None
    forecasts: int
    questions: int


@dataclass(frozen=True)
class Discrimination:
    """Weighted AUC of P(yes) with its bootstrap interval (None when undefined)."""

    auc: float
    low: float | None
    high: float | None
    level: float
    forecasts: int
    questions: int


@dataclass(frozen=True)
class CalibrationBin:
    low_edge: float
    high_edge: float
    mean_forecast: float | None
    observed: float | None
    weight: float
    forecasts: int
    questions: int


@dataclass(frozen=True)
class TrackRecord:
    user: str
    filters: dict[str, Any]
    series: list[Point]
    horizons: list[Horizon]
    discrimination: Discrimination | None
    calibration: list[CalibrationBin]

    @property
    def questions(self) -> int:
        return len(self.series)


def check_filters(session: Session, *, tag: str | None, tournament: str | None,
                  start: datetime | None, end: datetime | None) -> tuple[str | None, int | None]:
    """(normalised tag, tournament id); InvalidInput for a tag no question has and for a
    start not before the end, NotFound for an unknown tournament."""
    # The messages name the field, not the value: a page must not reflect what a link put
    # there (as the leaderboard's filters).
    tag = tag.strip().lower() if tag and tag.strip() else None
    if tag is not None and tag not in browse.tags_in_use(session):
        raise InvalidInput("is not the tag of any question", where="tag")
    tournament_id = None
    if tournament is not None and tournament.strip():
        found = tournaments.find(session, tournament.strip()[:80])
        if found is None:
            raise NotFound("is not the slug of any tournament", where="tournament")
        tournament_id = found.id
    if start is not None and end is not None and not start < end:
        raise InvalidInput("the start of the date range must be before its end", where="from")
    return tag, tournament_id


def _questions(session: Session, user_id: int, tag: str | None, tournament_id: int | None,
               start: datetime | None, end: datetime | None):
    """Rows (id, slug, title, peer, brier, crowd brier or None, kind) of the user's scored
    questions in the filters, by id; tag and dates select as the leaderboard's do."""
    chosen = leaderboard_questions(tag, start, end)
    stmt = (select(Question.id, Question.slug, Question.title, QuestionScore.peer,
                   QuestionScore.brier, CrowdScore.brier, Question.kind)
            .join(QuestionScore, QuestionScore.question_id == Question.id)
            .outerjoin(CrowdScore, CrowdScore.question_id == Question.id)
            .where(QuestionScore.user_id == user_id, Question.kind.in_(KINDS),
                   Question.id.in_(chosen)))
    if tournament_id is not None:
        stmt = stmt.where(Question.id.in_(select(TournamentQuestion.question_id).where(
            TournamentQuestion.tournament_id == tournament_id)))
    return session.execute(stmt.order_by(Question.id)).all()


def _number(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def _series(rows, t1: np.ndarray) -> list[Point]:
    """The points of `rows` (by id) with their effective closes `t1` (micros), by (T1, id)."""
    order = np.lexsort((np.fromiter((r[0] for r in rows), np.int64, len(rows)), t1))
    rows, t1 = [rows[i] for i in order.tolist()], t1[order]
    n = len(rows)
    times = t1 / _MICROS
    peer = np.fromiter((r[3] for r in rows), np.float64, n)
    brier = np.fromiter((r[4] for r in rows), np.float64, n)
    crowd = np.fromiter((np.nan if r[5] is None else r[5] for r in rows), np.float64, n)
    relative = brier - crowd  # the leaderboard's relative_brier, question by question
    window = ROLLING_DAYS * _DAY
    peer_mean, count = scoring.rolling_mean(times, peer, window)
    brier_mean, _ = scoring.rolling_mean(times, brier, window)
    # The relative Brier's mean is over the questions in the window that have one.
    known = ~np.isnan(relative)
    relative_mean = np.full(n, np.nan)
    if known.any():
        relative_mean[known] = scoring.rolling_mean(times[known], relative[known], window)[0]
    return [Point(timeutil.from_micros(int(t1[i])), r[1], r[2], float(peer[i]),
                  float(brier[i]), _number(relative[i]), float(peer_mean[i]),
                  float(brier_mean[i]), _number(relative_mean[i]), int(count[i]))
            for i, r in enumerate(rows)]  # one point per question shown


def _forecast_brier(probs: np.ndarray, start: np.ndarray, k: np.ndarray,
                    outcome: np.ndarray) -> np.ndarray:
    """The engine's Brier of each forecast (its row of `k` options at `start`)."""
    out = np.empty(k.size)
    for size in np.unique(k).tolist():  # one pass per option count, not per forecast
        rows = np.flatnonzero(k == size)
        out[rows] = scoring.brier_score(probs[start[rows, None] + np.arange(size)],
                                        outcome[rows])
    return out


def _bin_of(p_yes: np.ndarray) -> np.ndarray:
    """The calibration bin of each P(yes), as scoring.calibration bins it: edge k/n opens
    bin k, and 1 joins the last."""
    edges = np.arange(N_BINS + 1) / N_BINS
    return np.minimum(np.searchsorted(edges, p_yes, side="right") - 1, N_BINS - 1)


def _distinct_per(bins: np.ndarray, group: np.ndarray, n: int) -> np.ndarray:
    """The number of distinct groups in each of `n` bins."""
    if not bins.size:
        return np.zeros(n, np.int64)
    pairs = np.unique(np.stack([bins, group]), axis=1)
    return np.bincount(pairs[0], minlength=n)


def _forecast_figures(inputs: ScoreInputs, binary_question: np.ndarray, n_boot: int,
                      seed: int):
    """(horizons, discrimination, calibration bins) from the user's forecasts in `inputs`
    (`binary_question` tells which of its questions are binary)."""
    questions, forecasts = inputs.questions, inputs.forecasts
    result = scoring.score_questions(questions, forecasts)
    stood = result.forecast_weight > 0
    q = forecasts.question[stood]
    weight = result.forecast_weight[stood]
    k = questions.n_options[forecasts.question]
    start = (np.cumsum(k) - k)[stood]
    k = k[stood]
    outcome = questions.outcome[q]
    brier = _forecast_brier(forecasts.probs, start, k, outcome)
    horizon = (questions.end_at[q] - forecasts.at[stood]) / _MICROS
    split = scoring.horizon_bins(horizon, brier, weight, q)
    horizons = [Horizon(label, _number(split.mean_brier[i]), int(split.forecasts[i]),
                        int(split.questions[i])) for i, label in enumerate(split.labels)]

    binary = binary_question[q] if q.size else np.zeros(0, bool)
    bq, bw, by = q[binary], weight[binary], outcome[binary]
    p_yes = forecasts.probs[start[binary] + 1]
    discrimination = None
    if bq.size and (by == 1).any() and (by == 0).any():
        auc, low, high = scoring.auc_interval(p_yes, by == 1, bw, bq, n=n_boot, seed=seed,
                                              level=LEVEL)
        if not np.isnan(auc):
            discrimination = Discrimination(float(auc), _number(low), _number(high), LEVEL,
                                            int(bq.size), int(np.unique(bq).size))
    return horizons, discrimination, _calibration(p_yes, by, bw, bq)


def _calibration(p_yes: np.ndarray, outcome: np.ndarray, weight: np.ndarray,
                 question: np.ndarray) -> list[CalibrationBin]:
    edges = np.linspace(0.0, 1.0, N_BINS + 1)
    if not p_yes.size:
        return [CalibrationBin(float(edges[i]), float(edges[i + 1]), None, None, 0.0, 0, 0)
                for i in range(N_BINS)]
    cal = scoring.calibration(p_yes, outcome, weight, n_bins=N_BINS)
    per_bin = _distinct_per(_bin_of(p_yes), question, N_BINS)
    return [CalibrationBin(float(edges[i]), float(edges[i + 1]), _number(cal.mean_forecast[i]),
                           _number(cal.observed[i]), float(cal.weight[i]), int(cal.count[i]),
                           int(per_bin[i])) for i in range(N_BINS)]


def track_record(session: Session, username: str, *, tag: str | None = None,
                 tournament: str | None = None, start: datetime | None = None,
                 end: datetime | None = None, n_boot: int, seed: int) -> TrackRecord:
    """The track record of `username` over their scored questions in the filters (the
    module's docstring gives every figure); `n_boot` and `seed` are the bootstrap's
    (LEADERBOARD_BOOTSTRAP and LEADERBOARD_SEED). NotFound for an unknown user or
    tournament, InvalidInput for an unknown tag or a start not before the end."""
    user = get_user(session, username)
    tag, tournament_id = check_filters(session, tag=tag, tournament=tournament, start=start,
                                       end=end)
    rows = _questions(session, user.id, tag, tournament_id, start, end)
    filters = {"tag": tag, "tournament": tournament.strip() if tournament_id else None,
               "from": start, "to": end}
    if not rows:
        return TrackRecord(user.username, filters, [], _empty_horizons(), None,
                           _calibration(np.zeros(0), np.zeros(0, np.int64), np.zeros(0),
                                        np.zeros(0, np.int64)))
    ids = [int(r[0]) for r in rows]

    def compute() -> tuple[list[Point], list[Horizon], Discrimination | None,
                           list[CalibrationBin]]:
        # The engine's inputs: T1 (end_at) of each question and the user's forecasts, in
        # id order, as the rows are.
        inputs = score_inputs(session, ids, user_id=user.id)
        binary = np.fromiter((r[6] == "binary" for r in rows), bool, len(rows))
        return (_series(rows, inputs.questions.end_at),
                *_forecast_figures(inputs, binary, n_boot, seed))

    # The figures depend only on the scores (the score version) and on which questions
    # the filters chose (a tag or tournament edit changes them without a new version);
    # one entry per filter, so a page's cost does not depend on what was viewed before.
    version = score_version.for_cache(session)
    if version:
        digest = hashlib.blake2b(np.array(ids, np.int64).tobytes(), digest_size=12).hexdigest()
        chosen = "|".join(str(x) for x in (tag, tournament_id, start and timeutil.iso(start),
                                           end and timeutil.iso(end)))
        figures = cached(f"track-record:{version}:{user.id}:{n_boot}:{seed}:{chosen}:{digest}",
                         compute)
    else:
        figures = compute()
    return TrackRecord(user.username, filters, *figures)


def _empty_horizons() -> list[Horizon]:
    return [Horizon(label, None, 0, 0) for label in scoring.HORIZON_LABELS]
