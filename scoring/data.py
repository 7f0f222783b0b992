"""Input tables of the engine: questions and forecasts as parallel arrays.

Times are int64 in any unit (the app uses microseconds since the epoch); the
engine only takes differences and ratios of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as v


def _set(obj, **fields):
    for name, value in fields.items():
        object.__setattr__(obj, name, value)


@dataclass(frozen=True, eq=False)
class Questions:
    """Question arrays of length Q (SPEC section 5).

    ``end_at`` is T1 = min(close_at, known_at), computed by the caller;
    ``outcome`` is the 0-based index of the realised option, -1 when the
    question is not scored (annulled or unresolved); ``n_options`` is 2 for a
    binary question (option 1 = yes); RPS is computed only where ``ordered``.
    """

    open_at: np.ndarray
    close_at: np.ndarray
    end_at: np.ndarray
    outcome: np.ndarray
    n_options: np.ndarray
    ordered: np.ndarray

    def __post_init__(self):
        open_at = v.int_array("open_at", self.open_at)
        q = open_at.size
        close_at = v.int_array("close_at", self.close_at)
        end_at = v.int_array("end_at", self.end_at)
        outcome = v.int_array("outcome", self.outcome)
        n_options = v.int_array("n_options", self.n_options)
        ordered = v.bool_array("ordered", self.ordered)
        for name, a in (("close_at", close_at), ("end_at", end_at),
                        ("outcome", outcome), ("n_options", n_options),
                        ("ordered", ordered)):
            v.same_length(name, a, q, "open_at")
        if (close_at <= open_at).any():
            v.fail_at("close_at", close_at <= open_at, close_at, "must be after open_at")
        if (end_at > close_at).any():
            v.fail_at("end_at", end_at > close_at, end_at, "must not be after close_at")
        v.in_range("n_options", n_options, 2, np.iinfo(np.int64).max, "must be >= 2")
        v.in_range("outcome", outcome, -1, n_options,
                   "must be -1 (not scored) or an option index below n_options")
        _set(self, open_at=open_at, close_at=close_at, end_at=end_at,
             outcome=outcome, n_options=n_options, ordered=ordered)

    def __len__(self):
        return self.open_at.size


@dataclass(frozen=True, eq=False)
class Forecasts:
    """Forecast arrays of length N in record order (database id order).

    ``probs`` is flat: forecast i's n_options[question[i]] probabilities stand
    consecutively, in forecast order. Lengths against the questions are
    checked by the functions that receive both.
    """

    question: np.ndarray
    user: np.ndarray
    at: np.ndarray
    probs: np.ndarray

    def __post_init__(self):
        question = v.int_array("question", self.question)
        n = question.size
        user = v.int_array("user", self.user)
        at = v.int_array("at", self.at)
        probs = v.probabilities("probs", self.probs)
        v.same_length("user", user, n, "question")
        v.same_length("at", at, n, "question")
        v.in_range("question", question, 0, np.iinfo(np.int64).max, "must be >= 0")
        v.in_range("user", user, 0, np.iinfo(np.int64).max, "must be >= 0")
        _set(self, question=question, user=user, at=at, probs=probs)

    def __len__(self):
        return self.question.size

    @classmethod
    def from_binary(cls, question, user, at, p_yes):
        """Binary forecasts from P(yes), stored as [1 - p_yes, p_yes]."""
        p = v.float_array("p_yes", p_yes, finite=False)
        bad = ~((p > 0.0) & (p < 1.0))
        if bad.any():
            v.fail_at("p_yes", bad, p, "must be finite and strictly between 0 and 1")
        return cls(question, user, at, np.column_stack((1.0 - p, p)).ravel())

    @classmethod
    def from_vectors(cls, question, user, at, vectors):
        """Forecasts from a sequence of probability vectors (ragged allowed)."""
        try:
            rows = [np.asarray(r, dtype=np.float64).ravel() for r in vectors]
        except (TypeError, ValueError) as exc:
            raise ValueError(f"vectors: not rows of numbers ({exc})") from None
        flat = np.concatenate(rows) if rows else np.zeros(0)
        return cls(question, user, at, flat)


def flat_offsets(n_options: np.ndarray, forecasts: Forecasts, check_sums=True) -> np.ndarray:
    """Validate forecasts against per-question option counts; return row offsets.

    With ``check_sums``, every row must also sum to 1 within 1e-6.
    """
    question = forecasts.question
    v.in_range("question", question, 0, n_options.size,
               f"must be a question index below {n_options.size}")
    k = n_options[question]
    offsets = np.zeros(question.size + 1, dtype=np.int64)
    np.cumsum(k, out=offsets[1:])
    if forecasts.probs.size != offsets[-1]:
        raise ValueError(
            f"probs: length {forecasts.probs.size} does not match the "
            f"{offsets[-1]} probabilities the forecasts' questions call for"
        )
    if check_sums:
        v.row_sums("probs", forecasts.probs, offsets)
    return offsets
