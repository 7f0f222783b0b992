"""Checking a bundle's forecast rows in arrays (a million rows in a few seconds).

Every row is first tested by conservative array checks that only pass rows in the common,
plainly valid shape (known question and user, a `...Z` timestamp inside the window, float
probabilities within bounds, a vector that already sums to 1, a numeric or date
question's CDF of 201 floats that passes SPEC §11's rules checked on all such rows at
once, then stored by cdf.encode). Rows that do not pass go
through the row-by-row check the import has always used, in row order, so the first bad
row raises exactly the error it raised before, and unusual but valid rows (a `+02:00`
offset, a vector to normalise) come out the same as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from forecasts import cdf as cdf_codec
from forecasts.errors import ForecastsError
from forecasts.models import CONTINUOUS_KINDS
from forecasts.services import forecasts as forecast_rules
from forecasts.services.users import check_username

FIELDS = frozenset({"question", "user", "at", "probability", "probabilities", "cdf",
                    "rationale"})
_PLAIN_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{6})?Z").fullmatch
# A vector whose float sum is this close to 1 has an exact sum within the import's
# "keep as given" tolerance (forecasts._EXACT_SUM, 1e-12); others take the row path.
_PLAIN_SUM = 1e-13
_EMPTY: dict[str, Any] = {}


@dataclass(frozen=True)
class QuestionInfo:
    """What a forecast row is checked against: the question's kind, options and window."""

    kind: str
    n_options: int
    open_us: int
    close_us: int
    open_lower: bool = False  # numeric and date questions: the open sides
    open_upper: bool = False


@dataclass
class CheckedForecasts:
    """Validated rows as columns: question slug, user name, time (UTC microseconds),
    probability (binary), probabilities (multiple choice) or the stored CDF (numeric and
    date: cdf.encode's bytes), rationale."""

    question: list[str]
    user: list[str]
    at: np.ndarray
    probability: list[float | None]
    probabilities: list[list[float] | None]
    rationale: list[str | None]
    cdf: list[bytes | None]

    def __len__(self) -> int:
        return len(self.question)


def check_forecasts(entries: list, questions: Mapping[str, QuestionInfo],
                    check_row: Callable[[object, int], dict[str, Any]]) -> CheckedForecasts:
    """All rows validated; `check_row(entry, i)` is the row-by-row check (it raises
    the row's error, or returns its normalised values as a dict with `at` in UTC)."""
    n = len(entries)
    rows = [e if type(e) is dict else _EMPTY for e in entries]
    slow = np.fromiter((type(e) is not dict or not e.keys() <= FIELDS for e in entries), bool, n)

    slugs = list(questions)
    position = {s: i for i, s in enumerate(slugs)}
    kind2 = np.array([questions[s].kind == "binary" for s in slugs] + [False], bool)
    n_options = np.array([questions[s].n_options for s in slugs] + [0], np.int64)
    open_us = np.array([questions[s].open_us for s in slugs] + [0], np.int64)
    close_us = np.array([questions[s].close_us for s in slugs] + [0], np.int64)
    question = [e.get("question") for e in rows]
    q = np.fromiter((position.get(s, -1) if type(s) is str else -1 for s in question), np.int64, n)
    slow |= q < 0
    continuous = np.array([questions[s].kind in CONTINUOUS_KINDS for s in slugs] + [False], bool)
    cont = continuous[q] & (q >= 0)
    has_cdf = np.fromiter((e.get("cdf") is not None for e in rows), bool, n)
    slow |= has_cdf & ~cont

    user = [e.get("user") for e in rows]
    names = {u for u in user if type(u) is str}
    good_names = set()
    for name in names:
        try:
            good_names.add(check_username(name))
        except ForecastsError:
            pass
    slow |= np.fromiter((u not in good_names if type(u) is str else True for u in user), bool, n)

    at_text = [e.get("at") for e in rows]
    plain_time = np.fromiter((type(t) is str and _PLAIN_TIME(t) is not None for t in at_text),
                             bool, n)
    slow |= ~plain_time
    at = np.zeros(n, np.int64)
    try:
        at[plain_time] = np.array([t[:-1] for t, ok in zip(at_text, plain_time.tolist()) if ok],
                                  dtype="datetime64[us]").astype(np.int64)
    except ValueError:  # some plain-looking text is no date (month 13): check every row
        slow[:] = True
    slow |= (at < open_us[q]) | (at >= close_us[q])

    # Binary rows: a float probability within bounds and no vector.
    binary = kind2[q] & (q >= 0)
    p_value = [e.get("probability") for e in rows]
    p = np.fromiter((v if type(v) is float else np.nan for v in p_value), np.float64, n)
    has_vector = np.fromiter((e.get("probabilities") is not None for e in rows), bool, n)
    in_bounds = (p >= forecast_rules.P_MIN) & (p <= forecast_rules.P_MAX)
    slow |= binary & (~in_bounds | has_vector)

    cdf = _plain_cdfs(rows, cont, q, slow, has_vector | np.fromiter(
        (v is not None for v in p_value), bool, n), questions, slugs)

    # Multiple-choice rows: a list of floats, one per option, within bounds, summing to 1.
    choice = ~kind2[q] & ~cont & (q >= 0)
    slow |= choice & np.fromiter((v is not None for v in p_value), bool, n)
    vectors: list[Any] = [e.get("probabilities") for e in rows]
    for k in np.unique(n_options[q[choice]]).tolist():
        idx = np.flatnonzero(choice & (n_options[q] == k) & ~slow)
        shaped = [type(v) is list and len(v) == k and all(type(x) is float for x in v)
                  for v in (vectors[i] for i in idx.tolist())]
        shaped_mask = np.array(shaped, bool)
        slow[idx[~shaped_mask]] = True
        idx = idx[shaped_mask]
        if len(idx):
            values = np.array([vectors[i] for i in idx.tolist()], np.float64).reshape(len(idx), k)
            ok = (np.all((values >= forecast_rules.P_MIN) & (values <= forecast_rules.P_MAX), axis=1)
                  & (np.abs(values.sum(axis=1) - 1.0) <= _PLAIN_SUM))
            slow[idx[~ok]] = True

    rationale: list[Any] = [e.get("rationale") for e in rows]
    for i, text in enumerate(rationale):
        if text is None or text == "":
            rationale[i] = None
        elif not slow[i]:
            try:
                forecast_rules.check_rationale(text)
            except ForecastsError:
                slow[i] = True

    probability: list[Any] = [v if b else None for v, b in zip(p.tolist(), binary.tolist())]
    for i in np.flatnonzero(choice).tolist():
        probability[i] = None
    for i in np.flatnonzero(binary | cont).tolist():
        vectors[i] = None
    for i in np.flatnonzero(cont).tolist():
        probability[i] = None
    for i in np.flatnonzero(slow).tolist():  # in row order: the first bad row raises
        checked = check_row(entries[i], i)
        cdf[i] = checked.get("cdf")
        question[i], user[i] = checked["question"], checked["user"]
        at[i] = checked["at_us"]
        probability[i], vectors[i] = checked["probability"], checked["probabilities"]
        rationale[i] = checked["rationale"]
    return CheckedForecasts(question, user, at, probability, vectors, rationale, cdf)


def _plain_cdfs(rows: list, cont: np.ndarray, q: np.ndarray, slow: np.ndarray,
                has_probability: np.ndarray, questions: Mapping[str, QuestionInfo],
                slugs: list[str]) -> list[bytes | None]:
    """The stored CDF of each plain numeric or date row (SPEC §11's rules on all of them
    at once, as cdf.validate_cdf reads them), None elsewhere; marks the other rows of
    those questions slow (in place), so that the row path names their error."""
    out: list[bytes | None] = [None] * len(rows)
    slow |= cont & has_probability
    idx = np.flatnonzero(cont & ~slow)
    if not len(idx):
        return out
    numbers = {float, int}
    values = [rows[i].get("cdf") for i in idx.tolist()]
    shaped = np.array([type(v) is list and len(v) == cdf_codec.POINTS
                       and set(map(type, v)) <= numbers for v in values], bool)
    slow[idx[~shaped]] = True
    idx = idx[shaped]
    if not len(idx):
        return out
    f = np.array([rows[i]["cdf"] for i in idx.tolist()], np.float64)
    lower = np.array([questions[s].open_lower for s in slugs], bool)[q[idx]]
    upper = np.array([questions[s].open_upper for s in slugs], bool)[q[idx]]
    first, last = f[:, 0], f[:, -1]
    ok = (np.isfinite(f).all(axis=1) & ((f >= 0.0) & (f <= 1.0)).all(axis=1)
          & (np.diff(f, axis=1) >= cdf_codec.MIN_BUCKET).all(axis=1)
          & np.where(lower, (first >= cdf_codec.OPEN_MIN) & (first <= cdf_codec.OPEN_MAX),
                     first == 0.0)
          & np.where(upper, last <= cdf_codec.OPEN_MAX, last == 1.0))
    slow[idx[~ok]] = True
    for i, row in zip(idx[ok].tolist(), f[ok]):
        try:
            out[i] = cdf_codec.encode(row)
        except ForecastsError:  # not expected: the row path then names the error
            slow[i] = True
    return out
