"""Whether one forecaster is really better than another, or than the crowd (issue #13).

Over the questions both have stored scores on (question_scores; crowd_scores for the
crowd), per metric: the mean of the paired differences A - B, its seeded paired bootstrap
interval (scoring.paired_bootstrap: the questions are resampled) and a verdict in plain
words. Two users are compared on peer (higher is better) and Brier; a user and the crowd
on Brier and log (the crowd has no peer score), lower being better. The pairs and
figures are cached under the score version; a page of per-question rows then reads only
its questions' titles. Only questions with a Brier score are compared: numeric and date
questions (SPEC section 11, a CRPS instead) are left out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasts.cache import cached
from forecasts.errors import InvalidInput
from forecasts.models import CrowdScore, Question, QuestionScore, User
from forecasts.queries import fetch_columns
from forecasts.services import score_version
from forecasts.services.profile import PER_PAGE, Page, window
from forecasts.services.users import find_user
from scoring import paired_bootstrap

CROWD = "crowd"
LEVEL = 0.9
USER_METRICS = ("peer", "brier")
CROWD_METRICS = ("brier", "log")
HIGHER_IS_BETTER = frozenset({"peer"})
VERDICTS = {"better": "better, and the interval excludes zero",
            "worse": "worse, and the interval excludes zero",
            "undecided": "cannot tell apart yet",
            "none": "no questions in common"}
_TIE = 1e-9  # scores this close (relative to 1 or their size) are a tie, not a win


def verdict(low: float | None, high: float | None, *, higher_is_better: bool,
            questions: int) -> str:
    """The key of VERDICTS for an interval of A - B: "better" when it excludes zero on
    A's good side, "worse" on the other, "undecided" when it holds zero (or is missing:
    fewer than two questions), "none" without questions in common."""
    if questions == 0:
        return "none"
    if low is None or high is None or low <= 0 <= high:
        return "undecided"
    above = low > 0
    return "better" if above == higher_is_better else "worse"


def better(a: np.ndarray, b: np.ndarray, *, higher_is_better: bool) -> np.ndarray:
    """Per question "a", "b" or "tie": whose score was better (within a relative 1e-9)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    gap = (a - b) if higher_is_better else (b - a)
    tol = _TIE * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    return np.where(gap > tol, "a", np.where(gap < -tol, "b", "tie"))


@dataclass(frozen=True)
class Metric:
    """One metric compared: the means of A and B over the common questions, the mean
    difference A - B with its interval (None under two questions) and the verdict."""

    metric: str
    higher_is_better: bool
    mean_a: float | None
    mean_b: float | None
    difference: float | None
    low: float | None
    high: float | None
    verdict: str

    @property
    def verdict_text(self) -> str:
        return VERDICTS[self.verdict]


@dataclass(frozen=True)
class Pairs:
    """The common questions (latest close first) and both sides' scores on them."""

    question_ids: np.ndarray
    a: dict[str, np.ndarray]
    b: dict[str, np.ndarray]
    metrics: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """A against `other` (a username or "crowd"): the metrics and a page of questions,
    each {"question", "title", "a": {metric: score}, "b": {...}, "better": {metric:
    "a" | "b" | "tie"}}."""

    user: str
    other: str
    questions: int
    metrics: list[Metric]
    rows: list[dict[str, Any]]
    start: int


def resolve_other(session: Session, user: User, text: str | None, *,
                  where: str = "compare") -> User | None:
    """The user named by `text`, or None for the crowd; InvalidInput for an empty or
    unknown name and for the user themselves."""
    name = (text or "").strip()
    if not name:
        raise InvalidInput('give a username or "crowd" to compare with', where=where)
    if name.lower() == CROWD:
        return None
    other = find_user(session, name[:100])
    if other is None:
        raise InvalidInput(f"no user named {name[:40]!r} to compare with", where=where)
    if other.id == user.id:
        raise InvalidInput(f"that is {user.username}: compare with another forecaster "
                           'or "crowd"', where=where)
    return other


def _scores(session: Session, user_id: int, metrics: tuple[str, ...], *, ordered: bool):
    stmt = select(QuestionScore.question_id, *(getattr(QuestionScore, m) for m in metrics)
                  ).where(QuestionScore.user_id == user_id, QuestionScore.brier.is_not(None))
    if ordered:  # the profile's order: latest close first, then newest question
        stmt = stmt.join(Question, Question.id == QuestionScore.question_id).order_by(
            Question.close_at.desc(), Question.id.desc())
    return fetch_columns(session, stmt, (np.int64, *([np.float64] * len(metrics))))


def _pairs(session: Session, user: User, other: User | None) -> Pairs:
    if other is None:
        metrics = CROWD_METRICS
        stmt = (select(QuestionScore.question_id,
                       *(getattr(QuestionScore, m) for m in metrics),
                       *(getattr(CrowdScore, m) for m in metrics))
                .join(CrowdScore, CrowdScore.question_id == QuestionScore.question_id)
                .join(Question, Question.id == QuestionScore.question_id)
                .where(QuestionScore.user_id == user.id, QuestionScore.brier.is_not(None))
                .order_by(Question.close_at.desc(), Question.id.desc()))
        qid, *cols = fetch_columns(session, stmt, (np.int64, *([np.float64] * 4)))
        return Pairs(qid, dict(zip(metrics, cols[:2])), dict(zip(metrics, cols[2:])), metrics)
    metrics = USER_METRICS
    qa, *ca = _scores(session, user.id, metrics, ordered=True)
    qb, *cb = _scores(session, other.id, metrics, ordered=False)
    order = np.argsort(qb)
    qb = qb[order]
    pos = np.minimum(np.searchsorted(qb, qa), max(len(qb) - 1, 0))
    common = (qb[pos] == qa) if len(qb) else np.zeros(len(qa), bool)
    where_b = order[pos[common]]
    return Pairs(qa[common], {m: c[common] for m, c in zip(metrics, ca)},
                 {m: c[where_b] for m, c in zip(metrics, cb)}, metrics)


def _metrics(pairs: Pairs, n_boot: int, seed: int) -> list[Metric]:
    m = len(pairs.question_ids)
    out = []
    for name in pairs.metrics:  # two metrics, not a loop over questions
        up = name in HIGHER_IS_BETTER
        if m == 0:
            out.append(Metric(name, up, None, None, None, None, None, "none"))
            continue
        a, b = pairs.a[name], pairs.b[name]
        if m >= 2:
            diff, low, high = paired_bootstrap(a - b, n=n_boot, seed=seed, level=LEVEL)
        else:
            diff, low, high = float(a[0] - b[0]), None, None
        out.append(Metric(name, up, float(a.mean()), float(b.mean()), diff, low, high,
                          verdict(low, high, higher_is_better=up, questions=m)))
    return out


def _summary(session: Session, user: User, other: User | None, n_boot: int,
             seed: int) -> tuple[Pairs, list[Metric]]:
    def compute():
        pairs = _pairs(session, user, other)
        return pairs, _metrics(pairs, n_boot, seed)
    version = score_version.for_cache(session)
    if not version:
        return compute()
    key = f"compare:{version}:{user.id}:{other.id if other else CROWD}:{n_boot}:{seed}"
    return cached(key, compute)


def compare(session: Session, user: User, other: User | None, *, n_boot: int, seed: int,
            start: int = 0, count: int = PER_PAGE) -> Comparison:
    """`user` against `other` (None: the crowd), with the rows start..start+count of
    the common questions (latest close first)."""
    pairs, metrics = _summary(session, user, other, n_boot, seed)
    ids = pairs.question_ids[start:start + count]
    titles = dict((qid, (slug, title)) for qid, slug, title in session.execute(
        select(Question.id, Question.slug, Question.title).where(
            Question.id.in_(ids.tolist())))) if len(ids) else {}
    part = slice(start, start + len(ids))
    marks = {m: better(pairs.a[m][part], pairs.b[m][part], higher_is_better=m in
                       HIGHER_IS_BETTER).tolist() for m in pairs.metrics}
    rows = [{"question": titles[q][0], "title": titles[q][1],
             "a": {m: float(pairs.a[m][start + i]) for m in pairs.metrics},
             "b": {m: float(pairs.b[m][start + i]) for m in pairs.metrics},
             "better": {m: marks[m][i] for m in pairs.metrics}}
            for i, q in enumerate(ids.tolist())]  # one page of rows, at most PER_PAGE
    return Comparison(user.username, other.username if other else CROWD,
                      len(pairs.question_ids), metrics, rows, start)


def compare_page(session: Session, user: User, other: User | None, number: int, *,
                 n_boot: int, seed: int) -> tuple[Comparison, Page[dict[str, Any]]]:
    """The comparison with page `number` of its rows (as the profile's lists page)."""
    pairs, _ = _summary(session, user, other, n_boot, seed)
    pages, start, end = window(len(pairs.question_ids), number, PER_PAGE, "compare_page")
    result = compare(session, user, other, n_boot=n_boot, seed=seed, start=start,
                     count=end - start)
    return result, Page(result.rows, number, pages, result.questions)


@dataclass(frozen=True)
class Tally:
    """Over the user's scored questions that have a crowd score: how often the user's
    Brier beat the crowd's, lost to it, or tied."""

    won: int
    lost: int
    tied: int


def against_crowd(session: Session, user: User, *, n_boot: int, seed: int) -> Tally:
    """The user's won/lost/tied tally against the crowd: on Brier, and on CRPS over
    numeric and date questions (which have no Brier)."""
    pairs, _ = _summary(session, user, None, n_boot, seed)
    _, mine, crowd = fetch_columns(session, select(QuestionScore.question_id, QuestionScore.crps,
                                                   CrowdScore.crps)
                                   .join(CrowdScore, CrowdScore.question_id == QuestionScore.question_id)
                                   .where(QuestionScore.user_id == user.id,
                                          QuestionScore.crps.is_not(None),
                                          CrowdScore.crps.is_not(None)),
                                   (np.int64, np.float64, np.float64))
    marks = np.concatenate([better(pairs.a["brier"], pairs.b["brier"], higher_is_better=False),
                            better(mine, crowd, higher_is_better=False)])
    return Tally(int((marks == "a").sum()), int((marks == "b").sum()),
                 int((marks == "tie").sum()))


def crowd_mark(mine: float | None, crowd: float | None) -> str | None:
    """"won", "lost" or "tied" for one question's Brier (a numeric or date question's
    CRPS) against the crowd's; None without a crowd score."""
    if mine is None or crowd is None:
        return None
    mark = better(np.array([mine]), np.array([crowd]), higher_is_better=False)[0]
    return {"a": "won", "b": "lost", "tie": "tied"}[str(mark)]
